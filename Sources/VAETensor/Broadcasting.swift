/// NumPy-style broadcasting: shapes align on the right; a dimension of 1 (or a missing one) stretches. The rule is
/// public so that a device backend checks and lays out its inputs as `Tensor`'s arithmetic does.
public enum Broadcasting {
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        guard let shape = resultShape(a, b) else { preconditionFailure("broadcast: shapes \(a) and \(b) are incompatible") }
        return shape
    }

    /// `values` of shape `source` materialised at shape `target`.
    static func expand(_ values: [Float], from source: [Int], to target: [Int]) -> [Float] {
        if source == target { return values }
        let count = target.reduce(1, *)
        if values.count == 1 { return [Float](repeating: values[0], count: count) }
        let strides = strides(of: source, as: target)
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                forEachRow(target, strides) { outputOffset, inputOffset, length, step in
                    for index in 0..<length { output[outputOffset + index] = input[inputOffset + index * step] }
                }
            }
            initialized = count
        }
    }

    /// Sums `values` of shape `source` down to shape `target` (the adjoint of ``expand``).
    static func reduce(_ values: [Float], from source: [Int], to target: [Int]) -> [Float] {
        if source == target { return values }
        var output = [Float](repeating: 0, count: target.reduce(1, *))
        let strides = strides(of: target, as: source)
        output.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { input in
                forEachRow(source, strides) { inputOffset, outputOffset, length, step in
                    for index in 0..<length { out[outputOffset + index * step] += input[inputOffset + index] }
                }
            }
        }
        return output
    }

    /// Walks a contiguous tensor of `shape` one innermost row at a time, giving the row's offset, the
    /// matching offset in a second tensor read through `strides`, the row length and the inner stride.
    @inline(__always)
    static func forEachRow(_ shape: [Int], _ strides: [Int], _ body: (Int, Int, Int, Int) -> Void) {
        guard let length = shape.last else { body(0, 0, 1, 0); return }
        let rank = shape.count
        let rows = shape.dropLast().reduce(1, *)
        if length == 0 || rows == 0 { return }
        var index = [Int](repeating: 0, count: rank)
        var otherOffset = 0
        for row in 0..<rows {
            body(row * length, otherOffset, length, strides[rank - 1])
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                otherOffset += strides[axis]
                if index[axis] < shape[axis] { break }
                otherOffset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// The shape that two shapes broadcast to in `Tensor`'s arithmetic (aligned on the last axis; a dimension of 1
    /// or a missing one stretches), or nil when they do not broadcast. A device backend checks its inputs with it.
    public static func resultShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        let paddedA = [Int](repeating: 1, count: rank - a.count) + a
        let paddedB = [Int](repeating: 1, count: rank - b.count) + b
        var shape: [Int] = []
        for (x, y) in zip(paddedA, paddedB) {
            guard x == y || x == 1 || y == 1 else { return nil }
            shape.append(x == 1 ? y : x)
        }
        return shape
    }

    /// The strides (in elements) at which a row-major array of shape `source` is read as `target`, a shape it
    /// broadcasts to: its own strides, 0 along the axes it is stretched over.
    public static func strides(of source: [Int], as target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - source.count) + source
        var strides = [Int](repeating: 0, count: target.count)
        var running = 1
        for axis in stride(from: target.count - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 && target[axis] != 1 ? 0 : running
            running *= padded[axis]
        }
        return strides
    }
}
