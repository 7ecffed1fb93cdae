#if canImport(CBLAS)
import CBLAS
#endif
import CKernels

/// Sixteen-lane exp and log1p for the hot elementwise loops (BCE with logits, its gradient).
///
/// glibc's `expf`/`log1pf` are scalar calls, and the Bernoulli likelihood makes two of them per pixel per step;
/// these run sixteen lanes with no calls. Pure arithmetic in a fixed order, so results are reproducible.
/// Accuracy, measured against Foundation in `VectorMathTests` over 2·10⁶ points: exp on [−87, 88] within
/// 2 ulp (relative error below 2.5·10⁻⁷); log1p on [0, 1] within 2 ulp.
enum VectorMath {
    typealias Lanes = SIMD16<Float>

    /// eˣ for x in [−87, 88] (inputs below −87 give e⁻⁸⁷ ≈ 1.6·10⁻³⁸ instead of a subnormal or 0).
    /// Cody–Waite reduction x = n·ln 2 + r, |r| ≤ ½ ln 2, then a degree-6 polynomial for eʳ (Cephes' expf
    /// coefficients) and 2ⁿ built in the exponent bits.
    @inline(__always)
    static func exp(_ input: Lanes) -> Lanes {
        // Compare-and-blend, not `clamped`: that one checks every lane for NaN in a scalar loop.
        let low = input.replacing(with: -87, where: input .< -87)
        let x = low.replacing(with: 88, where: low .> 88)
        // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits (|n| ≤ 127),
        // without the generic (slow, unspecialised) SIMD rounding conversions.
        let shifter: Float = 12_582_912
        let shifted = x * 1.442_695_04 + shifter
        let n = shifted - shifter
        var r = x - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = Lanes(repeating: 1.987_569_1e-4)
        p = p * r + 1.398_199_9e-3
        p = p * r + 8.333_452e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_5e-1
        p = p * r + 5.000_000_1e-1
        let er = p * (r * r) + r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return er * unsafeBitCast(exponent, to: Lanes.self)
    }

    /// log(1 + u) for u in [0, 1]: y = 1 + u rounded, the rounding error c = u − (y − 1) added back as c / y;
    /// log y by y = 2ᵏ·m with m in [√½, √2] and log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172
    /// (the atanh series to s⁹: truncation below 10⁻⁹ relative).
    @inline(__always)
    static func log1p(_ u: Lanes) -> Lanes {
        let y = 1 + u
        let correction = (u - (y - 1)) / y
        let high = y .> 1.414_213_5
        let m = y.replacing(with: y * 0.5, where: high)
        // fdlibm's form: log(1 + f) = f − (½f² − s·(½f² + R)), which keeps the leading f exact.
        let f = m - 1
        let s = f / (2 + f)
        let z = s * s
        var r = Lanes(repeating: 2.0 / 9)
        r = r * z + 2.0 / 7
        r = r * z + 2.0 / 5
        r = r * z + 2.0 / 3
        r = r * z
        let halfSquare = 0.5 * f * f
        let ln2High: Float = 0.693_145_75, ln2Low: Float = 1.428_606_8e-6
        let k = Lanes(repeating: 0).replacing(with: 1, where: high)
        return k * ln2High - ((halfSquare - (s * (halfSquare + r) + (k * ln2Low + correction))) - f)
    }

    /// Binary cross-entropy with logits, max(x, 0) − x·t + log(1 + e^−|x|), and sigmoid(x), from one e^−|x|.
    @inline(__always)
    static func crossEntropyAndSigmoid(_ x: Lanes, _ t: Lanes) -> (crossEntropy: Lanes, sigmoid: Lanes) {
        let e = exp(-abs(x))
        let positive = x .>= 0
        let crossEntropy = x.replacing(with: 0, where: .!positive) - x * t + log1p(e)
        let inverse = 1 / (1 + e)
        return (crossEntropy, (e * inverse).replacing(with: inverse, where: positive))
    }

    @inline(__always)
    static func abs(_ x: Lanes) -> Lanes {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Lanes.self)
    }

    /// Scalar forms for loop tails: the same arithmetic in lane 0, so a pixel's value does not depend on
    /// where it falls in a row.
    @inline(__always)
    static func crossEntropyAndSigmoid(_ x: Float, _ t: Float) -> (crossEntropy: Float, sigmoid: Float) {
        let (c, s) = crossEntropyAndSigmoid(Lanes(repeating: x), Lanes(repeating: t))
        return (c[0], s[0])
    }
}

extension Kernels {
    /// max(x, 0) − x·t + log(1 + e^−|x|) elementwise, sixteen lanes at a time.
    static func crossEntropy(_ logits: [Float], _ labels: [Float]) -> [Float] {
        lanewise(logits, labels) { VectorMath.crossEntropyAndSigmoid($0, $1).crossEntropy }
            scalar: { VectorMath.crossEntropyAndSigmoid($0, $1).crossEntropy }
    }

