import VAETensor

/// InfoVAE (Zhao, Song & Ermon 2017, `info-vae`): minimise reconstruction + (1 − α)·KL + (α + λ − 1)·MMD(q(z) ‖ p(z)),
/// the ELBO with the KL re-weighted and the aggregate posterior pulled to the prior by an MMD term
/// (``MaximumMeanDiscrepancy``; α = `alpha`, λ = `mmd_weight`). α = 0, λ = 1 is the ELBO. Logs `mmd`.
public struct InfoObjective: Objective {
    public var alpha: Double
    public var lambda: Double
    public var mmd: MaximumMeanDiscrepancy

    public init(alpha: Double, lambda: Double, mmd: MaximumMeanDiscrepancy) {
        self.alpha = alpha
        self.lambda = lambda
        self.mmd = mmd
    }

    /// The MMD compares rows of the whole batch.
    public var splitsOverRows: Bool { false }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let prior = model.samplePrior(count: terms.code.shape[0], random: &context.noise, beside: terms.code)
        let discrepancy = mmd(terms.code, prior)
        let total = terms.reconstruction + terms.kl * Float(1 - alpha) + discrepancy * Float(alpha + lambda - 1)
        return LossTerms(total: total, terms: terms.logged + [("mmd", discrepancy)])
    }
}

extension InfoObjective {
    public static let alphaSetting = Setting<Double>(
        "alpha", default: 0, .numbers(NumberRange(above: -1e6, atMost: 1)),
        doc: "InfoVAE's α: the KL is weighted by 1 − α and the MMD by α + λ − 1")

    /// `alpha` and the MMD's `kernel`, `latent_var`, `mmd_weight` (λ).
    public static let part = ObjectivePart(settings: [alphaSetting.declaration] + MaximumMeanDiscrepancy.settings) {
        specification in
        InfoObjective(alpha: specification[alphaSetting], lambda: specification[MaximumMeanDiscrepancy.weightSetting],
                      mmd: MaximumMeanDiscrepancy(specification))
    }
}
