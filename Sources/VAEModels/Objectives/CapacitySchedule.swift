import VAETensor

/// Burgess et al. 2018's controlled capacity: a target KL C that grows linearly from 0 to `maximum` nats over
/// `steps` optimiser steps, and the penalty γ·|KL − C| that pulls the KL towards it. β-VAE's capacity variant
/// uses one; joint-vae one for its continuous and one for its discrete latents (Dupont 2018).
public struct CapacitySchedule: Equatable, Sendable {
    public var maximum: Double
    public var steps: Int
    public var gamma: Double

    public init(maximum: Double, steps: Int, gamma: Double) {
        self.maximum = maximum
        self.steps = steps
        self.gamma = gamma
    }

    /// C at an optimiser step: maximum·min(1, step / steps), in nats (the maximum from the start when steps = 0).
    public func capacity(atStep step: Int) -> Double {
        guard steps > 0 else { return maximum }
        return maximum * min(1, Double(max(step, 0)) / Double(steps))
    }

    /// γ·|kl − C(step)| for a scalar `kl` (a batch mean), differentiable in `kl` (gradient γ·sign).
    public func penalty(_ kl: Tensor, step: Int) -> Tensor {
        // |u| as relu(u) + relu(−u), one of them 0: exactly |u|, and computed where `kl` lives (a sign read on the
        // host would wait for a device).
        let excess = kl - Float(capacity(atStep: step))
        return (excess.relu() + (-excess).relu()) * Float(gamma)
    }
}

extension CapacitySchedule {
    public static let maximumSetting = Setting<Double>(
        "capacity_max", default: 0, .numbers(atLeast: 0),
        doc: "target KL C_max in nats (Burgess et al. 2018); 0 keeps beta-vae's β objective")
    public static let stepsSetting = Setting<Int>(
        "capacity_steps", default: 0, .integers(0...Int.max),
        doc: "optimiser steps over which C grows linearly from 0 to C_max; 0 = C_max throughout")
    public static let gammaSetting = Setting<Double>(
        "gamma", default: 1000, .numbers(atLeast: 0), doc: "weight γ of the capacity penalty γ·|KL − C|")

    /// The continuous schedule: `capacity_max`, `capacity_steps`, `gamma`.
    public static let settings = [maximumSetting.declaration, stepsSetting.declaration, gammaSetting.declaration]

    /// The continuous schedule a specification sets.
    public init(_ specification: ModelSpecification) {
        self.init(maximum: specification[Self.maximumSetting], steps: specification[Self.stepsSetting],
                  gamma: specification[Self.gammaSetting])
    }
}