    /// g · (sigmoid(x) − t) elementwise.
    static func crossEntropyGradient(_ upstream: [Float], _ logits: [Float], _ labels: [Float]) -> [Float] {
        let scaled = lanewise(logits, labels) { VectorMath.crossEntropyAndSigmoid($0, $1).sigmoid - $1 }
            scalar: { VectorMath.crossEntropyAndSigmoid($0, $1).sigmoid - $1 }
        return zip(upstream, scaled, *)
    }

    @inline(__always)
    static func lanewise(_ first: [Float], _ second: [Float], _ body: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>,
                         scalar: (Float, Float) -> Float) -> [Float] {
        let count = first.count
        precondition(second.count == count)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = UnsafeMutableRawPointer(buffer.baseAddress!)
            first.withUnsafeBufferPointer { firstBuffer in
                second.withUnsafeBufferPointer { secondBuffer in
                    let (a, b) = (firstBuffer.baseAddress!, secondBuffer.baseAddress!)
                    let (rawA, rawB) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
                    var index = 0
                    while index + 16 <= count {
                        let result = body(rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self),
                                          rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self))
                        output.storeBytes(of: result, toByteOffset: index * 4, as: SIMD16<Float>.self)
                        index += 16
                    }
                    while index < count {
                        output.storeBytes(of: scalar(a[index], b[index]), toByteOffset: index * 4, as: Float.self)
                        index += 1
                    }
                }
            }
            initialized = count
        }
    }

    /// Row sums of the cross-entropy, summed in ``sum(_:)``'s order (sixteen lane sums, then the tail), and
    /// optionally the sigmoid of every logit for the gradient.
    static func crossEntropyRowSums(_ logits: [Float], _ labels: [Float], rows: Int, width: Int,
                                    keepingSigmoid: Bool) -> (sums: [Float], sigmoids: [Float]?) {
        var sums = [Float](repeating: 0, count: rows)
        var sigmoids = [Float](repeating: 0, count: keepingSigmoid ? rows * width : 0)
        logits.withUnsafeBufferPointer { logitBuffer in
            labels.withUnsafeBufferPointer { labelBuffer in
                sigmoids.withUnsafeMutableBufferPointer { sigmoidBuffer in
                    let (x, t) = (UnsafeRawPointer(logitBuffer.baseAddress!), UnsafeRawPointer(labelBuffer.baseAddress!))
                    let sigmoid = keepingSigmoid ? UnsafeMutableRawPointer(sigmoidBuffer.baseAddress!) : nil
                    let rowSums = sums.withUnsafeMutableBufferPointer { $0.baseAddress! }
                    // Rows are independent and each is summed in the same order whichever thread takes it, so
                    // splitting large inputs (IWAE's k decoded samples) over the BLAS threads is bit-identical.
                    // The loop is CKernels' (AVX-512/AVX2/baseline clones of the same arithmetic as VectorMath).
                    Parallel.forEachChunk(of: rows, minimumWork: width, grain: 1 << 17) { chunk in
                        let offset = chunk.lowerBound * width
                        vae_cross_entropy_row_sums(chunk.count, width, x.assumingMemoryBound(to: Float.self) + offset,
                                                   t.assumingMemoryBound(to: Float.self) + offset, rowSums + chunk.lowerBound,
                                                   sigmoid.map { $0.assumingMemoryBound(to: Float.self) + offset })
                    }
                }
            }
        }
        return (sums, keepingSigmoid ? sigmoids : nil)
    }

    /// g_row · (s − t) elementwise, with one g per row of `width`.
    static func rowScaledDifference(_ upstream: [Float], _ sigmoids: [Float], _ labels: [Float],
                                    rows: Int, width: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * width) { buffer, initialized in
            let output = buffer.baseAddress!
            sigmoids.withUnsafeBufferPointer { sigmoidBuffer in
                labels.withUnsafeBufferPointer { labelBuffer in
                    let (s, t) = (sigmoidBuffer.baseAddress!, labelBuffer.baseAddress!)
                    for row in 0..<rows {
                        let g = upstream[row], base = row * width
                        for column in 0..<width { output[base + column] = g * (s[base + column] - t[base + column]) }
                    }
                }
            }
            initialized = rows * width
        }
    }
}

/// Lane-wise math for SIMD loops in other modules (the optimisers).
public enum SIMDMath {
    /// IEEE square roots of sixteen lanes, bit-identical to `SIMD16<Float>.squareRoot()` but vectorised
    /// (sqrtps on x86; see CBLAS/shim.h); elsewhere it is that method.
    @inlinable @inline(__always)
    public static func squareRoot(_ values: SIMD16<Float>) -> SIMD16<Float> {
        #if canImport(CBLAS) && arch(x86_64)
        var result = values
        withUnsafeMutableBytes(of: &result) { vae_square_roots16($0.baseAddress!.assumingMemoryBound(to: Float.self)) }
        return result
        #else
        return values.squareRoot()
        #endif
    }
}
