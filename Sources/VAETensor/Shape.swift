// Shape ops: reshape, transpose, slice, concatenate, gather. Each moves gradients back the way values came.

extension Tensor {
    /// The same scalars under a new shape; one dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements")
            resolved[unknown] = count / known
        }
        precondition(resolved.reduce(1, *) == count, "reshape: \(shape) has \(count) elements, \(newShape) needs \(resolved.reduce(1, *))")
        if let backend = Tensor.backend(self) { return reshapedOnDevice(resolved, backend) }
        return Tensor.record(shape: resolved, scalars: scalars, inputs: [self]) { g in [g] }
    }

    /// Permutes axes: output axis i is input axis `permutation[i]`. With no argument, swaps the last two.
    public func transposed(_ permutation: [Int]? = nil) -> Tensor {
        let order = permutation ?? {
            var order = Array(0..<rank)
            if rank >= 2 { order.swapAt(rank - 1, rank - 2) }
            return order
        }()
        precondition(order.sorted() == Array(0..<rank), "transpose: \(order) is not a permutation of \(rank) axes")
        let outputShape = order.map { shape[$0] }
        var inverse = [Int](repeating: 0, count: rank)
        for (position, axis) in order.enumerated() { inverse[axis] = position }
        if let backend = Tensor.backend(self) { return transposedOnDevice(order, inverse: inverse, backend) }
        let output = Tensor.permute(scalars, shape: shape, order: order)
        return Tensor.record(shape: outputShape, scalars: output, inputs: [self]) { g in
            [Tensor.permute(g, shape: outputShape, order: inverse)]
        }
    }

    static func permute(_ values: [Float], shape: [Int], order: [Int]) -> [Float] {
        if order == Array(0..<order.count) { return values }
        var inputStrides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * shape[axis + 1]
        }
        let outputShape = order.map { shape[$0] }
        let readStrides = order.map { inputStrides[$0] }
        return [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                Broadcasting.forEachRow(outputShape, readStrides) { outputOffset, inputOffset, length, step in
                    for index in 0..<length { output[outputOffset + index] = input[inputOffset + index * step] }
                }
            }
            initialized = values.count
        }
    }

    /// Elements `range` along `axis`.
    public func slice(_ range: Range<Int>, alongAxis axis: Int = 0) -> Tensor {
        let axis = resolve(axis: axis, "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice: \(range) out of bounds for axis \(axis) of \(shape)")
        if let backend = Tensor.backend(self) { return sliceOnDevice(range, alongAxis: axis, backend) }
        let (outer, length, inner) = Kernels.split(shape, axis: axis)
        let width = range.count * inner
        var output = [Float]()
        output.reserveCapacity(outer * width)
        let input = scalars   // once: on a device, each read of `scalars` is a copy
        for o in 0..<outer {
            let start = (o * length + range.lowerBound) * inner
            output.append(contentsOf: input[start ..< start + width])
        }
        var outputShape = shape
        outputShape[axis] = range.count
        let total = count
        return Tensor.record(shape: outputShape, scalars: output, inputs: [self]) { g in
            var gradient = [Float](repeating: 0, count: total)
            for o in 0..<outer {
                let start = (o * length + range.lowerBound) * inner
                for i in 0..<width { gradient[start + i] = g[o * width + i] }
            }
            return [gradient]
        }
    }

    /// The tensor cut along `axis` into consecutive parts of `sizes` (0 or more each, summing to the axis's length),
    /// as `torch.split`. Each part is the slice there; the gradient is one concatenation of the parts' gradients
    /// (zeros for a part with none), where a slice each would give a zero-padded tensor of the whole per part.
    public func split(_ sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let axis = resolve(axis: axis, "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[axis],
                     "split: sizes \(sizes) must be 0 or more and sum to \(shape[axis]), the length of axis \(axis) of \(shape)")
        var ranges: [Range<Int>] = []
        for size in sizes {
            let start = ranges.last?.upperBound ?? 0
            ranges.append(start ..< start + size)
        }
        let parts = withoutGradients { ranges.map { slice($0, alongAxis: axis) } }
        guard let tape = GradientTape.current, tape.contains(self) else { return parts }
        let shapes = parts.map(\.shape)
        if let backend {
            return tape.recordSplit(of: self, into: parts) { Tensor.joinedOnDevice($0, shapes: shapes, alongAxis: axis, backend) }
        }
        let outer = shape[..<axis].reduce(1, *)
        let widths = parts.map { $0.count / Swift.max(outer, 1) }
        return tape.recordSplit(of: self, into: parts) { gradients in
            .host(Tensor.interleaved(gradients.map { $0?.hostValues }, widths: widths, outer: outer))
        }
    }

    /// ``split(_:alongAxis:)`` into `count` parts of equal size.
    public func split(into count: Int, alongAxis axis: Int = 0) -> [Tensor] {
        let length = shape[resolve(axis: axis, "split")]
        precondition(count > 0 && length % count == 0, "split: \(length) entries do not split into \(count) equal parts")
        return split(Array(repeating: length / count, count: count), alongAxis: axis)
    }

    /// Row `o` of the result is row `o` of each part in turn (`[outer, width]` each; zeros for a nil part).
    static func interleaved(_ parts: [[Float]?], widths: [Int], outer: Int) -> [Float] {
        var output = [Float]()
        output.reserveCapacity(outer * widths.reduce(0, +))
        for o in 0..<outer {
            for (part, width) in zip(parts, widths) {
                if let part {
                    output.append(contentsOf: part[o * width ..< (o + 1) * width])
                } else {
                    output.append(contentsOf: repeatElement(0, count: width))
                }
            }
        }
        return output
    }

    /// `body` applied to consecutive row ranges of `0..<count`, `chunk` rows at a time, the results joined along axis
    /// 0 (a single range's result as it is): for passes whose activations would not fit one batch.
    public static func stackingRows(_ count: Int, chunk: Int, _ body: (Range<Int>) -> Tensor) -> Tensor {
        precondition(count > 0 && chunk > 0, "stackingRows: \(count) rows in chunks of \(chunk)")
        let parts = stride(from: 0, to: count, by: chunk).map { body($0..<Swift.min($0 + chunk, count)) }
        return parts.count == 1 ? parts[0] : concatenate(parts, alongAxis: 0)
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let axis = tensors[0].resolve(axis: axis, "concatenate")
        for tensor in tensors {
            var a = tensor.shape, b = tensors[0].shape
            precondition(a.count == b.count, "concatenate: ranks differ")
            a[axis] = 0; b[axis] = 0
            precondition(a == b, "concatenate: shapes \(tensor.shape) and \(tensors[0].shape) differ off axis \(axis)")
        }
        if let backend = tensors.lazy.compactMap(\.backend).first {
            return concatenateOnDevice(tensors, alongAxis: axis, backend)
        }
        let outer = tensors[0].shape[..<axis].reduce(1, *)
        let widths = tensors.map { $0.count / Swift.max(outer, 1) }
        let totalWidth = widths.reduce(0, +)
        let output = interleaved(tensors.map(\.scalars), widths: widths, outer: outer)
        var outputShape = tensors[0].shape
        outputShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        let needs = tensors.map(\.isTracked)
        return record(shape: outputShape, scalars: output, inputs: tensors) { g in
            var offset = 0
            return zip(widths, needs).map { width, needed in
                defer { offset += width }
                guard needed else { return nil }
                var gradient = [Float]()
                gradient.reserveCapacity(outer * width)
                for o in 0..<outer {
                    let start = o * totalWidth + offset
                    gradient.append(contentsOf: g[start ..< start + width])
                }
                return gradient
            }
        }
    }

    /// Each row (entry of the first axis) `times` times in a row, rows `0, 0, …, 1, 1, …` (an image's importance
    /// samples together): on the host the gather of those rows; on a device one broadcasting copy forward and one sum
    /// back, with no indices to copy there.
    public func repeatingEachRow(_ times: Int) -> Tensor {
        precondition(rank >= 1 && times >= 1, "repeatingEachRow: \(times) times for a tensor of shape \(shape)")
        if let backend = Tensor.backend(self) { return repeatingEachRowOnDevice(times, backend) }
        return gathering((0..<shape[0]).flatMap { Array(repeating: $0, count: times) })
    }

    /// Entries `indices` along `axis` (repeats allowed); the gradient scatter-adds back.
    public func gathering(_ indices: [Int], alongAxis axis: Int = 0) -> Tensor {
        let axis = resolve(axis: axis, "gather")
        let (outer, length, inner) = Kernels.split(shape, axis: axis)
        precondition(indices.allSatisfy { $0 >= 0 && $0 < length }, "gather: index out of range 0..<\(length)")
        if let backend = Tensor.backend(self) { return gatheringOnDevice(indices, alongAxis: axis, backend) }
        var output = [Float]()
        output.reserveCapacity(outer * indices.count * inner)
        let input = scalars   // once: on a device, each read of `scalars` is a copy
        for o in 0..<outer {
            for index in indices {
                let start = (o * length + index) * inner
                output.append(contentsOf: input[start ..< start + inner])
            }
        }
        var outputShape = shape
        outputShape[axis] = indices.count
        let total = count
        return Tensor.record(shape: outputShape, scalars: output, inputs: [self]) { g in
            var gradient = [Float](repeating: 0, count: total)
            for o in 0..<outer {
                for (position, index) in indices.enumerated() {
                    let source = (o * indices.count + position) * inner
                    let target = (o * length + index) * inner
                    for i in 0..<inner { gradient[target + i] += g[source + i] }
                }
            }
            return [gradient]
        }
    }
}
