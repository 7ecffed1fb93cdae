import VAETensor

/// IWAE (Burda et al. 2016) and MIWAE (Rainforth et al. 2018): minimise minus the importance-weighted bound.
///
/// For each image, M·K latents are drawn from q(z|x); each group of K gives
/// IWAE_K = log (1/K) Σ_k p(x, z_k) / q(z_k|x), and the loss is minus the mean of the M·batch bounds. M = 1 is IWAE
/// (`importance_samples` = K), K = 1 a VAE averaged over M samples. The one logged term is `negative_iwae_bound`;
/// the trainer's test columns stay the one-sample −ELBO so that runs of every model compare.
public struct ImportanceWeightedObjective: Objective {
    public var samples: Int
    public var groups: Int

    public init(samples: Int, groups: Int) throws {
        guard samples >= 1 else {
            throw ModelError("model_params.importance_samples: expected an integer >= 1, got \(samples)")
        }
        guard groups >= 1 else {
            throw ModelError("model_params.importance_groups: expected an integer >= 1, got \(groups)")
        }
        self.samples = samples
        self.groups = groups
    }

    public var splitsOverRows: Bool { true }

    /// IWAE_K per group, `[batch, M]`.
    public func groupedBounds(_ model: ComposedVAE, input: Tensor, noise: inout RandomStream) -> Tensor {
        let batch = input.shape[0]
        // Rows are image-major, so each image's M·K weights are contiguous and split into M runs of K.
        let logWeights = model.logImportanceWeights(input, samples: groups * samples, noise: &noise)
        return logWeights.reshaped([batch * groups, samples]).logMeanExp(alongAxis: 1).reshaped([batch, groups])
    }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let negativeBound = -groupedBounds(model, input: input, noise: &context.noise).mean()
        return LossTerms(total: negativeBound, terms: [("negative_iwae_bound", negativeBound)])
    }
}

extension ImportanceWeightedObjective {
    public static let samplesSetting = Setting<Int>(
        "importance_samples", default: 1, .integers(1...100_000), doc: "importance samples K per group")
    public static let groupsSetting = Setting<Int>(
        "importance_groups", default: 1, .integers(1...10_000),
        doc: "groups M of K samples whose bounds are averaged (MIWAE)")

    /// IWAE: `importance_samples` only (M = 1).
    public static let iwae = ObjectivePart(settings: [samplesSetting.declaration]) { specification in
        try ImportanceWeightedObjective(samples: specification[samplesSetting], groups: 1)
    }

    /// MIWAE: `importance_samples` and `importance_groups`.
    public static let miwae = ObjectivePart(settings: [samplesSetting.declaration, groupsSetting.declaration]) {
        specification in
        try ImportanceWeightedObjective(samples: specification[samplesSetting], groups: specification[groupsSetting])
    }
}
