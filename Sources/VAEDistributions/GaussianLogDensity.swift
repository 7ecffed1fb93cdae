import VAETensor

/// log N(x; μ, σ²) = −½ Σ ((x − μ)²·e^(−log σ²) + log σ² + log 2π), summed over the last axis: one value per row.
/// `logVariance` has the mean's shape or broadcasts against it. Shared by ``DiagonalNormal`` and ``Gaussian``.
func gaussianLogDensity(_ value: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    Tensor.gaussianLogDensity(value, mean: mean, logVariance: logVariance)
}

/// The terms of `gaussianLogDensity(_:mean:logVariance:)` before the sum, broadcast over the shapes of `value`,
/// `mean` and `logVariance` (β-TCVAE evaluates every code under every posterior of a batch this way).
public func gaussianLogDensityPerCoordinate(_ value: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    Tensor.gaussianLogDensityTerms(value, mean: mean, logVariance: logVariance)
}
