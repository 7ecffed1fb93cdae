// `Tensor`'s ops when an input lives on a device: each moves its other inputs there (recorded, so their gradients
// go back), calls the device's ``TensorBackend`` and records a pullback whose gradients stay on it. The host ops
// dispatch here at their first line; an op without a device version runs on the host with copies
// (`Tensor.record(shape:scalars:inputs:pullback:op:)`).

/// An elementwise op of one tensor as the device runs it.
enum DeviceElementwise {
    case unary(UnaryOp, parameter: Float = 0)
    case scalar(ScalarOp, Float)
}

extension Tensor {
    var storage: any DeviceStorage { deviceStorage! }

    static func onDevice(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ backend: any TensorBackend) -> Tensor {
        if let folded = withHostConstant(op, a, b, backend) { return folded }
        let (a, b) = (a.moved(to: backend), b.moved(to: backend))
        let (x, y) = (a.storage, b.storage)
        let (needA, needB) = (a.isTracked, b.isTracked)
        return record(Tensor(device: backend.binary(op, x, y)), inputs: [a, b]) { g in
            let gradients = backend.binaryGradients(op, upstream: g.device, x, y, needing: (needA, needB))
            return [gradients.a.map(TensorStorage.device), gradients.b.map(TensorStorage.device)]
        }
    }

    /// The value of a constant on the host: one value (shape []) that is not tracked; nil for any other tensor.
    var hostConstant: Float? { deviceStorage == nil && shape.isEmpty && !isTracked ? hostScalars[0] : nil }

    /// A device tensor and a constant on the host (one value, shape [], not tracked: a fixed variance's log) as the
    /// scalar op that gives the same bits (x − s is x + (−s) in IEEE arithmetic), so the constant is not copied to the
    /// device (a copy there waits for the device's queue); a division (x·(1/s) is not x/s) as the division, with s
    /// set there by a fill. Nil for other operands.
    static func withHostConstant(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ backend: any TensorBackend) -> Tensor? {
        let (x, s, constantFirst): (Tensor, Float, Bool)
        if let value = b.hostConstant, a.deviceStorage != nil { (x, s, constantFirst) = (a, value, false) }
        else if let value = a.hostConstant, b.deviceStorage != nil { (x, s, constantFirst) = (b, value, true) }
        else { return nil }
        switch op {
        case .add: return x.onDevice(.scalar(.add, s), backend)
        case .multiply: return x.onDevice(.scalar(.multiply, s), backend)
        case .subtract: return x.onDevice(constantFirst ? .scalar(.subtractFrom, s) : .scalar(.add, -s), backend)
        case .divide:
            let constant = Tensor(device: backend.filled([], with: s))
            return constantFirst ? onDevice(.divide, constant, x, backend) : onDevice(.divide, x, constant, backend)
        }
    }

    func onDevice(_ op: DeviceElementwise, _ backend: any TensorBackend) -> Tensor {
        let x = storage
        switch op {
        case .unary(let unary, let parameter):
            let y = backend.unary(unary, x, parameter: parameter)
            return Tensor.record(Tensor(device: y), inputs: [self]) { g in
                [.device(backend.unaryGradient(unary, upstream: g.device, input: x, output: y, parameter: parameter))]
            }
        case .scalar(let scalar, let value):
            return Tensor.record(Tensor(device: backend.scalar(scalar, x, value)), inputs: [self]) { g in
                switch scalar {
                case .add: return [g]
                case .multiply: return [.device(backend.scalar(.multiply, g.device, value))]
                case .subtractFrom: return [.device(backend.scalar(.multiply, g.device, -1))]
                }
            }
        }
    }

    func sumOnDevice(_ backend: any TensorBackend) -> Tensor {
        let inputShape = shape
        return Tensor.record(Tensor(device: backend.sum(storage)), inputs: [self]) { g in
            [.device(backend.expand(g.device, to: inputShape))]
        }
    }

    func sumOnDevice(alongAxis axis: Int, keepingDimension: Bool, _ backend: any TensorBackend) -> Tensor {
        let inputShape = shape
        var kept = shape
        kept[axis] = 1
        let sums = backend.sum(storage, alongAxis: axis)
        let output = keepingDimension ? sums : backend.reshaped(sums, to: reducedShape(axis, false))
        return Tensor.record(Tensor(device: output), inputs: [self]) { g in
            [.device(backend.expand(backend.reshaped(g.device, to: kept), to: inputShape))]
        }
    }

