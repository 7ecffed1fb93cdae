import Foundation
import VAETensor

/// Joint VAE (`joint-vae`, Dupont 2018): a Gaussian latent (`latent_size`) and Gumbel-Softmax categorical
/// latents (`categorical_size` × `categories`) decoded together, trained with one controlled capacity for each:
///
///     reconstruction + γ·|KL_continuous − C_z| + γ·|KL_discrete − C_c|
///
/// C_z grows to `capacity_max` over `capacity_steps`, C_c to `discrete_capacity_max` over
/// `discrete_capacity_steps` (capped at N·log K, the most a uniform prior lets the codes carry), both weighted by
/// `gamma`. Layers, relaxation and evaluation are ``CategoricalVAE``'s; only the objective differs. Logged:
/// `reconstruction`, `kl`, `kl_continuous`, `kl_discrete`, `capacity_penalty` (the sum of both penalties).
public final class JointVAE: CategoricalVAE {
    public override init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        guard specification.latentSize >= 1 else {
            throw ModelError("model_params.latent_size: joint-vae needs a Gaussian part (latent_size >= 1); use categorical-vae for codes alone")
        }
        try super.init(specification, random: &random)
    }

    public var continuousCapacity: CapacitySchedule {
        let objective = specification.objective
        return CapacitySchedule(maximum: objective.capacityMax, steps: objective.capacitySteps, gamma: objective.gamma)
    }

    public var discreteCapacity: CapacitySchedule {
        let objective = specification.objective
        let ceiling = Double(variables) * Foundation.log(Double(categories))
        return CapacitySchedule(maximum: min(objective.discreteCapacityMax, ceiling),
                                steps: objective.discreteCapacitySteps, gamma: objective.gamma)
    }

    override public var lossSplitsOverRows: Bool { false }

    override public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        let terms = relaxedTerms(input, context: context)
        let reconstruction = terms.reconstruction.mean()
        let continuous = terms.continuousKL!.mean()
        let discrete = terms.discreteKL.mean()
        let penalty = continuousCapacity.penalty(continuous, step: context.step)
            + discreteCapacity.penalty(discrete, step: context.step)
        return LossTerms(total: reconstruction + penalty,
                         terms: [("reconstruction", reconstruction), ("kl", continuous + discrete),
                                 ("kl_continuous", continuous), ("kl_discrete", discrete), ("capacity_penalty", penalty)])
    }
}
