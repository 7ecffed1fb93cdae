import Foundation

// Reductions along an axis or over all elements, each with its derivative.

extension Tensor {
    /// Sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        if let backend = Tensor.backend(self) { return sumOnDevice(backend) }
        let total = scalars.withUnsafeBufferPointer { Kernels.sum($0) }
        let count = self.count
        return Tensor.record(shape: [], scalars: [total], inputs: [self]) { upstream in
            [[Float](repeating: upstream[0], count: count)]
        }
    }

    /// Mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum along `axis`; the axis is removed unless `keepingDimension`.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = resolve(axis: axis, "sum")
        if let backend = Tensor.backend(self) {
            return sumOnDevice(alongAxis: axis, keepingDimension: keepingDimension, backend)
        }
        let (outer, length, inner) = Kernels.split(shape, axis: axis)
        var output = [Float](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                let (input, out) = (inputBuffer.baseAddress!, outputBuffer.baseAddress!)
                if inner == 1 {
                    // Rows are contiguous: one vectorised reduction per row.
                    for o in 0..<outer {
                        out[o] = Kernels.sum(UnsafeBufferPointer(start: input + o * length, count: length))
                    }
                    return
                }
                for o in 0..<outer {
                    for j in 0..<length {
                        let base = (o * length + j) * inner
                        for i in 0..<inner { out[o * inner + i] += input[base + i] }
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.record(shape: reducedShape(axis, keepingDimension), scalars: output, inputs: [self]) { upstream in
            var reducedKept = inputShape
            reducedKept[axis] = 1
            return [Broadcasting.expand(upstream, from: reducedKept, to: inputShape)]
        }
    }

    /// Mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let length = shape[resolve(axis: axis, "mean")]
        return sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Float(Swift.max(length, 1)))
    }

    /// Maximum along `axis`; the gradient flows to the first maximal element.
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = resolve(axis: axis, "max")
        if let backend = Tensor.backend(self) { return maximumOnDevice(alongAxis: axis, keepingDimension: keepingDimension, backend) }
        let (outer, length, inner) = Kernels.split(shape, axis: axis)
        precondition(length > 0, "max: empty axis \(axis) in shape \(shape)")
        var output = [Float](repeating: -.infinity, count: outer * inner)
        var winners = [Int](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { input in
            for o in 0..<outer {
                for j in 0..<length {
                    for i in 0..<inner {
                        let value = input[(o * length + j) * inner + i]
                        if value > output[o * inner + i] || j == 0 {
                            output[o * inner + i] = value
                            winners[o * inner + i] = j
                        }
                    }
                }
            }
        }
        let total = count
        return Tensor.record(shape: reducedShape(axis, keepingDimension), scalars: output, inputs: [self]) { upstream in
            var gradient = [Float](repeating: 0, count: total)
            for o in 0..<outer {
                for i in 0..<inner {
                    gradient[(o * length + winners[o * inner + i]) * inner + i] = upstream[o * inner + i]
                }
            }
            return [gradient]
        }
    }

    /// log Σ exp along `axis`, shifted by the maximum so that it never overflows.
    /// Derivative: the softmax along the axis times the upstream gradient.
    public func logSumExp(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = resolve(axis: axis, "logSumExp")
        if let backend = Tensor.backend(self) { return logSumExpOnDevice(alongAxis: axis, keepingDimension: keepingDimension, backend) }
        let (outer, length, inner) = Kernels.split(shape, axis: axis)
        var output = [Float](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { input in
            for o in 0..<outer {
                for i in 0..<inner {
                    var peak = -Float.infinity
                    for j in 0..<length { peak = Swift.max(peak, input[(o * length + j) * inner + i]) }
                    if !peak.isFinite { output[o * inner + i] = peak; continue }
                    var total: Float = 0
                    for j in 0..<length { total += Foundation.exp(input[(o * length + j) * inner + i] - peak) }
                    output[o * inner + i] = peak + Foundation.log(total)
                }
            }
        }
        let input = scalars
        return Tensor.record(shape: reducedShape(axis, keepingDimension), scalars: output, inputs: [self]) { upstream in
            var gradient = [Float](repeating: 0, count: input.count)
            for o in 0..<outer {
                for j in 0..<length {
                    for i in 0..<inner {
                        let index = (o * length + j) * inner + i
                        gradient[index] = upstream[o * inner + i] * Foundation.exp(input[index] - output[o * inner + i])
                    }
                }
            }
            return [gradient]
        }
    }

    /// log((1/n) Σ exp(x)) along `axis` of length n: ``logSumExp(alongAxis:keepingDimension:)`` − log n, e.g. an
    /// importance-weighted bound from log weights. A composite op: its gradient comes from the two it is made of.
    public func logMeanExp(alongAxis axis: Int) -> Tensor {
        let length = shape[resolve(axis: axis, "logMeanExp")]
        return logSumExp(alongAxis: axis) - Float(Foundation.log(Double(length)))
    }

    func reducedShape(_ axis: Int, _ keepingDimension: Bool) -> [Int] {
        var reduced = shape
        if keepingDimension { reduced[axis] = 1 } else { reduced.remove(at: axis) }
        return reduced
    }
}
