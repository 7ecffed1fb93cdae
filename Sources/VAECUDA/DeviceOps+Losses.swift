import Foundation
import VAETensor

// The losses: the binary cross-entropy with logits (images), the softmax cross-entropy over a vocabulary (text).
extension DeviceOps {
    /// The binary cross-entropy with logits per element (`Tensor.binaryCrossEntropy`).
    public func binaryCrossEntropy(logits: DeviceTensor, targets: DeviceTensor) throws -> DeviceTensor {
        try elementwise("vae_cross_entropy", "binaryCrossEntropy", logits, targets)
    }

    /// Σ over each row of the binary cross-entropy with logits (`Tensor.binaryCrossEntropySums`), and the sigmoids
    /// its gradient needs.
    public func binaryCrossEntropySums(logits: DeviceTensor, targets: DeviceTensor) throws -> (sums: DeviceTensor, sigmoids: DeviceTensor) {
        let width = logits.shape.last ?? 1, rows = logits.count / max(width, 1)
        let sums = try make(Array(logits.shape.dropLast())), sigmoids = try make(logits.shape)
        try device.launch("vae_cross_entropy_row_sums", grid: max(1, min(maximumBlocks, rows)), block: CUDAKernelSource.reductionThreads,
                          [.int64(rows), .int64(width), .address(logits.address), .address(targets.address), .address(sums.address), .address(sigmoids.address)])
        return (sums, sigmoids)
    }

    /// Σ over each row of factor·((x − μ)²·scale + logVariance + log 2π): a Gaussian log-density with one fixed
    /// variance (`Tensor.gaussianLogDensity`), one block per row (`vae_gaussian_row_log_density`).
    public func gaussianRowLogDensity(_ x: DeviceTensor, mean: DeviceTensor, scale: Float, logVariance: Float, factor: Float) throws -> DeviceTensor {
        try requireSameShape("gaussianRowLogDensity", x, mean)
        let width = x.shape.last ?? 1, rows = x.count / max(width, 1)
        let sums = try make(Array(x.shape.dropLast()))
        try device.launch("vae_gaussian_row_log_density", grid: max(1, min(maximumBlocks, rows)), block: CUDAKernelSource.reductionThreads,
                          [.int64(rows), .int64(width), .address(x.address), .address(mean.address), .float(scale), .float(logVariance),
                           .address(.null), .float(Float(Foundation.log(2 * Double.pi))), .float(factor), .address(sums.address)])
        return sums
    }

    /// g_row·(x − μ)·slope: the mean's gradient of ``gaussianRowLogDensity(_:mean:scale:logVariance:factor:)``.
    public func gaussianRowLogDensityGradient(upstream g: DeviceTensor, _ x: DeviceTensor, mean: DeviceTensor, slope: Float) throws -> DeviceTensor {
        try requireSameShape("gaussianRowLogDensityGradient", x, mean)
        let width = x.shape.last ?? 1
        guard g.count * width == x.count else {
            throw CUDAError("gaussianRowLogDensityGradient: upstream \(g.shape) is not one value per row of \(x.shape)")
        }
        let dm = try make(x.shape)
        try device.launch("vae_gaussian_row_log_density_gradient", grid: grid(dm.count), block: blockSize,
                          [.int64(dm.count), .int64(width), .address(g.address), .address(x.address), .address(mean.address),
                           .float(slope), .address(dm.address)])
        return dm
    }

    /// Σ over each row of factor·((x − μ)²·e^(−v) + v + log 2π) with v a log-variance per element (a posterior's
    /// log-density, `Tensor.gaussianLogDensity`), one block per row (`vae_gaussian_row_log_density`).
    public func gaussianRowLogDensity(_ x: DeviceTensor, mean: DeviceTensor, logVariances v: DeviceTensor, factor: Float) throws -> DeviceTensor {
        try requireSameShape("gaussianRowLogDensity", x, mean)
        try requireSameShape("gaussianRowLogDensity", x, v)
        let width = x.shape.last ?? 1, rows = x.count / max(width, 1)
        let sums = try make(Array(x.shape.dropLast()))
        try device.launch("vae_gaussian_row_log_density", grid: max(1, min(maximumBlocks, rows)), block: CUDAKernelSource.reductionThreads,
                          [.int64(rows), .int64(width), .address(x.address), .address(mean.address), .float(1), .float(0),
                           .address(v.address), .float(Float(Foundation.log(2 * Double.pi))), .float(factor), .address(sums.address)])
        return sums
    }

