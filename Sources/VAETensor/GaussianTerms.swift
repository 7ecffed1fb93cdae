// The two elementwise chains every Gaussian latent runs each step, the reparameterised draw and the KL to N(0, I),
// as single ops: on the host they are the same `Tensor` arithmetic as written out (the same values, bit for bit);
// on a device each is one kernel forward and one backward instead of a launch per operator (docs/cuda.md).

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
}
