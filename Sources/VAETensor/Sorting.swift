// Sorting each row of a matrix, differentiably: the sliced Wasserstein distance matches sorted projections.

extension Tensor {
    /// Each row of `[rows, length]` sorted ascending, ties by position; the gradient goes back through the
    /// permutation (each entry's gradient to the place it came from). On the host it is a gather of the sorting
    /// positions; on a device one kernel sorts every row and one puts the gradient back, with no copy to the host.
    public func sortedWithinRows() -> Tensor {
        precondition(rank == 2, "sortedWithinRows: needs a [rows, length] matrix, got \(shape)")
        if let backend = Tensor.backend(self) {
            let (values, order) = backend.sortRows(storage)
            let shape = self.shape
            return Tensor.record(Tensor(device: values), inputs: [self]) { g in
                [.device(backend.sortRowsGradient(upstream: g.device, order: order, shape: shape))]
            }
        }
        let (rows, length) = (shape[0], shape[1])
        let values = scalars
        let order = (0..<rows).flatMap { row -> [Int] in
            let start = row * length
            return (start..<(start + length)).sorted { (values[$0], $0) < (values[$1], $1) }
        }
        return reshaped([rows * length]).gathering(order).reshaped(shape)
    }
}