    func logSumExpOnDevice(alongAxis axis: Int, keepingDimension: Bool, _ backend: any TensorBackend) -> Tensor {
        let x = storage
        let kept = backend.logSumExp(x, alongAxis: axis)
        let output = keepingDimension ? kept : backend.reshaped(kept, to: reducedShape(axis, false))
        return Tensor.record(Tensor(device: output), inputs: [self]) { g in
            [.device(backend.logSumExpGradient(upstream: backend.reshaped(g.device, to: kept.shape), input: x, output: kept, alongAxis: axis))]
        }
    }

    func maximumOnDevice(alongAxis axis: Int, keepingDimension: Bool, _ backend: any TensorBackend) -> Tensor {
        let inputShape = shape
        let (kept, winners) = backend.maximum(storage, alongAxis: axis)
        let output = keepingDimension ? kept : backend.reshaped(kept, to: reducedShape(axis, false))
        return Tensor.record(Tensor(device: output), inputs: [self]) { g in
            [.device(backend.maximumGradient(upstream: backend.reshaped(g.device, to: kept.shape), winners: winners,
                                             alongAxis: axis, inputShape: inputShape))]
        }
    }

    func upsampledNearestOnDevice(factor: Int, _ backend: any TensorBackend) -> Tensor {
        Tensor.record(Tensor(device: backend.upsampledNearest(storage, factor: factor)), inputs: [self]) { g in
            [.device(backend.upsampledNearestGradient(upstream: g.device, factor: factor))]
        }
    }

    /// Gradients: g · (sigmoid(x) − t) for the logits (the sigmoid computed when the pullback runs), −g · x for
    /// the targets.
    func binaryCrossEntropyOnDevice(targets: Tensor, _ backend: any TensorBackend) -> Tensor {
        let (input, targets) = (moved(to: backend), targets.moved(to: backend))
        let (logits, labels) = (input.storage, targets.storage)
        let (needLogits, needTargets) = (input.isTracked, targets.isTracked)
        let losses = backend.binaryCrossEntropy(logits: logits, targets: labels)
        return Tensor.record(Tensor(device: losses), inputs: [input, targets]) { upstream in
            let g = upstream.device
            let sigmoids = needLogits ? backend.unary(.sigmoid, logits, parameter: 0) : nil
            return [sigmoids.map { .device(backend.binaryCrossEntropyGradient(upstream: g, sigmoids: $0, targets: labels)) },
                    needTargets ? .device(backend.scalar(.multiply, backend.binary(.multiply, g, logits), -1)) : nil]
        }
    }

    func gatheringOnDevice(_ indices: [Int], alongAxis axis: Int, _ backend: any TensorBackend) -> Tensor {
        let inputShape = shape
        let (values, onDevice) = backend.gather(storage, indices: indices, alongAxis: axis)
        return Tensor.record(Tensor(device: values), inputs: [self]) { g in
            [.device(backend.gatherGradient(upstream: g.device, indices: onDevice, alongAxis: axis, inputShape: inputShape))]
        }
    }

    /// `[rows, 1, width]` broadcast to `[rows, times, width]`; the gradient its sum along the repeats.
    func repeatingEachRowOnDevice(_ times: Int, _ backend: any TensorBackend) -> Tensor {
        let (inputShape, rows) = (shape, shape[0])
        let width = shape.dropFirst().reduce(1, *)
        let repeated = backend.expand(backend.reshaped(storage, to: [rows, 1, width]), to: [rows, times, width])
        return Tensor.record(Tensor(device: backend.reshaped(repeated, to: [rows * times] + shape.dropFirst())), inputs: [self]) { g in
            let summed = backend.sum(backend.reshaped(g.device, to: [rows, times, width]), alongAxis: 1)
            return [.device(backend.reshaped(summed, to: inputShape))]
        }
    }

    func reshapedOnDevice(_ newShape: [Int], _ backend: any TensorBackend) -> Tensor {
        let inputShape = shape
        return Tensor.record(Tensor(device: backend.reshaped(storage, to: newShape)), inputs: [self]) { g in
            [.device(backend.reshaped(g.device, to: inputShape))]
        }
    }

