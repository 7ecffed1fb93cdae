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

    /// γ·|kl − C(step)| for a scalar `kl` (a batch mean), differentiable in `kl`.
    public func penalty(_ kl: Tensor, step: Int) -> Tensor {
        let capacity = Float(capacity(atStep: step))
        // The derivative of |u| is sign(u); VAETensor has no abs op.
        let sign: Float = kl.scalar >= capacity ? 1 : -1
        return (kl - capacity) * (sign * Float(gamma))
    }
}
