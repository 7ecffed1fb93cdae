import VAETensor

// The text models' loss over a vocabulary.
extension DeviceOps {
    /// −log softmax(row)[target] per row (0 for a negative target), and the softmax for the gradient: one thread per
    /// row (`vae_softmax_cross_entropy`).
    public func softmaxCrossEntropy(_ logits: DeviceTensor, targets: [Int]) throws -> (losses: DeviceTensor, softmax: DeviceTensor) {
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        let (losses, softmax) = (try make([rows]), try make(logits.shape))
        let labels = try device.upload(integers: targets)
        defer { device.free(labels) }
        try device.launch("vae_softmax_cross_entropy", grid: grid(rows), block: blockSize,
                          [.int64(rows), .int64(classes), .address(logits.address), .address(labels), .address(losses.address),
                           .address(softmax.address)])
        return (losses, softmax)
    }

    /// g_row · (softmax − one-hot(target)).
    public func softmaxCrossEntropyGradient(upstream g: DeviceTensor, softmax: DeviceTensor, targets: [Int]) throws -> DeviceTensor {
        let dx = try make(softmax.shape)
        let labels = try device.upload(integers: targets)
        defer { device.free(labels) }
        try device.launch("vae_softmax_cross_entropy_gradient", grid: grid(dx.count), block: blockSize,
                          [.int64(softmax.shape[0]), .int64(softmax.shape[1]), .address(g.address), .address(softmax.address),
                           .address(labels), .address(dx.address)])
        return dx
    }
}
