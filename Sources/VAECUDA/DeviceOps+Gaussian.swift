import VAETensor

// The Gaussian latent's reparameterised draw and KL to N(0, I), one kernel each way (`Tensor.reparameterizedSample`,
// `Tensor.standardNormalKL`).
extension DeviceOps {
    /// μ + exp(½·log σ²)·ε.
    public func reparameterizedSample(mean: DeviceTensor, logVariance: DeviceTensor, noise: DeviceTensor) throws -> DeviceTensor {
        try elementwise("vae_reparameterized_sample", "reparameterizedSample", mean, logVariance, noise)
    }

    /// g·ε·exp(½·log σ²)·½: the draw's gradient for the log-variance.
    public func reparameterizedSampleGradient(upstream g: DeviceTensor, logVariance: DeviceTensor, noise: DeviceTensor) throws -> DeviceTensor {
        try elementwise("vae_reparameterized_sample_gradient", "reparameterizedSampleGradient", g, logVariance, noise)
    }

    /// ½(μ² + exp(log σ²) − log σ² − 1).
    public func standardNormalKL(mean: DeviceTensor, logVariance: DeviceTensor) throws -> DeviceTensor {
        try elementwise("vae_standard_normal_kl", "standardNormalKL", mean, logVariance)
    }

    /// The KL's gradients for the mean and the log-variance, in one launch.
    public func standardNormalKLGradients(upstream g: DeviceTensor, mean: DeviceTensor, logVariance: DeviceTensor) throws
        -> (mean: DeviceTensor, logVariance: DeviceTensor) {
        try requireSameShape("standardNormalKLGradients", g, mean, logVariance)
        let (dm, dv) = (try make(g.shape), try make(g.shape))
        try device.launch("vae_standard_normal_kl_gradient", grid: grid(g.count), block: blockSize,
                          [.int64(g.count), .address(g.address), .address(mean.address), .address(logVariance.address),
                           .address(dm.address), .address(dv.address)])
        return (dm, dv)
    }
}
