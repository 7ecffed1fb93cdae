import Foundation

// The elementwise chains every Gaussian latent runs each step, the reparameterised draw and the KL to N(0, I), and
// the Gaussian decoder's log-density, as single ops: on the host they are the same `Tensor` arithmetic as written out
// (the same values, bit for bit); on a device each is one kernel forward and one backward instead of a launch per
// operator (docs/cuda.md).

extension Tensor {
    /// z = μ + exp(½·log σ²)·ε, elementwise: the reparameterised draw of N(μ, σ²) for a given ε (Kingma & Welling
    /// 2014). Gradients flow to μ, log σ² and (when it is tracked) ε.
    public static func reparameterizedSample(mean: Tensor, logVariance: Tensor, noise: Tensor) -> Tensor {
        if let backend = backend(mean, logVariance, noise), mean.shape == logVariance.shape, mean.shape == noise.shape,
           !noise.isTracked {
            let (mean, logVariance, noise) = (mean.moved(to: backend), logVariance.moved(to: backend), noise.moved(to: backend))
            let (v, e) = (logVariance.storage, noise.storage)
            let needLogVariance = logVariance.isTracked
            let z = backend.reparameterizedSample(mean: mean.storage, logVariance: v, noise: e)
            return record(Tensor(device: z), inputs: [mean, logVariance]) { g in
                [g, needLogVariance ? .device(backend.reparameterizedSampleGradient(upstream: g.device, logVariance: v, noise: e)) : nil]
            }
        }
        return mean + (logVariance * 0.5).exp() * noise
    }

    /// ½(μ² + σ² − 1 − log σ²), elementwise: the KL divergence of N(μ, σ²) from N(0, 1) per coordinate.
    public static func standardNormalKL(mean: Tensor, logVariance: Tensor) -> Tensor {
        if let backend = backend(mean, logVariance), mean.shape == logVariance.shape {
            let (mean, logVariance) = (mean.moved(to: backend), logVariance.moved(to: backend))
            let (m, v) = (mean.storage, logVariance.storage)
            return record(Tensor(device: backend.standardNormalKL(mean: m, logVariance: v)), inputs: [mean, logVariance]) { g in
                let gradients = backend.standardNormalKLGradients(upstream: g.device, mean: m, logVariance: v)
                return [.device(gradients.mean), .device(gradients.logVariance)]
            }
        }
        return (mean.squared() + logVariance.exp() - logVariance - 1) * 0.5
    }

    /// Σ over the last axis of −½((x − μ)²·e^(−log σ²) + log σ² + log 2π): the log-density of independent
    /// Gaussians, one value per row (its negation with `negated`); `logVariance` has μ's shape or broadcasts against
    /// it. On a device, with μ of x's shape or a constant on the host (one value, not tracked: a prior's 0, filled
    /// there) and log σ² a constant on the host (a fixed variance), or μ and log σ² both of x's shape (a posterior's),
    /// one kernel each way.
    public static func gaussianLogDensity(_ value: Tensor, mean: Tensor, logVariance: Tensor, negated: Bool = false) -> Tensor {
        if let backend = backend(value, mean), value.shape == mean.shape || mean.hostConstant != nil, !value.shape.isEmpty,
           let c = logVariance.hostConstant {
            // e^(−log σ²) as the host computes it in the terms below.
            let scale = (-logVariance).exp().scalar
            let value = value.moved(to: backend)
            let mean = mean.hostConstant.map { Tensor(device: backend.filled(value.shape, with: $0)) } ?? mean.moved(to: backend)
            let (x, m) = (value.storage, mean.storage)
            let factor: Float = negated ? 0.5 : -0.5
            let (needValue, needMean) = (value.isTracked, mean.isTracked)
            let sums = backend.gaussianRowLogDensity(x, mean: m, scale: scale, logVariance: c, factor: factor)
            return record(Tensor(device: sums), inputs: [value, mean]) { g in
                let forMean = backend.gaussianRowLogDensityGradient(upstream: g.device, x, mean: m, slope: -2 * factor * scale)
                return [needValue ? .device(backend.scalar(.multiply, forMean, -1)) : nil, needMean ? .device(forMean) : nil]
            }
        }
        if let backend = backend(value, mean, logVariance), value.shape == mean.shape, value.shape == logVariance.shape,
           !value.shape.isEmpty {
            // A log-variance per element (a posterior's): one kernel each way.
            let (value, mean, logVariance) = (value.moved(to: backend), mean.moved(to: backend), logVariance.moved(to: backend))
            let (x, m, v) = (value.storage, mean.storage, logVariance.storage)
            let factor: Float = negated ? 0.5 : -0.5
            let needs = [value.isTracked, mean.isTracked, logVariance.isTracked]
            let sums = backend.gaussianRowLogDensity(x, mean: m, logVariances: v, factor: factor)
            return record(Tensor(device: sums), inputs: [value, mean, logVariance]) { g in
                let gradients = backend.gaussianRowLogDensityGradients(upstream: g.device, x, mean: m, logVariances: v, factor: factor)
                return zip(needs, [gradients.value, gradients.mean, gradients.logVariance]).map { $0 ? TensorStorage.device($1) : nil }
            }
        }
        let sums = gaussianLogDensityTerms(value, mean: mean, logVariance: logVariance).sum(alongAxis: -1)
        return negated ? -sums : sums
    }

    /// The terms of ``gaussianLogDensity(_:mean:logVariance:negated:)`` before the sum, −½((x − μ)²·e^(−log σ²) +
    /// log σ² + log 2π), broadcast over the shapes of `value`, `mean` and `logVariance`.
    public static func gaussianLogDensityTerms(_ value: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
        let standardized = (value - mean).squared() * (-logVariance).exp()
        return (standardized + logVariance + Float(Foundation.log(2 * Double.pi))) * -0.5
    }
}
