import VAETensor

/// β-VAE (Higgins et al. 2017): minimise reconstruction + β·KL (`beta`; β > 1 trades reconstruction for a more
/// factorised code, β = 1 is the ELBO). With `capacity_max` > 0 it is Burgess et al. 2018's controlled capacity
/// instead (``CapacityObjective``, every KL part on the `capacity_*` schedule). Logs `weighted_kl` (β·KL).
public struct BetaObjective: Objective {
    public var beta: Double
    public var capacity: CapacitySchedule

    public init(beta: Double, capacity: CapacitySchedule) {
        self.beta = beta
        self.capacity = capacity
    }

    public var usesCapacity: Bool { capacity.maximum > 0 }
    /// γ·|KL − C| penalises the batch-mean KL, which is not a mean of per-row terms.
    public var splitsOverRows: Bool { !usesCapacity }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        if usesCapacity {
            return CapacityObjective(continuous: capacity, discrete: capacity).loss(model, input: input, context: context)
        }
        let terms = MeanTerms(model, input: input, context: context)
        let weight = Float(beta)
        let total = weight == 1 ? terms.reconstruction + terms.kl : terms.reconstruction + terms.kl * weight
        return LossTerms(total: total, terms: terms.logged + [("weighted_kl", terms.kl * weight)])
    }
}

extension BetaObjective {
    public static let beta = Setting<Double>(
        "beta", default: 1, .numbers(atLeast: 0), doc: "weight β of the KL term (Higgins et al. 2017); 1 is the ELBO")

    /// `beta`, and the capacity schedule that replaces it when `capacity_max` > 0.
    public static let part = ObjectivePart(settings: [beta.declaration] + CapacitySchedule.settings) { specification in
        BetaObjective(beta: specification[beta], capacity: CapacitySchedule(specification))
    }
}
