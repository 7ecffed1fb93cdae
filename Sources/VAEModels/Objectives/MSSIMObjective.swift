import VAETensor

/// The MS-SSIM VAE (Snell et al. 2017, `mssim-vae`): the reconstruction term is w·(1 − MS-SSIM(x̂, x)) per image on
/// the decoder's mean x̂ (``StructuralSimilarity``; w = `mssim_weight`), plus the KL. Images only (at least 11×11).
/// The likelihood's −log p(x|z) is still logged as `reconstruction` (not minimised) so test columns compare; logs
/// `mssim` (the batch mean of MS-SSIM, to maximise, logged as 1 − MS-SSIM: `mssim_loss`).
public struct MSSIMObjective: Objective {
    public var weight: Double
    /// `[channels, height, width]` of an image.
    public var imageShape: [Int]

    public init(weight: Double, imageShape: [Int]) {
        self.weight = weight
        self.imageShape = imageShape
    }

    public var splitsOverRows: Bool { true }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let shape = [input.shape[0]] + imageShape
        let similarity = StructuralSimilarity().multiScale(terms.likelihood.mean.reshaped(shape), input.reshaped(shape))
        let dissimilarity = (1 - similarity).mean()
        return LossTerms(total: dissimilarity * Float(weight) + terms.kl,
                         terms: terms.logged + [("mssim_loss", dissimilarity)])
    }
}

extension MSSIMObjective {
    public static let weightSetting = Setting<Double>(
        "mssim_weight", default: 1000, .numbers(atLeast: 0),
        doc: "weight w of the reconstruction term w·(1 − MS-SSIM) per image")

    public static let part = ObjectivePart(settings: [weightSetting.declaration]) { specification in
        let shape = specification.inputShape
        guard shape.count == 3, StructuralSimilarity.scales(height: shape[1], width: shape[2]) >= 1 else {
            throw ModelError("model_params.name: mssim-vae compares images of at least 11×11 pixels, got inputs of shape \(shape)")
        }
        return MSSIMObjective(weight: specification[weightSetting], imageShape: shape)
    }
}
