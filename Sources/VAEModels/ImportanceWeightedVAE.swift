import Foundation
import VAETensor

/// IWAE (`iwae`, Burda et al. 2016) and MIWAE (`miwae`, Rainforth et al. 2018): the MLP VAE trained on the
/// importance-weighted bound instead of the ELBO.
///
/// For each image, M·K latents are drawn from q(z|x); each group of K gives
/// IWAE_K = log (1/K) Σ_k p(x, z_k) / q(z_k|x) (by logSumExp over ``logImportanceWeights(_:samples:noise:)``),
/// and the loss is minus the mean of the M·batch bounds. M = 1 is IWAE (`importance_samples` = K),
/// K = 1 is a VAE averaged over M samples, K = 1 and M = 1 is the one-sample ELBO with a sampled KL.
///
/// The one logged term is `negative_iwae_bound` (= the total, to minimise). There is no separate
/// `reconstruction`/`kl` split of this objective; the trainer's test columns stay the one-sample −ELBO of
/// ``negativeELBO(_:noise:)`` so that runs of every model compare, and `vae eval -k` measures the NLL.
public final class ImportanceWeightedVAE: MLPVAE {
    public var importanceSamples: Int { specification.objective.importanceSamples }
    public var importanceGroups: Int { specification.objective.importanceGroups }

    public override init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        let objective = specification.objective
        guard objective.importanceSamples >= 1 else {
            throw ModelError("model_params.importance_samples: expected an integer >= 1, got \(objective.importanceSamples)")
        }
        guard objective.importanceGroups >= 1 else {
            throw ModelError("model_params.importance_groups: expected an integer >= 1, got \(objective.importanceGroups)")
        }
        if specification.name == "iwae" && objective.importanceGroups != 1 {
            throw ModelError("model_params.importance_groups: iwae uses one group (M = 1), got \(objective.importanceGroups); use name: miwae for M × K")
        }
        try super.init(specification, random: &random)
    }

    /// IWAE_K per group, `[batch, M]`.
    public func groupedBounds(_ input: Tensor, noise: inout RandomStream) -> Tensor {
        let (batch, groups, samples) = (input.shape[0], importanceGroups, importanceSamples)
        // Rows are image-major, so each image's M·K weights are contiguous and split into M runs of K.
        let logWeights = logImportanceWeights(input, samples: groups * samples, noise: &noise)
        let bounds = logWeights.reshaped([batch * groups, samples]).logSumExp(alongAxis: 1)
            - Float(Foundation.log(Double(samples)))
        return bounds.reshaped([batch, groups])
    }

    override public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        let negativeBound = -groupedBounds(input, noise: &context.noise).mean()
        return LossTerms(total: negativeBound, terms: [("negative_iwae_bound", negativeBound)])
    }
}
