// Indices into a table's rows that stay where they were computed: a codebook's nearest entries, found on a device,
// are gathered and counted there without a copy to the host and back.

/// One index per row of a batch, into the rows of a table (or the columns of a matrix): held on the host, or on the
/// device that computed them (as ``Tensor/positionsOfRowMaxima()`` leaves them).
public struct RowIndices {
    enum Storage {
        case host([Int])
        /// 8-byte integers, as a backend's gathers read them.
        case device(any DeviceStorage)
    }
    let storage: Storage
    /// How many indices.
    public let count: Int

    public init(_ values: [Int]) {
        storage = .host(values)
        count = values.count
    }

    init(device: any DeviceStorage, count: Int) {
        storage = .device(device)
        self.count = count
    }

    /// The backend holding them, or nil on the host.
    public var backend: (any TensorBackend)? {
        if case .device(let held) = storage { return held.backend }
        return nil
    }

    /// The indices on the host (from a device: one copy back).
    public var values: [Int] {
        switch storage {
        case .host(let values): return values
        case .device(let held):
            // Each index is the 8 bytes of two 4-byte elements, low word first.
            let words = held.backend.download(held).map(\.bitPattern)
            return (0..<count).map { Int(Int64(bitPattern: UInt64(words[2 * $0]) | UInt64(words[2 * $0 + 1]) << 32)) }
        }
    }
}

extension Tensor {
    /// The position of the largest entry of each row of `[rows, length]`, first on ties; on a device, computed and
    /// kept there (the winners of ``max(alongAxis:keepingDimension:)``).
    public func positionsOfRowMaxima() -> RowIndices {
        precondition(rank == 2 && shape[1] > 0, "positionsOfRowMaxima: needs a [rows, length] matrix with length > 0, got \(shape)")
        if let backend = Tensor.backend(self) {
            return RowIndices(device: backend.maximum(storage, alongAxis: 1).winners, count: shape[0])
        }
        let (rows, length) = (shape[0], shape[1])
        let values = scalars
        return RowIndices((0..<rows).map { row in
            var best = 0
            for column in 1..<length where values[row * length + column] > values[row * length + best] { best = column }
            return best
        })
    }

    /// The rows at `indices` (``gathering(_:alongAxis:)`` along the first axis), gathered where the indices are:
    /// on a device, no copy.
    public func gathering(_ indices: RowIndices) -> Tensor {
        guard case .device(let held) = indices.storage else { return gathering(indices.values) }
        let backend = held.backend
        let placed = moved(to: backend)
        let inputShape = shape
        let values = backend.gather(placed.storage, positions: held, count: indices.count)
        return Tensor.record(Tensor(device: values), inputs: [placed]) { g in
            [.device(backend.gatherGradient(upstream: g.device, indices: held, alongAxis: 0, inputShape: inputShape))]
        }
    }

    /// `[indices.count, classes]`: 1 at each row's index, 0 elsewhere (not tracked).
    public static func oneHot(_ indices: RowIndices, classes: Int) -> Tensor {
        guard case .device(let held) = indices.storage else {
            var scalars = [Float](repeating: 0, count: indices.count * classes)
            for (row, index) in indices.values.enumerated() {
                precondition((0..<classes).contains(index), "oneHot: index \(index) outside 0..<\(classes)")
                scalars[row * classes + index] = 1
            }
            return Tensor(shape: [indices.count, classes], scalars: scalars)
        }
        return Tensor(device: held.backend.oneHot(positions: held, count: indices.count, classes: classes))
    }
}
