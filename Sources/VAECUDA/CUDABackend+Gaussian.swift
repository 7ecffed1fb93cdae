import VAETensor

// The Gaussian terms as single ops: the reparameterised draw, the KL to N(0, I) and the row log-densities (fixed and
// per-element variances), each with its gradients.
extension CUDABackend {
    public func reparameterizedSample(mean: any DeviceStorage, logVariance: any DeviceStorage, noise: any DeviceStorage) -> any DeviceStorage {
        run(mean.shape, [mean, logVariance, noise]) { try ops.reparameterizedSample(mean: $0[0], logVariance: $0[1], noise: $0[2]) }
    }

    public func reparameterizedSampleGradient(upstream g: any DeviceStorage, logVariance: any DeviceStorage,
                                              noise: any DeviceStorage) -> any DeviceStorage {
        run(g.shape, [g, logVariance, noise]) { try ops.reparameterizedSampleGradient(upstream: $0[0], logVariance: $0[1], noise: $0[2]) }
    }

    public func standardNormalKL(mean: any DeviceStorage, logVariance: any DeviceStorage) -> any DeviceStorage {
        run(mean.shape, [mean, logVariance]) { try ops.standardNormalKL(mean: $0[0], logVariance: $0[1]) }
    }

    public func standardNormalKLGradients(upstream g: any DeviceStorage, mean: any DeviceStorage, logVariance: any DeviceStorage)
        -> (mean: any DeviceStorage, logVariance: any DeviceStorage) {
        let outputs = run([g.shape, g.shape], [g, mean, logVariance]) {
            let result = try ops.standardNormalKLGradients(upstream: $0[0], mean: $0[1], logVariance: $0[2])
            return [result.mean, result.logVariance]
        }
        return (outputs[0], outputs[1])
    }

    public func gaussianRowLogDensity(_ x: any DeviceStorage, mean: any DeviceStorage, scale: Float, logVariance: Float,
                                      factor: Float) -> any DeviceStorage {
        run(Array(x.shape.dropLast()), [x, mean]) {
            try ops.gaussianRowLogDensity($0[0], mean: $0[1], scale: scale, logVariance: logVariance, factor: factor)
        }
    }

    public func gaussianRowLogDensityGradient(upstream g: any DeviceStorage, _ x: any DeviceStorage, mean: any DeviceStorage,
                                              slope: Float) -> any DeviceStorage {
        run(x.shape, [g, x, mean]) { try ops.gaussianRowLogDensityGradient(upstream: $0[0], $0[1], mean: $0[2], slope: slope) }
    }

    public func gaussianRowLogDensity(_ x: any DeviceStorage, mean: any DeviceStorage, logVariances: any DeviceStorage,
                                      factor: Float) -> any DeviceStorage {
        run(Array(x.shape.dropLast()), [x, mean, logVariances]) {
            try ops.gaussianRowLogDensity($0[0], mean: $0[1], logVariances: $0[2], factor: factor)
        }
    }

    public func gaussianRowLogDensityGradients(upstream g: any DeviceStorage, _ x: any DeviceStorage, mean: any DeviceStorage,
                                               logVariances: any DeviceStorage, factor: Float)
        -> (value: any DeviceStorage, mean: any DeviceStorage, logVariance: any DeviceStorage) {
        let gradients = run([x.shape, x.shape, x.shape], [g, x, mean, logVariances]) {
            let result = try ops.gaussianRowLogDensityGradients(upstream: $0[0], $0[1], mean: $0[2], logVariances: $0[3], factor: factor)
            return [result.value, result.mean, result.logVariance]
        }
        return (gradients[0], gradients[1], gradients[2])
    }
}
