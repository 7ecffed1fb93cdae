import VAETensor

/// Wasserstein autoencoders (Tolstikhin et al. 2018, `wae-mmd`) and sliced-Wasserstein autoencoders (Kolouri et al.
/// 2019, `swae`): minimise reconstruction + λ·D(q(z), p(z)), where D compares the batch's codes with as many draws
/// from the prior: the MMD (``MaximumMeanDiscrepancy``) or the sliced Wasserstein distance (``SlicedWasserstein``).
/// The KL is logged (not minimised), so the test columns stay comparable −ELBOs. Logs `mmd` or `sliced_wasserstein`.
public struct WassersteinObjective: Objective {
    public enum Divergence: Sendable, Equatable {
        case mmd(MaximumMeanDiscrepancy)
        case slicedWasserstein(SlicedWasserstein)
    }

    public var divergence: Divergence
    /// λ.
    public var weight: Double

    public init(divergence: Divergence, weight: Double) {
        self.divergence = divergence
        self.weight = weight
    }

    /// The divergence compares rows of the whole batch: not a mean of per-row terms.
    public var splitsOverRows: Bool { false }

    /// D(codes, prior draws) and its log name; the prior draws (and the directions) come from the context's noise.
    public func divergence(_ model: ComposedVAE, codes: Tensor, context: LossContext) -> (name: String, value: Tensor) {
        let prior = model.samplePrior(count: codes.shape[0], random: &context.noise, beside: codes)
        switch divergence {
        case .mmd(let mmd): return ("mmd", mmd(codes, prior))
        case .slicedWasserstein(let distance): return ("sliced_wasserstein", distance(codes, prior, random: &context.noise))
        }
    }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let (name, value) = divergence(model, codes: terms.code, context: context)
        return LossTerms(total: terms.reconstruction + value * Float(weight), terms: terms.logged + [(name, value)])
    }
}

extension WassersteinObjective {
    /// `kernel`, `latent_var`, `mmd_weight`.
    public static let mmd = ObjectivePart(settings: MaximumMeanDiscrepancy.settings) { specification in
        WassersteinObjective(divergence: .mmd(MaximumMeanDiscrepancy(specification)),
                             weight: specification[MaximumMeanDiscrepancy.weightSetting])
    }

    /// `projections`, `wasserstein_power`, `sw_weight`.
    public static let sliced = ObjectivePart(settings: SlicedWasserstein.settings) { specification in
        WassersteinObjective(
            divergence: .slicedWasserstein(SlicedWasserstein(projections: specification[SlicedWasserstein.projectionsSetting],
                                                             power: specification[SlicedWasserstein.powerSetting])),
            weight: specification[SlicedWasserstein.weightSetting])
    }
}