    /// The gradients of ``gaussianRowLogDensity(_:mean:logVariances:factor:)`` for x, the mean and the
    /// log-variance from g (one value per row), in one launch.
    public func gaussianRowLogDensityGradients(upstream g: DeviceTensor, _ x: DeviceTensor, mean: DeviceTensor, logVariances v: DeviceTensor,
                                               factor: Float) throws -> (value: DeviceTensor, mean: DeviceTensor, logVariance: DeviceTensor) {
        try requireSameShape("gaussianRowLogDensityGradients", x, mean)
        try requireSameShape("gaussianRowLogDensityGradients", x, v)
        let width = x.shape.last ?? 1
        guard g.count * width == x.count else {
            throw CUDAError("gaussianRowLogDensityGradients: upstream \(g.shape) is not one value per row of \(x.shape)")
        }
        let (dx, dm, dv) = (try make(x.shape), try make(x.shape), try make(x.shape))
        try device.launch("vae_gaussian_row_log_density_varying_gradient", grid: grid(dx.count), block: blockSize,
                          [.int64(dx.count), .int64(width), .address(g.address), .address(x.address), .address(mean.address),
                           .address(v.address), .float(factor), .address(dx.address), .address(dm.address), .address(dv.address)])
        return (dx, dm, dv)
    }

    /// g · (sigmoid(x) − t): the logits' gradient of both binary cross-entropies, with g one value per row (of
    /// ``binaryCrossEntropySums(logits:targets:)``) or one per element (of ``binaryCrossEntropy(logits:targets:)``).
    public func binaryCrossEntropyGradient(upstream g: DeviceTensor, sigmoids: DeviceTensor, targets: DeviceTensor) throws -> DeviceTensor {
        let width = sigmoids.shape.last ?? 1
        let perRow = g.count != sigmoids.count
        guard perRow ? g.count * width == sigmoids.count : true else {
            throw CUDAError("binaryCrossEntropyGradient: upstream \(g.shape) is neither per row nor per element of \(sigmoids.shape)")
        }
        let dx = try make(sigmoids.shape)
        try device.launch("vae_cross_entropy_gradient", grid: grid(dx.count), block: blockSize,
                          [.int64(dx.count), .int64(width), .int32(perRow ? 1 : 0), .address(g.address), .address(sigmoids.address),
                           .address(targets.address), .address(dx.address)])
        return dx
    }

    /// −log softmax(row)[target] per row (0 for a negative target), the softmax for the gradient, and the targets
    /// on the device (one 8-byte integer each, in a tensor of twice their count), which the gradient reads again
    /// instead of copying them a second time: one block per row (`vae_softmax_cross_entropy`).
    public func softmaxCrossEntropy(_ logits: DeviceTensor, targets: [Int]) throws -> (losses: DeviceTensor, softmax: DeviceTensor, labels: DeviceTensor) {
        let labels = try integers(targets)
        let result = try softmaxCrossEntropy(logits, labels: labels)
        return (result.losses, result.softmax, labels)
    }

    /// The same with the targets on the device (8-byte integers, one per row).
    public func softmaxCrossEntropy(_ logits: DeviceTensor, labels: DeviceTensor) throws -> (losses: DeviceTensor, softmax: DeviceTensor) {
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        guard labels.count == 2 * rows else { throw CUDAError("softmaxCrossEntropy: \(rows) rows of logits, \(labels.count / 2) targets") }
        let (losses, softmax) = (try make([rows]), try make(logits.shape))
        try device.launch("vae_softmax_cross_entropy", grid: max(1, min(maximumBlocks, rows)), block: CUDAKernelSource.reductionThreads,
                          [.int64(rows), .int64(classes), .address(logits.address), .address(labels.address), .address(losses.address),
                           .address(softmax.address)])
        return (losses, softmax)
    }

    /// g_row · (softmax − one-hot(target)), with the targets ``softmaxCrossEntropy(_:targets:)`` put on the device.
    public func softmaxCrossEntropyGradient(upstream g: DeviceTensor, softmax: DeviceTensor, labels: DeviceTensor) throws -> DeviceTensor {
        let dx = try make(softmax.shape)
        try device.launch("vae_softmax_cross_entropy_gradient", grid: grid(dx.count), block: blockSize,
                          [.int64(softmax.shape[0]), .int64(softmax.shape[1]), .address(g.address), .address(softmax.address),
                           .address(labels.address), .address(dx.address)])
        return dx
    }
}
