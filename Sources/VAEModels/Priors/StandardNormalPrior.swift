import VAEDistributions
import VAENN
import VAETensor

/// p(z) = N(0, I) (Kingma & Welling 2014): the KL of a diagonal Gaussian posterior from it is in closed form,
/// ½ Σ (μ² + σ² − 1 − log σ²). No parameters.
public final class StandardNormalPrior: Module, LatentPrior {
    public override init() { super.init() }

    public func kl(_ posterior: DiagonalNormal, draw z: Tensor) -> Tensor {
        posterior.klDivergenceFromStandardNormal()
    }

    public func klPerDimension(_ posterior: DiagonalNormal) -> Tensor {
        posterior.klPerDimensionFromStandardNormal()
    }

    public func logProbability(_ z: Tensor) -> Tensor { DiagonalNormal.standardLogProbability(z) }

    public func sample(count: Int, dimensions: Int, random: inout RandomStream) -> Tensor {
        sample(count: count, dimensions: dimensions, random: &random, on: nil)
    }

    /// Drawn on the device itself (`RandomStream.normal(shape:on:)`).
    public func sample(count: Int, dimensions: Int, random: inout RandomStream, on backend: (any TensorBackend)?) -> Tensor {
        random.normal(shape: [count, dimensions], on: backend)
    }
}

extension StandardNormalPrior {
    /// No settings, no weights.
    public static let part = PriorPart(settings: []) { _, _ in StandardNormalPrior() }
}
