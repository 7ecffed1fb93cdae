import Foundation

/// Tight loops over unsafe buffers. The closures are `@inline(__always)` arguments, so each call site is
/// specialised into a plain (vectorisable) loop: no per-element closure call survives optimisation.
enum Kernels {
    @inline(__always)
    static func map(_ input: [Float], _ body: (Float) -> Float) -> [Float] {
        let count = input.count
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            input.withUnsafeBufferPointer { source in
                for index in 0..<count { output[index] = body(source[index]) }
            }
            initialized = count
        }
    }

    @inline(__always)
    static func zip(_ first: [Float], _ second: [Float], _ body: (Float, Float) -> Float) -> [Float] {
        let count = first.count
        precondition(second.count == count)
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            first.withUnsafeBufferPointer { a in
                second.withUnsafeBufferPointer { b in
                    for index in 0..<count { output[index] = body(a[index], b[index]) }
                }
            }
            initialized = count
        }
    }

    @inline(__always)
    static func zip3(_ first: [Float], _ second: [Float], _ third: [Float],
                     _ body: (Float, Float, Float) -> Float) -> [Float] {
        let count = first.count
        precondition(second.count == count && third.count == count)
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            first.withUnsafeBufferPointer { a in
                second.withUnsafeBufferPointer { b in
                    third.withUnsafeBufferPointer { c in
                        for index in 0..<count { output[index] = body(a[index], b[index], c[index]) }
                    }
                }
            }
            initialized = count
        }
    }

    static func addInPlace(_ target: inout [Float], _ addend: [Float]) {
        precondition(target.count == addend.count)
        let count = target.count
        target.withUnsafeMutableBufferPointer { t in
            addend.withUnsafeBufferPointer { a in
                for index in 0..<count { t[index] += a[index] }
            }
        }
    }

    static func sum(_ values: UnsafeBufferPointer<Float>) -> Float {
        // Four accumulators: vectorisable and a little more accurate than one running sum.
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        let count = values.count
        var index = 0
        while index + 4 <= count {
            s0 += values[index]; s1 += values[index + 1]; s2 += values[index + 2]; s3 += values[index + 3]
            index += 4
        }
        while index < count { s0 += values[index]; index += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// Splits `shape` around `axis` into (outer, axis length, inner) for axis-wise loops.
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// log(1 + eˣ) without overflow.
    @inline(__always)
    static func softplus(_ x: Float) -> Float {
        Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
    }
}

extension Tensor {
    /// Normalises a possibly negative axis and checks it is in range.
    func resolve(axis: Int, _ op: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "\(op): axis \(axis) out of range for shape \(shape)")
        return resolved
    }
}
