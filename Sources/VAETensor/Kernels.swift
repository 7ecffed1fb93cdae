import CKernels
import Foundation

/// Tight loops over unsafe buffers. The closures are `@inline(__always)` arguments, so each call site is
/// specialised into a plain (vectorisable) loop: no per-element closure call survives optimisation.
enum Kernels {
    @inline(__always)
    static func map(_ input: [Float], _ body: (Float) -> Float) -> [Float] {
        let count = input.count
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Local base pointers (not the inout buffer) let LLVM keep them in registers and vectorise.
            let output = buffer.baseAddress!
            input.withUnsafeBufferPointer { source in
                let a = source.baseAddress!
                for index in 0..<count { output[index] = body(a[index]) }
            }
            initialized = count
        }
    }

    @inline(__always)
    static func zip(_ first: [Float], _ second: [Float], _ body: (Float, Float) -> Float) -> [Float] {
        let count = first.count
        precondition(second.count == count)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = buffer.baseAddress!
            first.withUnsafeBufferPointer { firstBuffer in
                second.withUnsafeBufferPointer { secondBuffer in
                    let (a, b) = (firstBuffer.baseAddress!, secondBuffer.baseAddress!)
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
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = buffer.baseAddress!
            first.withUnsafeBufferPointer { firstBuffer in
                second.withUnsafeBufferPointer { secondBuffer in
                    third.withUnsafeBufferPointer { thirdBuffer in
                        let (a, b, c) = (firstBuffer.baseAddress!, secondBuffer.baseAddress!, thirdBuffer.baseAddress!)
                        for index in 0..<count { output[index] = body(a[index], b[index], c[index]) }
                    }
                }
            }
            initialized = count
        }
    }

    /// max(x, 0) sixteen lanes at a time.
    static func relu(_ input: [Float]) -> [Float] {
        let count = input.count
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = UnsafeMutableRawPointer(buffer.baseAddress!)
            input.withUnsafeBufferPointer { source in
                let x = UnsafeRawPointer(source.baseAddress!)
                var index = 0
                while index + 16 <= count {
                    let lanes = x.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
                    output.storeBytes(of: lanes.replacing(with: 0, where: lanes .<= 0), toByteOffset: index * 4,
                                      as: SIMD16<Float>.self)
                    index += 16
                }
                while index < count {
                    let value = x.load(fromByteOffset: index * 4, as: Float.self)
                    output.storeBytes(of: Swift.max(value, 0), toByteOffset: index * 4, as: Float.self)
                    index += 1
                }
            }
            initialized = count
        }
    }

    /// g where x > 0, else 0.
    static func reluGradient(_ upstream: [Float], _ input: [Float]) -> [Float] {
        lanewise(upstream, input) { g, x in SIMD16<Float>(repeating: 0).replacing(with: g, where: x .> 0) }
            scalar: { g, x in x > 0 ? g : 0 }
    }

    static func addInPlace(_ target: inout [Float], _ addend: [Float]) {
        precondition(target.count == addend.count)
        let count = target.count
        target.withUnsafeMutableBufferPointer { targetBuffer in
            addend.withUnsafeBufferPointer { addendBuffer in
                let (t, a) = (targetBuffer.baseAddress!, addendBuffer.baseAddress!)
                for index in 0..<count { t[index] += a[index] }
            }
        }
    }

    static func sum(_ values: UnsafeBufferPointer<Float>) -> Float {
        // Sixteen lanes of partial sums, then the lanes in order, then the tail: a fixed order, so the result is
        // reproducible (CKernels' loop, compiled per vector width).
        guard let base = values.baseAddress, values.count > 0 else { return 0 }
        return vae_sum(values.count, base)
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
