import VAETensor

// Transposes, slices and concatenation as strided and block copies (`vae_strided_copy`, `vae_strided_scatter`,
// `vae_copy_block`): no arithmetic, so the device's values are the host's exactly.
extension DeviceOps {
    /// `x` with its axes reordered: output axis i is input axis `order[i]` (`Tensor.transposed`).
    public func permuted(_ x: DeviceTensor, order: [Int]) throws -> DeviceTensor {
        guard order.sorted() == Array(0..<x.shape.count), order.count <= 8 else {
            throw CUDAError("permuted: \(order) is not a permutation of the \(x.shape.count) axes of \(x.shape) (at most 8)")
        }
        var strides = [Int](repeating: 1, count: x.shape.count)
        for axis in stride(from: x.shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * x.shape[axis + 1] }
        let y = try make(order.map { x.shape[$0] })
        try copy(x, into: y, layout: .packed([y.shape, order.map { strides[$0] }], then: [0], rank: Int32(order.count)))
        return y
    }

    /// `x` repeated along the axes where its shape (aligned on the last axis) has 1 and `shape` has more: one
    /// strided copy with stride 0 along those axes.
    public func expanded(_ x: DeviceTensor, to shape: [Int]) throws -> DeviceTensor {
        guard Broadcasting.resultShape(x.shape, shape) == shape, shape.count <= 8 else {
            throw CUDAError("expanded: \(x.shape) does not broadcast to \(shape) (at most 8 axes)")
        }
        let y = try make(shape)
        try copy(x, into: y, layout: .packed([shape, Broadcasting.strides(of: x.shape, as: shape)], then: [0], rank: Int32(shape.count)))
        return y
    }

    /// Entries `range` along `axis` (`Tensor.slice`): a view of `x`'s memory when they are consecutive there (no
    /// axis before `axis` has more than one entry: a recurrence's time step of a sequence), else a strided copy.
    public func sliced(_ x: DeviceTensor, _ range: Range<Int>, alongAxis axis: Int) throws -> DeviceTensor {
        var shape = x.shape
        shape[axis] = range.count
        if x.shape[..<axis].allSatisfy({ $0 == 1 }) {
            return DeviceTensor(viewing: x, from: range.lowerBound * x.shape[(axis + 1)...].reduce(1, *), shape: shape)
        }
        let y = try make(shape)
        try copy(x, into: y, layout: sliceLayout(x.shape, range, axis))
        return y
    }

    /// The gradient of ``sliced(_:_:alongAxis:)``: `g` where the slice was taken, 0 elsewhere.
    public func sliceGradient(upstream g: DeviceTensor, _ range: Range<Int>, alongAxis axis: Int, inputShape: [Int]) throws -> DeviceTensor {
        let dx = try filled(inputShape, with: 0)
        try device.launch("vae_strided_scatter", grid: grid(g.count), block: blockSize,
                          [.int64(g.count), sliceLayout(inputShape, range, axis), .address(g.address), .address(dx.address)])
        return dx
    }

    /// The parts joined along `axis` (`Tensor.concatenate`): one block copy per part, or, when the axis has no
    /// others before it of more than one entry, the parts end to end, 8 per launch (a step's loss and its terms).
    public func concatenated(_ parts: [DeviceTensor], alongAxis axis: Int) throws -> DeviceTensor {
        guard let first = parts.first else { throw CUDAError("concatenated: no tensors") }
        var shape = first.shape
        shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        let outer = shape[..<axis].reduce(1, *)
        let y = try make(shape)
        if outer == 1 {
            var offset = 0
            for start in stride(from: 0, to: parts.count, by: 8) {
                let group = parts[start..<min(start + 8, parts.count)]
                let counts = group.map(\.count)
                try device.launch("vae_copy_blocks", grid: grid(counts.max() ?? 0), block: blockSize,
                                  [.packed([counts, group.map { Int(bitPattern: UInt($0.address.rawValue)) }], rank: Int32(group.count)),
                                   .address(y.address.advanced(by: 4 * offset))])
                offset += counts.reduce(0, +)
            }
            return y
        }
        let totalWidth = y.count / max(outer, 1)
        var offset = 0
        for part in parts where part.count > 0 {
            let width = part.count / max(outer, 1)
            try device.launch("vae_copy_block", grid: grid(part.count), block: blockSize,
                              [.int64(outer), .int64(width), .address(part.address), .int64(width), .int64(0),
                               .address(y.address), .int64(totalWidth), .int64(offset)])
            offset += width
        }
        return y
    }

    /// [outer, range.count·inner] read from `shape` as [outer, length·inner] from column range.lowerBound·inner.
    func sliceLayout(_ shape: [Int], _ range: Range<Int>, _ axis: Int) -> KernelArgument {
        let (outer, length, inner) = (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
        return .packed([[outer, range.count * inner], [length * inner, 1]], then: [Int64(range.lowerBound * inner)], rank: 2)
    }

    func copy(_ x: DeviceTensor, into y: DeviceTensor, layout: KernelArgument) throws {
        guard y.count > 0 else { return }
        try device.launch("vae_strided_copy", grid: grid(y.count), block: blockSize,
                          [.int64(y.count), layout, .address(x.address), .address(y.address)])
    }
}
