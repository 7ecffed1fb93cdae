import VAETensor

/// Controlled capacity (Burgess et al. 2018; per latent part, Dupont 2018): minimise
///
///     reconstruction + Σ_parts γ·|KL_part − C_part(step)|
///
/// where each C grows linearly to its maximum (``CapacitySchedule``): continuous parts follow `capacity_max` over
/// `capacity_steps`, discrete parts `discrete_capacity_max` over `discrete_capacity_steps`, capped at what the part
/// can carry (N·log K for N uniform K-way codes). Logs `capacity_penalty` (the sum of the penalties).
public struct CapacityObjective: Objective {
    public var continuous: CapacitySchedule
    public var discrete: CapacitySchedule

    public init(continuous: CapacitySchedule, discrete: CapacitySchedule) {
        self.continuous = continuous
        self.discrete = discrete
    }

    /// The penalties are on batch-mean KLs, which are not means of per-row terms.
    public var splitsOverRows: Bool { false }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let penalties = terms.parts.map { part, mean -> Tensor in
            var schedule = part.kind == .continuous ? continuous : discrete
            if let ceiling = part.ceiling { schedule.maximum = min(schedule.maximum, ceiling) }
            return schedule.penalty(mean, step: context.step)
        }
        let penalty = penalties.dropFirst().reduce(penalties[0], +)
        return LossTerms(total: terms.reconstruction + penalty, terms: terms.logged + [("capacity_penalty", penalty)])
    }
}

extension CapacityObjective {
    public static let discreteMaximum = Setting<Double>(
        "discrete_capacity_max", default: 0, .numbers(atLeast: 0),
        doc: "target KL of the discrete latents in nats (Dupont 2018), capped at what they can carry")
    public static let discreteSteps = Setting<Int>(
        "discrete_capacity_steps", default: 0, .integers(0...Int.max),
        doc: "optimiser steps over which the discrete capacity grows; 0 = from the start")

    /// The continuous schedule, then the discrete one (same γ).
    public static let part = ObjectivePart(
        settings: CapacitySchedule.settings + [discreteMaximum.declaration, discreteSteps.declaration]
    ) { specification in
        let continuous = CapacitySchedule(specification)
        return CapacityObjective(
            continuous: continuous,
            discrete: CapacitySchedule(maximum: specification[discreteMaximum], steps: specification[discreteSteps],
                                       gamma: continuous.gamma))
    }
}
