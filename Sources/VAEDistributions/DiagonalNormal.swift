import VAETensor

/// A Gaussian with independent coordinates, parameterised by mean and log-variance (rows = batch items,
/// last axis = dimensions). The log-variance form keeps σ² = exp(logVariance) positive without constraints.
public struct DiagonalNormal {
    public let mean: Tensor
    public let logVariance: Tensor

    public init(mean: Tensor, logVariance: Tensor) {
        precondition(mean.shape == logVariance.shape,
                     "DiagonalNormal: mean \(mean.shape) and log-variance \(logVariance.shape) differ")
        self.mean = mean
        self.logVariance = logVariance
    }

    /// The standard normal N(0, I) of `shape`.
    public static func standard(shape: [Int]) -> DiagonalNormal {
        DiagonalNormal(mean: .zeros(shape), logVariance: .zeros(shape))
    }

    /// log N(z; 0, I) summed over the last axis, with the mean and log-variance as constants (0) instead of tensors of
    /// z's shape: the values of `standard(shape: z.shape).logProbability(z)`, bit for bit, and on a device nothing
    /// copied there (one kernel each way).
    public static func standardLogProbability(_ z: Tensor) -> Tensor {
        .gaussianLogDensity(z, mean: Tensor(0), logVariance: Tensor(0))
    }

    public var standardDeviation: Tensor { (logVariance * 0.5).exp() }

    /// A reparameterised draw z = μ + σ·ε with ε ~ N(0, I) from `random`: gradients flow to μ and log σ². ε is
    /// drawn where the mean lives (on a device: the same numbers within its rounding of log, cos and sin).
    public func sample(using random: inout RandomStream) -> Tensor {
        sample(noise: random.normal(shape: mean.shape, on: mean.backend))
    }

    /// z = μ + σ·ε for a given ε (shape of the mean).
    public func sample(noise: Tensor) -> Tensor { .reparameterizedSample(mean: mean, logVariance: logVariance, noise: noise) }

    /// log N(z; μ, σ²) summed over the last axis: one value per row.
    public func logProbability(_ value: Tensor) -> Tensor {
        gaussianLogDensity(value, mean: mean, logVariance: logVariance)
    }

    /// KL(self ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²), per row. Always ≥ 0.
    public func klDivergenceFromStandardNormal() -> Tensor { klPerDimensionFromStandardNormal().sum(alongAxis: -1) }

    /// ½(μ² + σ² − 1 − log σ²) per coordinate: the KL to N(0, I) before the sum over dimensions.
    public func klPerDimensionFromStandardNormal() -> Tensor {
        .standardNormalKL(mean: mean, logVariance: logVariance)
    }

    /// The distribution of each row repeated `times` times in a row (an image's importance samples together).
    public func repeatingEachRow(_ times: Int) -> DiagonalNormal {
        DiagonalNormal(mean: mean.repeatingEachRow(times), logVariance: logVariance.repeatingEachRow(times))
    }

    /// KL(self ‖ other) = ½ Σ (log σ₂² − log σ₁² + (σ₁² + (μ₁ − μ₂)²)/σ₂² − 1), per row.
    public func klDivergence(from other: DiagonalNormal) -> Tensor {
        klPerDimension(from: other).sum(alongAxis: -1)
    }

    /// KL(self ‖ other) per coordinate, before the sum over the last axis.
    public func klPerDimension(from other: DiagonalNormal) -> Tensor {
        let ratio = (logVariance.exp() + (mean - other.mean).squared()) * (-other.logVariance).exp()
        return (other.logVariance - logVariance + ratio - 1) * 0.5
    }

    /// The normalised product of two Gaussian factors of one variable, N(μ₁, σ₁²)·N(μ₂, σ₂²) ∝ N(μ, σ²) with
    /// precision σ⁻² = σ₁⁻² + σ₂⁻² and μ = σ²(μ₁σ₁⁻² + μ₂σ₂⁻²): the ladder VAE's precision-weighted merge. Written
    /// with s = σ₁⁻²/(σ₁⁻² + σ₂⁻²) = sigmoid(log σ₂² − log σ₁²), so that no variance is inverted:
    /// μ = s·μ₁ + (1 − s)·μ₂ and log σ² = log σ₁² + log s = log σ₁² − softplus(log σ₁² − log σ₂²).
    public func precisionWeighted(with other: DiagonalNormal) -> DiagonalNormal {
        let difference = logVariance - other.logVariance
        let share = (-difference).sigmoid()
        return DiagonalNormal(mean: share * mean + (1 - share) * other.mean,
                              logVariance: logVariance - difference.softplus())
    }
}
