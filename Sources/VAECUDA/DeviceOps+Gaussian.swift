import VAETensor

// The Gaussian latent's reparameterised draw and KL to N(0, I), one kernel each way (`Tensor.reparameterizedSample`,
// `Tensor.standardNormalKL`).
extension DeviceOps {
    /// μ + exp(½·log σ²)·ε.
    public func reparameterizedSample(mean: DeviceTensor, logVariance: DeviceTensor, noise: DeviceTensor) throws -> DeviceTensor {
        try requireSameShape("reparameterizedSample", mean, logVariance, noise)
        let z = try make(mean.shape)
        try device.launch("vae_reparameterized_sample", grid: grid(z.count), block: blockSize,
                          [.int64(z.count), .address(mean.address), .address(logVariance.address), .address(noise.address), .address(z.address)])
        return z
    }

    /// g·ε·exp(½·log σ²)·½: the draw's gradient for the log-variance.
    public func reparameterizedSampleGradient(upstream g: DeviceTensor, logVariance: DeviceTensor, noise: DeviceTensor) throws -> DeviceTensor {
        try requireSameShape("reparameterizedSampleGradient", g, logVariance, noise)
        let dv = try make(g.shape)
        try device.launch("vae_reparameterized_sample_gradient", grid: grid(dv.count), block: blockSize,
                          [.int64(dv.count), .address(g.address), .address(logVariance.address), .address(noise.address), .address(dv.address)])
        return dv
    }

    /// ½(μ² + exp(log σ²) − log σ² − 1).
    public func standardNormalKL(mean: DeviceTensor, logVariance: DeviceTensor) throws -> DeviceTensor {
        try requireSameShape("standardNormalKL", mean, logVariance)
        let kl = try make(mean.shape)
        try device.launch("vae_standard_normal_kl", grid: grid(kl.count), block: blockSize,
                          [.int64(kl.count), .address(mean.address), .address(logVariance.address), .address(kl.address)])
        return kl
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
