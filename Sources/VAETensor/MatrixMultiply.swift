extension Tensor {
    /// Matrix product op(self) · op(other) of rank-2 tensors, through BLAS sgemm.
    /// With `transposingSelf`, self is read as its transpose (and likewise for `other`), without copies.
    ///
    /// Derivatives, for C = op(A)·op(B) with upstream G:
    /// dA = G·op(B)ᵀ (or op(B)·Gᵀ when A is transposed); dB = op(A)ᵀ·G (or Gᵀ·op(A) when B is transposed).
    public func matmul(_ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul: needs rank-2 tensors, got \(shape) and \(other.shape)")
        let (m, k) = transposingSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
        let (k2, n) = transposingOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        precondition(k == k2, "matmul: inner dimensions differ: \(shape)\(transposingSelf ? "ᵀ" : "") · \(other.shape)\(transposingOther ? "ᵀ" : "")")
        if let backend = Tensor.backend(self, other) {
            return matmulOnDevice(other, transposingSelf: transposingSelf, transposingOther: transposingOther, backend)
        }
        let a = scalars, b = other.scalars
        let output = Tensor.gemm(a, transposingSelf, b, transposingOther, m: m, n: n, k: k)
        let (needA, needB) = (isTracked, other.isTracked)
        let (tA, tB) = (transposingSelf, transposingOther)
        return Tensor.record(shape: [m, n], scalars: output, inputs: [self, other]) { g in
            var gradientA: [Float]?, gradientB: [Float]?
            if needA {
                // A is stored m×k (or k×m when transposed).
                gradientA = tA ? Tensor.gemm(b, tB, g, true, m: k, n: m, k: n)
                               : Tensor.gemm(g, false, b, !tB, m: m, n: k, k: n)
            }
            if needB {
                gradientB = tB ? Tensor.gemm(g, true, a, tA, m: n, n: k, k: m)
                               : Tensor.gemm(a, !tA, g, false, m: k, n: n, k: m)
            }
            return [gradientA, gradientB]
        }
    }

    /// Row-major op(A)[m×k] · op(B)[k×n] into a fresh array.
    static func gemm(_ a: [Float], _ transposeA: Bool, _ b: [Float], _ transposeB: Bool,
                     m: Int, n: Int, k: Int) -> [Float] {
        if m == 0 || n == 0 { return [] }
        if k == 0 { return [Float](repeating: 0, count: m * n) }
        return [Float](unsafeUninitializedCapacity: m * n) { output, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              a: pa.baseAddress!, b: pb.baseAddress!, c: output.baseAddress!)
                }
            }
            initialized = m * n
        }
    }
}

extension Tensor {
    /// The affine map x·Wᵀ + b in one op: W is `[outputs, inputs]` (PyTorch's layout), b is `[outputs]`.
    /// The bias is written into the output rows and sgemm accumulates onto it (β = 1), so no broadcast
    /// temporary is made. Derivatives: dx = G·W, dW = Gᵀ·x, db = column sums of G. With `activationSlope`, a leaky
    /// ReLU of that slope (0: ReLU) follows in the same op on a device (the bias and the activation in one launch,
    /// both gradients in one); on the host it is the `relu()` or `leakyRelu(slope:)` op after it, with the same values.
    public func linear(weight: Tensor, bias: Tensor?, activationSlope: Float? = nil) -> Tensor {
        precondition(rank == 2 && weight.rank == 2 && shape[1] == weight.shape[1],
                     "linear: input \(shape) does not fit weight \(weight.shape)")
        let (m, k, n) = (shape[0], shape[1], weight.shape[0])
        if let bias { precondition(bias.shape == [n], "linear: bias \(bias.shape) does not fit weight \(weight.shape)") }
        if let backend = Tensor.backend(self, weight, bias) {
            return linearOnDevice(weight: weight, bias: bias, activationSlope: activationSlope, backend)
        }
        let x = scalars, w = weight.scalars
        var output = [Float](unsafeUninitializedCapacity: m * n) { out, initialized in
            // Each row starts as the bias (sgemm then adds onto it) or zero; row copies, not an element loop.
            if let bias {
                bias.scalars.withUnsafeBufferPointer { b in
                    for row in 0..<m { (out.baseAddress! + row * n).initialize(from: b.baseAddress!, count: n) }
                }
            } else if m * n > 0 {
                out.baseAddress!.initialize(repeating: 0, count: m * n)
            }
            initialized = m * n
        }
        if m > 0 && n > 0 && k > 0 {
            x.withUnsafeBufferPointer { px in
                w.withUnsafeBufferPointer { pw in
                    output.withUnsafeMutableBufferPointer { out in
                        BLAS.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: px.baseAddress!,
                                  b: pw.baseAddress!, beta: bias == nil ? 0 : 1, c: out.baseAddress!)
                    }
                }
            }
        }
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias?.isTracked ?? false)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        let result = Tensor.record(shape: [m, n], scalars: output, inputs: inputs) { g in
            var gradients: [[Float]?] = [
                needInput ? Tensor.gemm(g, false, w, false, m: m, n: k, k: n) : nil,
                needWeight ? Tensor.gemm(g, true, x, false, m: n, n: k, k: m) : nil,
            ]
            if bias != nil {
                var columnSums = [Float](repeating: 0, count: n)
                if needBias {
                    g.withUnsafeBufferPointer { upstream in
                        columnSums.withUnsafeMutableBufferPointer { sums in
                            // Pointer per row, so the inner loop has no overflow-checked index arithmetic and vectorises.
                            let total = sums.baseAddress!
                            for row in 0..<m {
                                let source = upstream.baseAddress! + row * n
                                for column in 0..<n { total[column] += source[column] }
                            }
                        }
                    }
                }
                gradients.append(needBias ? columnSums : nil)
            }
            return gradients
        }
        return result.rectified(slope: activationSlope)
    }
}
