import VAETensor

// Batch normalisation in training mode (one block per channel) and the running averages it keeps.
extension DeviceOps {
    /// `Tensor.batchNormalized`: one block per channel (`vae_batch_norm_forward`); also returns the batch's mean and
    /// biased variance per channel and, given `running` averages, those averages moved toward them in the same
    /// launch (x·(1 − momentum) + (statistic·momentum)·scale, the variance's scale `correction`).
    public func batchNormalized(_ x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor, epsilon: Float, activationSlope: Float,
                                running: (mean: DeviceTensor, variance: DeviceTensor, momentum: Float, correction: Float)? = nil) throws
        -> (output: DeviceTensor, mean: DeviceTensor, variance: DeviceTensor, running: (mean: DeviceTensor, variance: DeviceTensor)?) {
        let (batch, channels, plane) = Self.normalizationSplit(x.shape)
        let (y, mean, variance) = (try make(x.shape), try make([channels]), try make([channels]))
        if let running { try requireSameShape("batchNormalized's running averages", running.mean, running.variance, mean) }
        let moved = try running.map { _ in (mean: try make([channels]), variance: try make([channels])) }
        try device.launch("vae_batch_norm_forward", grid: min(channels, maximumBlocks), block: CUDAKernelSource.reductionThreads,
                          [.int64(batch), .int64(channels), .int64(plane), .address(x.address), .address(weight.address),
                           .address(bias.address), .float(epsilon), .float(activationSlope), .address(y.address),
                           .address(mean.address), .address(variance.address), .address(running?.mean.address ?? .null),
                           .address(running?.variance.address ?? .null), .float(1 - (running?.momentum ?? 0)),
                           .float(running?.momentum ?? 0), .float(running?.correction ?? 1), .address(moved?.mean.address ?? .null),
                           .address(moved?.variance.address ?? .null)])
        return (y, mean, variance, moved)
    }

    /// The gradients of ``batchNormalized(_:weight:bias:epsilon:activationSlope:running:)`` (x's only `needingInput`).
    public func batchNormalizedGradients(upstream g: DeviceTensor, input x: DeviceTensor, output y: DeviceTensor, weight: DeviceTensor,
                                         mean: DeviceTensor, variance: DeviceTensor, epsilon: Float, activationSlope: Float,
                                         needingInput: Bool) throws -> (input: DeviceTensor?, weight: DeviceTensor, bias: DeviceTensor) {
        let (batch, channels, plane) = Self.normalizationSplit(x.shape)
        let (dx, dWeight, dBias) = (needingInput ? try make(x.shape) : nil, try make([channels]), try make([channels]))
        try device.launch("vae_batch_norm_backward", grid: min(channels, maximumBlocks), block: CUDAKernelSource.reductionThreads,
                          [.int64(batch), .int64(channels), .int64(plane), .address(g.address), .address(x.address),
                           .address(y.address), .address(weight.address), .address(mean.address), .address(variance.address),
                           .float(epsilon), .float(activationSlope), .address(dx?.address ?? .null), .address(dWeight.address),
                           .address(dBias.address)])
        return (dx, dWeight, dBias)
    }

    /// x·(1 − momentum) + (new·momentum)·scale (`Tensor.movingAverage`): batch normalisation's running averages.
    public func movingAverage(_ x: DeviceTensor, toward new: DeviceTensor, momentum: Float, scale: Float) throws -> DeviceTensor {
        try requireSameShape("movingAverage", x, new)
        let y = try make(x.shape)
        try device.launch("vae_moving_average", grid: grid(y.count), block: blockSize,
                          [.int64(y.count), .address(x.address), .address(new.address), .float(1 - momentum), .float(momentum),
                           .float(scale), .address(y.address)])
        return y
    }

    /// (batch, channels, plane) of a `[N, C]` or `[N, C, H, W]` input.
    static func normalizationSplit(_ shape: [Int]) -> (Int, Int, Int) {
        (shape[0], shape[1], shape[2...].reduce(1, *))
    }
}
