import VAETensor

// Sorting rows on the device (`Tensor.sortedWithinRows`), gathering and one-hot rows by positions held there
// (`RowIndices`), and the augmentations: mirroring image lines (`Tensor.mirroringLines`) and binarising
// (`Tensor.binarized`).
extension DeviceOps {
    /// Each row of `[rows, length]` sorted ascending, ties by position, and the position each sorted entry came
    /// from (8-byte integers, a tensor of twice the count): one block per row runs a bitonic network over the row
    /// padded to a power of two, in scratch memory.
    public func sortRows(_ x: DeviceTensor) throws -> (values: DeviceTensor, order: DeviceTensor) {
        guard x.shape.count == 2 else { throw CUDAError("sortRows: needs a [rows, length] matrix, got \(x.shape)") }
        let (rows, length) = (x.shape[0], x.shape[1])
        let padded = length <= 1 ? 1 : 1 << (Int.bitWidth - (length - 1).leadingZeroBitCount)
        let (y, order) = (try make(x.shape), try make([2 * x.count]))
        let (keys, positions) = (try make([rows * padded]), try make([2 * rows * padded]))
        try device.launch("vae_sort_rows", grid: max(1, min(maximumBlocks, rows)), block: blockSize,
                          [.int64(rows), .int64(length), .int64(padded), .address(x.address), .address(keys.address),
                           .address(positions.address), .address(y.address), .address(order.address)])
        return (y, order)
    }

    /// The gradient of ``sortRows(_:)``: dx[row, order[row, k]] = g[row, k] (a permutation: no sums).
    public func sortRowsGradient(upstream g: DeviceTensor, order: DeviceTensor) throws -> DeviceTensor {
        let dx = try make(g.shape)
        try device.launch("vae_sort_rows_gradient", grid: grid(g.count), block: blockSize,
                          [.int64(g.shape[0]), .int64(g.count / max(g.shape[0], 1)), .address(order.address),
                           .address(g.address), .address(dx.address)])
        return dx
    }

    /// Rows of `x` along its first axis at `count` positions already on the device (`vae_gather`'s indices).
    public func gather(_ x: DeviceTensor, positions: DeviceTensor, count: Int) throws -> DeviceTensor {
        guard positions.count >= 2 * count else { throw CUDAError("gather: \(positions.count / 2) positions held, \(count) asked for") }
        var shape = x.shape
        shape[0] = count
        let y = try make(shape)
        try device.launch("vae_gather", grid: grid(y.count), block: blockSize,
                          Self.split(x.shape, 0) + [.int64(count), .address(positions.address), .address(x.address), .address(y.address)])
        return y
    }

    /// `[count, classes]`: 1 at each row's position, 0 elsewhere.
    public func oneHot(positions: DeviceTensor, count: Int, classes: Int) throws -> DeviceTensor {
        let y = try make([count, classes])
        try device.launch("vae_one_hot", grid: grid(y.count), block: blockSize,
                          [.int64(count), .int64(classes), .address(positions.address), .address(y.address)])
        return y
    }

    /// Rows `[count, features]` with each row whose draw is below ½ reversed within every line of `width` values.
    public func mirroredLines(_ x: DeviceTensor, draws: DeviceTensor, width: Int) throws -> DeviceTensor {
        guard x.shape.count == 2, width > 0, x.shape[1] % width == 0, draws.count == x.shape[0] else {
            throw CUDAError("mirroredLines: needs [count, features] rows of whole lines of \(width) and a draw per row, got \(x.shape) and \(draws.shape)")
        }
        let y = try make(x.shape)
        try device.launch("vae_mirror_lines", grid: grid(y.count), block: blockSize,
                          [.int64(x.shape[0]), .int64(x.shape[1]), .int64(width), .address(draws.address), .address(x.address), .address(y.address)])
        return y
    }

    /// 1 where the draw is below the value, 0 elsewhere: dynamic binarisation (`Tensor.binarized`).
    public func binarized(_ x: DeviceTensor, draws: DeviceTensor) throws -> DeviceTensor {
        try elementwise("vae_binarize", "binarized", x, draws)
    }
}
