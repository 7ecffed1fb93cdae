// Host-made values a step reads on a device (token ids, masks, row positions), moved there in one copy.

/// Index lists and float arrays a step makes on the host, placed where a backend is in one copy: on a device one
/// upload, whose parts are views of it (a copy from the host's pageable memory waits for the device's queued work,
/// so ten small copies in a step were ten waits); on the host the values themselves, as ``RowIndices`` and
/// ``Tensor``s of them.
public struct PackedUpload {
    /// Each index list, in the order given.
    public let indices: [RowIndices]
    /// Each float array with its shape, in the order given.
    public let values: [Tensor]

    public init(indices: [[Int]], values: [(shape: [Int], scalars: [Float])] = [], to backend: (any TensorBackend)?) {
        for value in values {
            precondition(value.shape.reduce(1, *) == value.scalars.count, "PackedUpload: shape \(value.shape) for \(value.scalars.count) values")
        }
        guard let backend else {
            self.indices = indices.map(RowIndices.init)
            self.values = values.map { Tensor(shape: $0.shape, scalars: $0.scalars) }
            return
        }
        // An index is 8 bytes, two 4-byte elements, low word first (as the backend's gathers read them).
        var packed: [Float] = []
        packed.reserveCapacity(indices.reduce(0) { $0 + 2 * $1.count } + values.reduce(0) { $0 + $1.scalars.count })
        for list in indices {
            for index in list {
                let bits = UInt64(bitPattern: Int64(index))
                packed.append(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
                packed.append(Float(bitPattern: UInt32(truncatingIfNeeded: bits >> 32)))
            }
        }
        for value in values { packed += value.scalars }
        let whole = Tensor(device: backend.upload(packed, shape: [packed.count]))
        var offset = 0
        func part(_ count: Int) -> Tensor {
            defer { offset += count }
            return whole.slice(offset..<(offset + count))
        }
        self.indices = indices.map { RowIndices(device: part(2 * $0.count).storage, count: $0.count) }
        self.values = values.map { part($0.scalars.count).reshaped($0.shape) }
    }
}
