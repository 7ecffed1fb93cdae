import Foundation

// Elementwise ops. Each forward sits next to its derivative.

extension Tensor {
    /// Applies a broadcasting binary op: inputs are expanded to the common shape, `forward` runs on equal
    /// shapes, and `derivatives` returns the output-shaped gradients for each input, which are then summed
    /// back over the stretched axes.
    @inline(__always)
    static func broadcasting(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, forward: ([Float], [Float]) -> [Float],
                             derivatives: @escaping (_ upstream: [Float], _ a: [Float], _ b: [Float],
                                                     _ needA: Bool, _ needB: Bool) -> ([Float]?, [Float]?))
    -> Tensor {
        if let backend = backend(a, b) { return onDevice(op, a, b, backend) }
        let shape = a.shape == b.shape ? a.shape : Broadcasting.shape(a.shape, b.shape)
        let left = Broadcasting.expand(a.scalars, from: a.shape, to: shape)
        let right = Broadcasting.expand(b.scalars, from: b.shape, to: shape)
        let (needA, needB) = (a.isTracked, b.isTracked)
        let (shapeA, shapeB) = (a.shape, b.shape)
        return record(shape: shape, scalars: forward(left, right), inputs: [a, b]) { upstream in
            let (gradientA, gradientB) = derivatives(upstream, left, right, needA, needB)
            return [gradientA.map { Broadcasting.reduce($0, from: shape, to: shapeA) },
                    gradientB.map { Broadcasting.reduce($0, from: shape, to: shapeB) }]
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.add, a, b, forward: { Kernels.zip($0, $1, +) }) { g, _, _, needA, needB in
            (needA ? g : nil, needB ? g : nil)
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.subtract, a, b, forward: { Kernels.zip($0, $1, -) }) { g, _, _, needA, needB in
            (needA ? g : nil, needB ? Kernels.map(g) { -$0 } : nil)
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.multiply, a, b, forward: { Kernels.zip($0, $1, *) }) { g, x, y, needA, needB in
            (needA ? Kernels.zip(g, y, *) : nil, needB ? Kernels.zip(g, x, *) : nil)
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.divide, a, b, forward: { Kernels.zip($0, $1, /) }) { g, x, y, needA, needB in
            (needA ? Kernels.zip(g, y, /) : nil,
             needB ? Kernels.zip3(g, x, y) { g, x, y in -g * x / (y * y) } : nil)
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a.unary(.unary(.negate), { -$0 }) { g, _, _ in -g } }

    public static func + (a: Tensor, b: Float) -> Tensor { a.unary(.scalar(.add, b), { $0 + b }) { g, _, _ in g } }
    public static func - (a: Tensor, b: Float) -> Tensor { a.unary(.scalar(.add, -b), { $0 - b }) { g, _, _ in g } }
    public static func * (a: Tensor, b: Float) -> Tensor { a.unary(.scalar(.multiply, b), { $0 * b }) { g, _, _ in g * b } }
    public static func / (a: Tensor, b: Float) -> Tensor { a * (1 / b) }
    public static func + (a: Float, b: Tensor) -> Tensor { b + a }
    public static func - (a: Float, b: Tensor) -> Tensor { b.unary(.scalar(.subtractFrom, a), { a - $0 }) { g, _, _ in -g } }
    public static func * (a: Float, b: Tensor) -> Tensor { b * a }

    /// A unary op whose derivative is `derivative(upstream, input, output)` elementwise.
    @inline(__always)
    func unary(_ op: DeviceElementwise, _ forward: (Float) -> Float,
               _ derivative: @escaping (Float, Float, Float) -> Float) -> Tensor {
        if let backend = Tensor.backend(self) { return onDevice(op, backend) }
        let input = scalars
        let output = Kernels.map(input, forward)
        return Tensor.record(shape: shape, scalars: output, inputs: [self]) { upstream in
            [Kernels.zip3(upstream, input, output, derivative)]
        }
    }

    public func exp() -> Tensor { unary(.unary(.exp), { Foundation.exp($0) }) { g, _, y in g * y } }
    public func log() -> Tensor { unary(.unary(.log), { Foundation.log($0) }) { g, x, _ in g / x } }
    public func sqrt() -> Tensor { unary(.unary(.sqrt), { Foundation.sqrt($0) }) { g, _, y in g * 0.5 / y } }
    public func squared() -> Tensor { unary(.unary(.square), { $0 * $0 }) { g, x, _ in 2 * g * x } }
    public func pow(_ exponent: Float) -> Tensor {
        unary(.unary(.pow, parameter: exponent), { Foundation.pow($0, exponent) }) { g, x, _ in g * exponent * Foundation.pow(x, exponent - 1) }
    }
    /// max(x, 0); gradient g where x > 0, else 0. Its own kernels: through `unary(_:_:)` the derivative was a
    /// closure called per element (the MLP's hottest elementwise op).
    public func relu() -> Tensor {
        if let backend = Tensor.backend(self) { return onDevice(.unary(.relu), backend) }
        let input = scalars
        return Tensor.record(shape: shape, scalars: Kernels.relu(input), inputs: [self]) { upstream in
            [Kernels.reluGradient(upstream, input)]
        }
    }
    /// `relu()` for slope 0, `leakyRelu(slope:)` otherwise, `self` for nil: the activation that the affine ops
    /// (`linear`, `conv2d`, `transposedConv2d`) fuse on a device, as the host applies it after them.
    func rectified(slope: Float?) -> Tensor {
        guard let slope else { return self }
        Tensor.requireActivationSlope(slope)
        return slope == 0 ? relu() : leakyRelu(slope: slope)
    }

    /// A fused activation's slope is finite and at least 0 (the gradient reads the output's sign for the input's).
    static func requireActivationSlope(_ slope: Float?) {
        guard let slope else { return }
        precondition(slope >= 0 && slope.isFinite, "a fused activation's slope must be finite and at least 0, got \(slope)")
    }

    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        unary(.unary(.leakyRelu, parameter: slope), { $0 > 0 ? $0 : slope * $0 }) { g, x, _ in x > 0 ? g : slope * g }
    }
    public func sigmoid() -> Tensor { unary(.unary(.sigmoid), { Kernels.sigmoid($0) }) { g, _, y in g * y * (1 - y) } }
    public func tanh() -> Tensor { unary(.unary(.tanh), { Foundation.tanh($0) }) { g, _, y in g * (1 - y * y) } }
    /// The straight-through estimator (Bengio et al. 2013): the result's value is `value`, and the gradient
    /// passes to `self` unchanged, as if the result were `self`. Gumbel-Softmax's hard samples and VQ-VAE's
    /// quantised codes use it.
    public func passingGradient(withValue value: Tensor) -> Tensor {
        precondition(shape == value.shape, "passingGradient: shape \(shape) vs value \(value.shape)")
        if let backend = Tensor.backend(self, value) { return passingGradientOnDevice(withValue: value, backend) }
        return Tensor.record(shape: shape, scalars: value.scalars, inputs: [self]) { upstream in [upstream] }
    }