    /// Derivatives as the host's `matmul`: dA = G·op(B)ᵀ (or op(B)·Gᵀ), dB = op(A)ᵀ·G (or Gᵀ·op(A)).
    func matmulOnDevice(_ other: Tensor, transposingSelf tA: Bool, transposingOther tB: Bool,
                        _ backend: any TensorBackend) -> Tensor {
        let (left, right) = (moved(to: backend), other.moved(to: backend))
        let (a, b) = (left.storage, right.storage)
        let (needA, needB) = (left.isTracked, right.isTracked)
        let product = backend.matmul(a, transposingA: tA, b, transposingB: tB)
        return Tensor.record(Tensor(device: product), inputs: [left, right]) { upstream in
            let g = upstream.device
            let gradientA = !needA ? nil : tA ? backend.matmul(b, transposingA: tB, g, transposingB: true)
                                             : backend.matmul(g, transposingA: false, b, transposingB: !tB)
            let gradientB = !needB ? nil : tB ? backend.matmul(g, transposingA: true, a, transposingB: tA)
                                             : backend.matmul(a, transposingA: !tA, g, transposingB: false)
            return [gradientA.map(TensorStorage.device), gradientB.map(TensorStorage.device)]
        }
    }

    func linearOnDevice(weight: Tensor, bias: Tensor?, activationSlope: Float?, _ backend: any TensorBackend) -> Tensor {
        Tensor.requireActivationSlope(activationSlope)
        let (input, weight, bias) = (moved(to: backend), weight.moved(to: backend), bias?.moved(to: backend))
        let (x, w) = (input.storage, weight.storage)
        let (needInput, needWeight, needBias) = (input.isTracked, weight.isTracked, bias?.isTracked ?? false)
        let output = backend.linear(x, weight: w, bias: bias?.storage, activationSlope: activationSlope)
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        return Tensor.record(Tensor(device: output), inputs: inputs) { g in
            let gradients = backend.linearGradients(upstream: g.device, input: x, weight: w, needingInput: needInput,
                                                    activation: activationSlope.map { (output, $0) })
            let result: [TensorStorage?] = [gradients.input.map(TensorStorage.device),
                                            needWeight ? .device(gradients.weight) : nil]
            return bias == nil ? result : result + [needBias ? .device(gradients.bias) : nil]
        }
    }

    /// `conv2d` (`transposed`: `transposedConv2d`) with its three gradients and the fused activation.
    func convolutionOnDevice(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry, transposed: Bool,
                             outputPadding: Int, activationSlope: Float?, _ backend: any TensorBackend) -> Tensor {
        Tensor.requireActivationSlope(activationSlope)
        let (input, weight, bias) = (moved(to: backend), weight.moved(to: backend), bias?.moved(to: backend))
        let (x, w, inputShape) = (input.storage, weight.storage, shape)
        let (needInput, needWeight, needBias) = (input.isTracked, weight.isTracked, bias?.isTracked ?? false)
        let (output, saved) = transposed
            ? backend.transposedConv2d(x, weight: w, bias: bias?.storage, geometry: geometry, outputPadding: outputPadding,
                                       activationSlope: activationSlope)
            : backend.conv2d(x, weight: w, bias: bias?.storage, geometry: geometry, activationSlope: activationSlope)
        let activation = activationSlope.map { (output: output, slope: $0) }
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        return Tensor.record(Tensor(device: output), inputs: inputs) { g in
            let gradients = transposed
                ? backend.transposedConv2dGradients(upstream: g.device, inputShape: inputShape, weight: w, saved: saved, geometry: geometry,
                                                    activation: activation)
                : backend.conv2dGradients(upstream: g.device, inputShape: inputShape, weight: w, saved: saved, geometry: geometry,
                                          activation: activation)
            let result: [TensorStorage?] = [needInput ? .device(gradients.input) : nil,
                                            needWeight ? .device(gradients.weight) : nil]
            return bias == nil ? result : result + [needBias ? .device(gradients.bias) : nil]
        }
    }

    func binaryCrossEntropySumsOnDevice(targets: Tensor, _ backend: any TensorBackend) -> Tensor {
        let (input, targets) = (moved(to: backend), targets.moved(to: backend))
        let (logits, labels) = (input.storage, targets.storage)
        let (needLogits, needTargets) = (input.isTracked, targets.isTracked)
        let (sums, sigmoids) = backend.binaryCrossEntropySums(logits: logits, targets: labels)
        let rowShape = Array(shape.dropLast()) + [1]
        return Tensor.record(Tensor(device: sums), inputs: [input, targets]) { upstream in
            let g = upstream.device
            // −g_row · x for the targets.
            let forTargets = needTargets
                ? backend.scalar(.multiply, backend.binary(.multiply, backend.reshaped(g, to: rowShape), logits), -1) : nil
            return [needLogits ? .device(backend.binaryCrossEntropyGradient(upstream: g, sigmoids: sigmoids, targets: labels)) : nil,
                    forTargets.map(TensorStorage.device)]
        }
    }
}

