import VAETensor

/// β-VAE (`beta-vae`): the MLP VAE with a reweighted KL term.
///
/// - Higgins et al. 2017: minimise reconstruction + β·KL (`beta`; β > 1 trades reconstruction for a more
///   factorised code, β = 1 is the ELBO).
/// - Burgess et al. 2018 (when `capacity_max` > 0): minimise reconstruction + γ·|KL − C|, where the capacity C
///   grows linearly from 0 to C_max nats over `capacity_steps` optimiser steps (``LossContext/step``), so the
///   code is allowed to carry more information as training goes on.
///
/// Layers and parameter names are ``MLPVAE``'s; only the objective differs. Logged terms, each to minimise:
/// `reconstruction`, `kl` (unweighted, ≥ 0) and `weighted_kl` (β·KL) or `capacity_penalty` (γ·|KL − C|).
///
/// ```yaml
/// model_params: {name: beta-vae, beta: 4}                                            # Higgins
/// model_params: {name: beta-vae, capacity_max: 25, capacity_steps: 100000, gamma: 1000}  # Burgess
/// ```
public final class BetaVAE: MLPVAE {
    public var objective: ObjectiveSettings { specification.objective }
    public var usesCapacity: Bool { objective.capacityMax > 0 }
    /// γ·|KL − C| penalises the batch-mean KL, which is not a mean of per-row terms.
    override public var lossSplitsOverRows: Bool { !usesCapacity }

    public var capacitySchedule: CapacitySchedule {
        CapacitySchedule(maximum: objective.capacityMax, steps: objective.capacitySteps, gamma: objective.gamma)
    }

    /// C at an optimiser step: C_max·min(1, step / capacity_steps), in nats.
    public func capacity(atStep step: Int) -> Double { capacitySchedule.capacity(atStep: step) }

    override public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        guard usesCapacity else {
            let beta = Float(objective.beta)
            var terms = elboLoss(input, context: context, klWeight: beta)
            terms.terms.append(("weighted_kl", terms.terms[1].value * beta))
            return terms
        }
        let (reconstruction, kl) = negativeELBO(input, noise: &context.noise)
        let (meanReconstruction, meanKL) = (reconstruction.mean(), kl.mean())
        let penalty = capacitySchedule.penalty(meanKL, step: context.step)
        return LossTerms(total: meanReconstruction + penalty,
                         terms: [("reconstruction", meanReconstruction), ("kl", meanKL), ("capacity_penalty", penalty)])
    }
}
