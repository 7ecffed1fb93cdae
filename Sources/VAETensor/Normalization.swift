import CKernels

extension Tensor {
    /// Batch normalisation in training mode, one op with a hand-derived gradient: over `[batch, channels]` or
    /// `[batch, channels, height, width]`, each channel is normalised with the batch's mean and biased variance
    /// (over the batch and the plane), scaled by `weight` and shifted by `bias`, and optionally passed through a
    /// leaky ReLU with `activationSlope` (1: none; 0: ReLU) in the same pass. Returns the output and the batch
    /// statistics (for running averages: `[channels]` each, untracked, where the input lives).
    ///
    /// Derivatives (g′ the gradient before the activation, x̂ = (x − μ)/σ, N = batch·plane):
    /// dβ = Σ g′, dγ = Σ g′·x̂, dx = γ/σ·(g′ − Σg′/N − x̂·Σg′x̂/N).
    /// Channels are split over the library's threads; each channel's sums are computed whole by one thread in a
    /// fixed order, so the numbers do not depend on the thread count.
    public func batchNormalized(weight: Tensor, bias: Tensor, epsilon: Float, activationSlope: Float = 1)
    -> (output: Tensor, mean: Tensor, variance: Tensor) {
        precondition((rank == 2 || rank == 4) && weight.shape == [shape[1]] && bias.shape == [shape[1]],
                     "batchNormalized: input \(shape) does not fit weight \(weight.shape) and bias \(bias.shape)")
        precondition(count > 0, "batchNormalized: empty input \(shape)")
        if let backend = Tensor.backend(self, weight, bias) {
            let result = batchNormalizedOnDevice(weight: weight, bias: bias, epsilon: epsilon, activationSlope: activationSlope, backend)
            return (result.output, result.mean, result.variance)
        }
        let (batch, channels) = (shape[0], shape[1])
        let plane = rank == 4 ? shape[2] * shape[3] : 1
        let (input, gamma, beta) = (scalars, weight.scalars, bias.scalars)
        var mean = [Float](repeating: 0, count: channels)
        var variance = [Float](repeating: 0, count: channels)
        let output = [Float](unsafeUninitializedCapacity: input.count) { buffer, initialized in
            let y = buffer.baseAddress!
            input.withUnsafeBufferPointer { x in
                mean.withUnsafeMutableBufferPointer { meanBuffer in
                    variance.withUnsafeMutableBufferPointer { varianceBuffer in
                        let (m, v) = (meanBuffer.baseAddress!, varianceBuffer.baseAddress!)
                        Parallel.forEachChunk(of: channels, minimumWork: batch * plane, grain: 1 << 16) { chunk in
                            vae_batch_norm_forward(batch, channels, plane, chunk.lowerBound, chunk.upperBound,
                                                   x.baseAddress!, gamma, beta, epsilon, activationSlope, y, m, v)
                        }
                    }
                }
            }
            initialized = input.count
        }
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias.isTracked)
        let (batchMean, batchVariance) = (mean, variance)
        let result = Tensor.record(shape: shape, scalars: output, inputs: [self, weight, bias]) { upstream in
            var dgamma = [Float](repeating: 0, count: channels)
            var dbeta = [Float](repeating: 0, count: channels)
            func backward(into dx: UnsafeMutablePointer<Float>?) {
                upstream.withUnsafeBufferPointer { g in
                    input.withUnsafeBufferPointer { x in
                        output.withUnsafeBufferPointer { y in
                            dgamma.withUnsafeMutableBufferPointer { dg in
                                dbeta.withUnsafeMutableBufferPointer { db in
                                    let (dgBase, dbBase) = (dg.baseAddress!, db.baseAddress!)
                                    Parallel.forEachChunk(of: channels, minimumWork: batch * plane, grain: 1 << 16) { chunk in
                                        vae_batch_norm_backward(batch, channels, plane, chunk.lowerBound,
                                                                chunk.upperBound, g.baseAddress!, x.baseAddress!,
                                                                y.baseAddress!, gamma, batchMean, batchVariance,
                                                                epsilon, activationSlope, dx, dgBase, dbBase)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            var dx: [Float]? = nil
            if needInput {
                dx = [Float](unsafeUninitializedCapacity: input.count) { buffer, initialized in
                    backward(into: buffer.baseAddress!)
                    initialized = input.count
                }
            } else {
                backward(into: nil)
            }
            return [dx, needWeight ? dgamma : nil, needBias ? dbeta : nil]
        }
        return (result, Tensor(shape: [channels], scalars: mean), Tensor(shape: [channels], scalars: variance))
    }
}

extension Tensor {
    /// Batch normalisation in training mode (``batchNormalized(weight:bias:epsilon:activationSlope:)``) that also
    /// moves running averages toward the batch's statistics: each average·(1 − momentum) + (statistic·momentum)·scale
    /// (``movingAverage(toward:momentum:scale:)``), the mean's scale 1 and the variance's Bessel's correction
    /// N/(N − 1), N = batch·plane (1 when N is 1). Returns the output and the new averages (untracked). On a device
    /// one launch computes all three; on the host it is that op, then the two averages.
    public func batchNormalized(weight: Tensor, bias: Tensor, epsilon: Float, activationSlope: Float = 1,
                                movingAverages running: (mean: Tensor, variance: Tensor), momentum: Float)
    -> (output: Tensor, runningMean: Tensor, runningVariance: Tensor) {
        precondition(rank == 2 || rank == 4, "batchNormalized: input \(shape) is neither [batch, channels] nor [batch, channels, h, w]")
        precondition(running.mean.shape == [shape[1]] && running.variance.shape == [shape[1]],
                     "batchNormalized: running averages \(running.mean.shape) and \(running.variance.shape) do not fit \(shape[1]) channels")
        let count = Float(self.count / shape[1])
        let correction = count > 1 ? count / (count - 1) : 1
        if let backend = Tensor.backend(self, weight, bias) {
            let result = batchNormalizedOnDevice(weight: weight, bias: bias, epsilon: epsilon, activationSlope: activationSlope, backend,
                                                 running: (running.mean, running.variance, momentum, correction))
            return (result.output, result.running!.mean, result.running!.variance)
        }
        let (output, mean, variance) = batchNormalized(weight: weight, bias: bias, epsilon: epsilon, activationSlope: activationSlope)
        return withoutGradients {
            (output, running.mean.movingAverage(toward: mean, momentum: momentum),
             running.variance.movingAverage(toward: variance, momentum: momentum, scale: correction))
        }
    }

    /// self·(1 − momentum) + (new·momentum)·scale, elementwise for equal shapes: a running average moved toward a
    /// batch's statistic in one pass (batch normalisation's running mean and, with Bessel's correction as `scale`,
    /// variance). Gradients: (1 − momentum) for self, momentum·scale for `new`.
    public func movingAverage(toward new: Tensor, momentum: Float, scale: Float = 1) -> Tensor {
        precondition(shape == new.shape, "movingAverage: shape \(shape) vs \(new.shape)")
        let keep = 1 - momentum
        if let backend = Tensor.backend(self, new) {
            let (old, new) = (moved(to: backend), new.moved(to: backend))
            let output = backend.movingAverage(old.storage, toward: new.storage, momentum: momentum, scale: scale)
            return Tensor.record(Tensor(device: output), inputs: [old, new]) { g in
                [.device(backend.scalar(.multiply, g.device, keep)), .device(backend.scalar(.multiply, g.device, momentum * scale))]
            }
        }
        let output = Kernels.zip(scalars, new.scalars) { $0 * keep + $1 * momentum * scale }
        return Tensor.record(shape: shape, scalars: output, inputs: [self, new]) { upstream in
            [upstream.map { $0 * keep }, upstream.map { $0 * (momentum * scale) }]
        }
    }
}

