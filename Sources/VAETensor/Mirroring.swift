// Mirroring images left–right, the horizontal-flip augmentation, where the batch lives.

extension Tensor {
    /// Rows `[count, features]` (images flattened, lines of `width` values) with every row whose draw is below ½
    /// reversed within each line: the image mirrored left–right, each line of each channel on its own. `draws`:
    /// `[count]`, uniform in [0, 1). Not tracked (it augments an input). On a device, one kernel reading the draws
    /// there.
    public func mirroringLines(width: Int, where draws: Tensor) -> Tensor {
        precondition(rank == 2 && width > 0 && shape[1] % width == 0 && draws.count == shape[0],
                     "mirroringLines: needs [count, features] rows of whole lines of \(width) and a draw per row, got \(shape) and \(draws.shape)")
        if let backend = Tensor.backend(self, draws) {
            return Tensor(device: backend.mirroredLines(moved(to: backend).storage, draws: draws.moved(to: backend).storage, width: width))
        }
        let (count, features) = (shape[0], shape[1])
        let flips = draws.scalars
        var values = scalars
        values.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<count where flips[row] < 0.5 {
                for line in 0..<(features / width) {
                    let start = row * features + line * width
                    for column in 0..<(width / 2) { buffer.swapAt(start + column, start + width - 1 - column) }
                }
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}
