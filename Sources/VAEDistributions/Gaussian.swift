import VAETensor

/// Independent Gaussian observations with a mean per element and a shared log-variance (a scalar tensor, or
/// any shape that broadcasts against the mean). log p(x) = −½ Σ ((x − μ)²·e^(−log σ²) + log σ² + log 2π).
/// With σ² fixed this is the "MSE" decoder: −log p = ‖x − μ‖²/(2σ²) + const.
public struct Gaussian: Likelihood {
    public let mean: Tensor
    public let logVariance: Tensor

    public init(mean: Tensor, logVariance: Tensor) {
        self.mean = mean
        self.logVariance = logVariance
    }

    public func logProbability(_ value: Tensor) -> Tensor {
        gaussianLogDensity(value, mean: mean, logVariance: logVariance)
    }

    /// −log p(x), the negation of ``logProbability(_:)``, one op (one kernel each way on a device for a fixed variance).
    public func negativeLogProbability(_ value: Tensor) -> Tensor {
        Tensor.gaussianLogDensity(value, mean: mean, logVariance: logVariance, negated: true)
    }

    public static var dataRange: ClosedRange<Float> { -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude }
}