    /// log(1 + eˣ), computed without overflow.
    public func softplus() -> Tensor { unary(.unary(.softplus), { Kernels.softplus($0) }) { g, x, _ in g * Kernels.sigmoid(x) } }

    /// Elementwise binary cross-entropy of `targets` (in [0, 1]) under Bernoulli `self` = logits:
    /// max(x, 0) − x·t + log(1 + e^−|x|), stable for any logit. Gradient: sigmoid(x) − t for the logits,
    /// −x for the targets.
    public func binaryCrossEntropy(targets: Tensor) -> Tensor {
        precondition(shape == targets.shape, "binaryCrossEntropy: logits \(shape) vs targets \(targets.shape)")
        if let backend = Tensor.backend(self, targets) { return binaryCrossEntropyOnDevice(targets: targets, backend) }
        let (logits, labels) = (scalars, targets.scalars)
        let (needLogits, needTargets) = (isTracked, targets.isTracked)
        let output = Kernels.crossEntropy(logits, labels)
        return Tensor.record(shape: shape, scalars: output, inputs: [self, targets]) { upstream in
            [needLogits ? Kernels.crossEntropyGradient(upstream, logits, labels) : nil,
             needTargets ? Kernels.zip(upstream, logits) { g, x in -g * x } : nil]
        }
    }

    /// ``binaryCrossEntropy(targets:)`` summed over the last axis in the same pass (one value per row), as
    /// `binaryCrossEntropy(targets:).sum(alongAxis: -1)` but without the elementwise temporary; the sigmoid the
    /// gradient needs is kept from the forward pass. Gradient: g_row · (sigmoid(x) − t) for the logits, −g_row · x
    /// for the targets.
    public func binaryCrossEntropySums(targets: Tensor) -> Tensor {
        precondition(shape == targets.shape && rank >= 1,
                     "binaryCrossEntropySums: logits \(shape) vs targets \(targets.shape)")
        if let backend = Tensor.backend(self, targets) {
            return binaryCrossEntropySumsOnDevice(targets: targets, backend)
        }
        let width = shape[rank - 1], rows = width == 0 ? 0 : count / width
        let (logits, labels) = (scalars, targets.scalars)
        let (needLogits, needTargets) = (isTracked, targets.isTracked)
        let (sums, sigmoids) = Kernels.crossEntropyRowSums(logits, labels, rows: rows, width: width,
                                                            keepingSigmoid: needLogits)
        let inputShape = shape
        return Tensor.record(shape: Array(shape.dropLast()), scalars: sums, inputs: [self, targets]) { upstream in
            [needLogits ? Kernels.rowScaledDifference(upstream, sigmoids!, labels, rows: rows, width: width) : nil,
             needTargets ? Broadcasting.expand(upstream, from: Array(inputShape.dropLast()) + [1], to: inputShape)
                 .enumerated().map { -$0.element * logits[$0.offset] } : nil]
        }
    }
}

extension Tensor {
    /// Adds `other` elementwise in place, outside any tape (summing gradients of a batch's shards); large tensors
    /// are split over the BLAS's current thread count (``Parallel/forEachChunk(of:minimumWork:grain:_:)``). The
    /// result is the same for any split.
    public mutating func addInPlace(_ other: Tensor) {
        precondition(shape == other.shape, "addInPlace: \(shape) vs \(other.shape)")
        other.scalars.withUnsafeBufferPointer { addendBuffer in
            withUnsafeMutableScalars { targetBuffer in
                let (target, addend) = (targetBuffer.baseAddress!, addendBuffer.baseAddress!)
                Parallel.forEachChunk(of: targetBuffer.count, minimumWork: 1, grain: 1 << 16) { chunk in
                    for index in chunk { target[index] += addend[index] }
                }
            }
        }
    }
}
