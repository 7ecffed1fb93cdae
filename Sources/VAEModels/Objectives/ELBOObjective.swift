import VAETensor

/// The evidence lower bound (Kingma & Welling 2014): minimise reconstruction + KL, the batch mean of −ELBO.
public struct ELBOObjective: Objective {
    public init() {}

    public var splitsOverRows: Bool { true }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        return LossTerms(total: terms.reconstruction + terms.kl, terms: terms.logged)
    }
}

extension ELBOObjective {
    /// No settings.
    public static let part = ObjectivePart(settings: []) { _ in ELBOObjective() }
}
