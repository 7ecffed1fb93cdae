/// A part whose loss changes with the optimiser step: its schedule's values at a step (β, capacities, the KL weight,
/// the Gumbel-Softmax temperature), which the trainer writes to TensorBoard as `schedule/<name>`.
public protocol ScheduledValues {
    func scheduleValues(atStep step: Int) -> [(name: String, value: Double)]
}

extension BetaObjective: ScheduledValues {
    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] {
        usesCapacity ? [("capacity", capacity.capacity(atStep: step))] : [("beta", beta)]
    }
}

extension CapacityObjective: ScheduledValues {
    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] {
        [("capacity", continuous.capacity(atStep: step)), ("discrete_capacity", discrete.capacity(atStep: step))]
    }
}

extension WarmupObjective: ScheduledValues {
    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] {
        [("kl_weight", Double(weight(atStep: step)))]
    }
}

extension CategoricalLatent: ScheduledValues {
    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] {
        [("temperature", Double(schedule.temperature(atStep: step)))]
    }
}

extension ComposedVAE {
    /// The objective's and the latent's schedule values at an optimiser step (empty when neither has a schedule).
    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] {
        ((objective as? ScheduledValues)?.scheduleValues(atStep: step) ?? [])
            + ((latent as? ScheduledValues)?.scheduleValues(atStep: step) ?? [])
    }
}
