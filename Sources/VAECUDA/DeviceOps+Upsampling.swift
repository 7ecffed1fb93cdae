import VAETensor

// Nearest-neighbour upsampling of NCHW images (`Tensor.upsampledNearest`).
extension DeviceOps {
    /// Each pixel repeated `factor` × `factor` times.
    public func upsampledNearest(_ x: DeviceTensor, factor: Int) throws -> DeviceTensor {
        guard x.shape.count == 4, factor >= 1 else { throw CUDAError("upsampledNearest: needs NCHW input and factor ≥ 1, got \(x.shape) and \(factor)") }
        let y = try make([x.shape[0], x.shape[1], x.shape[2] * factor, x.shape[3] * factor])
        try device.launch("vae_upsample_nearest", grid: grid(y.count), block: blockSize,
                          [.int64(x.shape[0] * x.shape[1]), .int64(x.shape[2]), .int64(x.shape[3]), .int64(factor),
                           .address(x.address), .address(y.address)])
        return y
    }

    /// The gradient of ``upsampledNearest(_:factor:)``: each input pixel gets the sum of g over its block.
    public func upsampledNearestGradient(upstream g: DeviceTensor, factor: Int) throws -> DeviceTensor {
        guard g.shape.count == 4, factor >= 1, g.shape[2] % factor == 0, g.shape[3] % factor == 0 else {
            throw CUDAError("upsampledNearestGradient: upstream \(g.shape) is not an image upsampled by \(factor)")
        }
        let dx = try make([g.shape[0], g.shape[1], g.shape[2] / factor, g.shape[3] / factor])
        try device.launch("vae_upsample_nearest_gradient", grid: grid(dx.count), block: blockSize,
                          [.int64(dx.shape[0] * dx.shape[1]), .int64(dx.shape[2]), .int64(dx.shape[3]), .int64(factor),
                           .address(g.address), .address(dx.address)])
        return dx
    }
}