// Layout ops and batch normalisation on a device.
extension Tensor {
    func transposedOnDevice(_ order: [Int], inverse: [Int], _ backend: any TensorBackend) -> Tensor {
        Tensor.record(Tensor(device: backend.permuted(storage, order: order)), inputs: [self]) { g in
            [.device(backend.permuted(g.device, order: inverse))]
        }
    }

    func sliceOnDevice(_ range: Range<Int>, alongAxis axis: Int, _ backend: any TensorBackend) -> Tensor {
        let inputShape = shape
        return Tensor.record(Tensor(device: backend.sliced(storage, range, alongAxis: axis)), inputs: [self]) { g in
            [.device(backend.sliceGradient(upstream: g.device, range, alongAxis: axis, inputShape: inputShape))]
        }
    }

    static func concatenateOnDevice(_ tensors: [Tensor], alongAxis axis: Int, _ backend: any TensorBackend) -> Tensor {
        let parts = tensors.map { $0.moved(to: backend) }
        let needs = parts.map(\.isTracked)
        let joined = backend.concatenated(parts.map(\.storage), alongAxis: axis)
        return record(Tensor(device: joined), inputs: parts) { g in
            var start = 0
            return zip(parts, needs).map { part, needed in
                let range = start ..< start + part.shape[axis]
                start = range.upperBound
                return needed ? .device(backend.sliced(g.device, range, alongAxis: axis)) : nil
            }
        }
    }

    /// A split's gradient on a device (``split(_:alongAxis:)``): its parts' gradients (zeros for a part with none)
    /// joined along `axis`.
    static func joinedOnDevice(_ gradients: [TensorStorage?], shapes: [[Int]], alongAxis axis: Int,
                               _ backend: any TensorBackend) -> TensorStorage {
        let parts = zip(gradients, shapes).map { gradient, shape -> any DeviceStorage in
            switch gradient {
            case .device(let storage)?: return backend.reshaped(storage, to: shape)
            case .host(let values)?: return backend.upload(values, shape: shape)
            case nil: return backend.filled(shape, with: 0)
            }
        }
        return .device(backend.concatenated(parts, alongAxis: axis))
    }

    /// `value`'s elements (moved here) with `self`'s gradient passing through.
    func passingGradientOnDevice(withValue value: Tensor, _ backend: any TensorBackend) -> Tensor {
        let value = withoutGradients { value.moved(to: backend) }
        return Tensor.record(Tensor(device: value.storage), inputs: [moved(to: backend)]) { g in [g] }
    }

    /// `batchNormalized` on `backend`; given `running` averages (moved there, untracked), also those averages moved
    /// toward the batch's statistics by the same launch.
    func batchNormalizedOnDevice(weight: Tensor, bias: Tensor, epsilon: Float, activationSlope: Float, _ backend: any TensorBackend,
                                 running: (mean: Tensor, variance: Tensor, momentum: Float, correction: Float)? = nil)
    -> (output: Tensor, mean: Tensor, variance: Tensor, running: (mean: Tensor, variance: Tensor)?) {
        let (input, weight, bias) = (moved(to: backend), weight.moved(to: backend), bias.moved(to: backend))
        let (x, w) = (input.storage, weight.storage)
        let (needInput, needWeight, needBias) = (input.isTracked, weight.isTracked, bias.isTracked)
        let averages = withoutGradients {
            running.map { ($0.mean.moved(to: backend).storage, $0.variance.moved(to: backend).storage, $0.momentum, $0.correction) }
        }
        let (y, mean, variance, moved) = backend.batchNormalized(x, weight: w, bias: bias.storage, epsilon: epsilon,
                                                                 activationSlope: activationSlope, running: averages)
        let output = Tensor.record(Tensor(device: y), inputs: [input, weight, bias]) { g in
            let gradients = backend.batchNormalizedGradients(upstream: g.device, input: x, output: y, weight: w, mean: mean,
                                                             variance: variance, epsilon: epsilon,
                                                             activationSlope: activationSlope, needingInput: needInput)
            return [gradients.input.map(TensorStorage.device), needWeight ? .device(gradients.weight) : nil,
                    needBias ? .device(gradients.bias) : nil]
        }
        return (output, Tensor(device: mean), Tensor(device: variance), moved.map { (Tensor(device: $0.mean), Tensor(device: $0.variance)) })
    }
}
