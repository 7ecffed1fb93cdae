import Foundation
import VAETensor

/// log N(x; μ, σ²) = −½ Σ ((x − μ)²·e^(−log σ²) + log σ² + log 2π), summed over the last axis: one value per row.
/// `logVariance` has the mean's shape or broadcasts against it. Shared by ``DiagonalNormal`` and ``Gaussian``.
func gaussianLogDensity(_ value: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    gaussianLogDensityPerCoordinate(value, mean: mean, logVariance: logVariance).sum(alongAxis: -1)
}

/// The terms of `gaussianLogDensity(_:mean:logVariance:)` before the sum, broadcast over the shapes of `value`,
/// `mean` and `logVariance` (β-TCVAE evaluates every code under every posterior of a batch this way).
public func gaussianLogDensityPerCoordinate(_ value: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    let standardized = (value - mean).squared() * (-logVariance).exp()
    return (standardized + logVariance + Float(Foundation.log(2 * Double.pi))) * -0.5
}
