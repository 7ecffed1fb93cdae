import Foundation
import VAETensor

/// VAETensor's `TensorBackend` on a ``KernelDevice``: `Tensor`'s ops on tensors moved here (`moved(to:)`) run as
/// the kernels of ``DeviceOps``, and the tape's gradients stay on the device.
///
/// The first error (memory, a launch) is kept in ``failure``; every op after it does no work and returns storage
/// that reads back as NaN, so the step's loss is not finite and the trainer reports ``failure``. One op runs at a
/// time: threads that share the backend (a run's evaluation and pictures) take turns.
public final class CUDABackend: TensorBackend, @unchecked Sendable {
    public let ops: DeviceOps
    public private(set) var failure: (any Error)?
    /// How often each op without a device version ran on the host with copies (`TensorBackend.noteHostFallback(_:)`).
    public private(set) var hostFallbacks: [String: Int] = [:]
    public func noteHostFallback(_ op: String) { lock.withLock { hostFallbacks[op, default: 0] += 1 } }
    let lock = NSLock()
    /// ``constant(_:make:)``'s storages by key.
    var constants: [String: any DeviceStorage] = [:]
    public var name: String { ops.device.name }
    public var availableBytes: Int? { ops.device.availableBytes }

    public init(device: KernelDevice) { ops = DeviceOps(device: device) }
    /// With the launch sizes of `ops` (the tests' emulated device runs small blocks).
    public init(ops: DeviceOps) { self.ops = ops }

    /// A backend's storage: a ``DeviceTensor``, or nil once the backend has failed.
    final class Storage: DeviceStorage {
        let owner: CUDABackend
        let tensor: DeviceTensor?
        let shape: [Int]
        var backend: any TensorBackend { owner }
        init(_ owner: CUDABackend, _ tensor: DeviceTensor?, shape: [Int]) { (self.owner, self.tensor, self.shape) = (owner, tensor, shape) }
    }

    func tensor(_ storage: any DeviceStorage) -> DeviceTensor? {
        guard let storage = storage as? Storage, storage.owner === self else {
            preconditionFailure("CUDABackend: storage of \(storage.backend.name) given to \(name)")
        }
        return storage.tensor
    }

    /// Runs `body` on the inputs' device tensors unless the backend has failed or an input is a placeholder;
    /// an error becomes ``failure`` and placeholders of `shapes`.
    func run(_ shapes: [[Int]], _ inputs: [any DeviceStorage], _ body: ([DeviceTensor]) throws -> [DeviceTensor]) -> [any DeviceStorage] {
        let tensors = inputs.compactMap(tensor)
        lock.lock()
        defer { lock.unlock() }
        if failure == nil && tensors.count == inputs.count {
            do {
                return try body(tensors).map { Storage(self, $0, shape: $0.shape) }
            } catch {
                failure = error
            }
        }
        return shapes.map { Storage(self, nil, shape: $0) }
    }

    func run(_ shape: [Int], _ inputs: [any DeviceStorage], _ body: ([DeviceTensor]) throws -> DeviceTensor) -> any DeviceStorage {
        run([shape], inputs) { [try body($0)] }[0]
    }

    public func upload(_ values: [Float], shape: [Int]) -> any DeviceStorage {
        run(shape, []) { _ in try DeviceTensor(device: ops.device, shape: shape, values: values) }
    }

    public func constant(_ key: String, make: () -> Tensor) -> any DeviceStorage {
        if let made = lock.withLock({ constants[key] }) { return made }
        let value = make()
        let made = upload(value.scalars, shape: value.shape)
        lock.withLock { constants[key] = made }
        return made
    }

    public func filled(_ shape: [Int], with value: Float) -> any DeviceStorage {
        run(shape, []) { _ in try ops.filled(shape, with: value) }
    }

    public func download(_ x: any DeviceStorage) -> [Float] {
        let count = x.shape.reduce(1, *)
        lock.lock()
        defer { lock.unlock() }
        if failure == nil, let tensor = tensor(x) {
            do { return try tensor.values() } catch { failure = error }
        }
        return [Float](repeating: .nan, count: count)
    }

    public func reshaped(_ x: any DeviceStorage, to shape: [Int]) -> any DeviceStorage {
        guard let tensor = tensor(x) else { return Storage(self, nil, shape: shape) }
        return Storage(self, tensor.reshaped(shape), shape: shape)
    }

    public func nonFiniteFlag(_ xs: [any DeviceStorage]) -> any DeviceStorage {
        run([], xs) { try ops.nonFiniteFlag($0) }
    }

    public func unary(_ op: UnaryOp, _ x: any DeviceStorage, parameter: Float) -> any DeviceStorage {
        run(x.shape, [x]) { try ops.unary(op, $0[0], parameter: parameter) }
    }

    public func unaryGradient(_ op: UnaryOp, upstream g: any DeviceStorage, input x: any DeviceStorage,
                              output y: any DeviceStorage, parameter: Float) -> any DeviceStorage {
        run(x.shape, [g, x, y]) { try ops.unaryGradient(op, upstream: $0[0], input: $0[1], output: $0[2], parameter: parameter) }
    }

    public func scalar(_ op: ScalarOp, _ x: any DeviceStorage, _ s: Float) -> any DeviceStorage {
        run(x.shape, [x]) {
            switch op {
            case .add: return try ops.shifted($0[0], by: s)
            case .multiply: return try ops.scaled($0[0], by: s)
            case .subtractFrom: return try ops.subtracted(from: s, $0[0])
            }
        }
    }

    public func binary(_ op: BinaryOp, _ a: any DeviceStorage, _ b: any DeviceStorage) -> any DeviceStorage {
        run(Broadcasting.resultShape(a.shape, b.shape) ?? a.shape, [a, b]) { try ops.binary(op, $0[0], $0[1]) }
    }

    public func binaryGradients(_ op: BinaryOp, upstream g: any DeviceStorage, _ a: any DeviceStorage, _ b: any DeviceStorage,
                                needing: (a: Bool, b: Bool)) -> (a: (any DeviceStorage)?, b: (any DeviceStorage)?) {
        let shapes = [needing.a ? a.shape : nil, needing.b ? b.shape : nil].compactMap { $0 }
        var gradients = run(shapes, [g, a, b]) {
            let result = try ops.binaryGradients(op, upstream: $0[0], $0[1], $0[2], needing: needing)
            return [result.a, result.b].compactMap { $0 }
        }.makeIterator()
        return (needing.a ? gradients.next() : nil, needing.b ? gradients.next() : nil)
    }

    public func expand(_ x: any DeviceStorage, to shape: [Int]) -> any DeviceStorage {
        run(shape, [x]) { try ops.expanded($0[0], to: shape) }
    }

    public func add(_ a: any DeviceStorage, _ b: any DeviceStorage) -> any DeviceStorage {
        run(a.shape, [a, b]) { try ops.binary(.add, $0[0], $0[1]) }
    }

    public func sum(_ x: any DeviceStorage) -> any DeviceStorage {
        run([], [x]) { try ops.sum($0[0]) }
    }

    public func sum(_ x: any DeviceStorage, alongAxis axis: Int) -> any DeviceStorage {
        var kept = x.shape
        kept[axis] = 1
        return run(kept, [x]) { try ops.sum($0[0], alongAxis: axis, keepingDimension: true) }
    }

    public func logSumExp(_ x: any DeviceStorage, alongAxis axis: Int) -> any DeviceStorage {
        var kept = x.shape
        kept[axis] = 1
        return run(kept, [x]) { try ops.logSumExp($0[0], alongAxis: axis) }
    }

    public func logSumExpGradient(upstream g: any DeviceStorage, input x: any DeviceStorage, output y: any DeviceStorage,
                                  alongAxis axis: Int) -> any DeviceStorage {
        run(x.shape, [g, x, y]) { try ops.logSumExpGradient(upstream: $0[0], input: $0[1], output: $0[2], alongAxis: axis) }
    }

    public func maximum(_ x: any DeviceStorage, alongAxis axis: Int) -> (values: any DeviceStorage, winners: any DeviceStorage) {
        var kept = x.shape
        kept[axis] = 1
        let outputs = run([kept, [2 * kept.reduce(1, *)]], [x]) {
            let result = try ops.maximum($0[0], alongAxis: axis)
            return [result.values, result.winners]
        }
        return (outputs[0], outputs[1])
    }

    public func maximumGradient(upstream g: any DeviceStorage, winners: any DeviceStorage, alongAxis axis: Int,
                                inputShape: [Int]) -> any DeviceStorage {
        run(inputShape, [g, winners]) { try ops.maximumGradient(upstream: $0[0], winners: $0[1], alongAxis: axis, inputShape: inputShape) }
    }

    public func gather(_ x: any DeviceStorage, indices: [Int], alongAxis axis: Int) -> (values: any DeviceStorage, indices: any DeviceStorage) {
        var shape = x.shape
        shape[axis] = indices.count
        let outputs = run([shape, [2 * indices.count]], [x]) {
            let result = try ops.gather($0[0], indices: indices, alongAxis: axis)
            return [result.values, result.indices]
        }
        return (outputs[0], outputs[1])
    }

    public func gatherGradient(upstream g: any DeviceStorage, indices: any DeviceStorage, alongAxis axis: Int, inputShape: [Int]) -> any DeviceStorage {
        run(inputShape, [g, indices]) { try ops.gatherGradient(upstream: $0[0], indices: $0[1], alongAxis: axis, inputShape: inputShape) }
    }

    public func matmul(_ a: any DeviceStorage, transposingA: Bool, _ b: any DeviceStorage,
                       transposingB: Bool) -> any DeviceStorage {
        let shape = [transposingA ? a.shape[1] : a.shape[0], transposingB ? b.shape[0] : b.shape[1]]
        return run(shape, [a, b]) { try ops.matmul($0[0], $0[1], transposingA: transposingA, transposingB: transposingB) }
    }

    public func linear(_ x: any DeviceStorage, weight: any DeviceStorage, bias: (any DeviceStorage)?,
                       activationSlope: Float?) -> any DeviceStorage {
        run([x.shape[0], weight.shape[0]], [x, weight] + (bias.map { [$0] } ?? [])) {
            try ops.linear($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, activationSlope: activationSlope)
        }
    }

    /// `activation` as DeviceOps takes it: its output is the last of `tensors`, where the gradients place it among `run`'s inputs.
    func fused(_ activation: (output: any DeviceStorage, slope: Float)?, _ tensors: [DeviceTensor]) -> (output: DeviceTensor, slope: Float)? {
        activation.map { (tensors.last!, $0.slope) }
    }

    public func linearGradients(upstream g: any DeviceStorage, input x: any DeviceStorage, weight: any DeviceStorage,
                                needingInput: Bool, activation: (output: any DeviceStorage, slope: Float)?)
        -> (input: (any DeviceStorage)?, weight: any DeviceStorage, bias: any DeviceStorage) {
        let gradients = run([weight.shape, [weight.shape[0]]] + (needingInput ? [x.shape] : []), [g, x, weight] + (activation.map { [$0.output] } ?? [])) {
            let result = try ops.linearGradients(upstream: $0[0], input: $0[1], weight: $0[2], needingInput: needingInput,
                                                 activation: fused(activation, $0))
            return [result.weight, result.bias] + (result.input.map { [$0] } ?? [])
        }
        return (needingInput ? gradients[2] : nil, gradients[0], gradients[1])
    }

    public func conv2d(_ x: any DeviceStorage, weight: any DeviceStorage, bias: (any DeviceStorage)?,
                       geometry: ConvolutionGeometry, activationSlope: Float?) -> (output: any DeviceStorage, saved: any DeviceStorage) {
        let (height, width) = (geometry.convolvedSize(x.shape[2], kernel: geometry.kernelHeight), geometry.convolvedSize(x.shape[3], kernel: geometry.kernelWidth))
        let patch = weight.shape[1] * geometry.kernelHeight * geometry.kernelWidth
        let outputs = run([[x.shape[0], weight.shape[0], height, width], [patch, x.shape[0] * height * width]], [x, weight] + (bias.map { [$0] } ?? [])) {
            let result = try ops.conv2d($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, geometry, activationSlope: activationSlope)
            return [result.output, result.columns]
        }
        return (outputs[0], outputs[1])
    }

    public func conv2dGradients(upstream g: any DeviceStorage, inputShape: [Int], weight: any DeviceStorage,
                                saved: any DeviceStorage, geometry: ConvolutionGeometry, activation: (output: any DeviceStorage, slope: Float)?)
        -> (input: any DeviceStorage, weight: any DeviceStorage, bias: any DeviceStorage) {
        let gradients = run([inputShape, weight.shape, [weight.shape[0]]], [g, weight, saved] + (activation.map { [$0.output] } ?? [])) {
            let result = try ops.conv2dGradients(upstream: $0[0], inputShape: inputShape, weight: $0[1], columns: $0[2], geometry,
                                                 activation: fused(activation, $0))
            return [result.input, result.weight, result.bias]
        }
        return (gradients[0], gradients[1], gradients[2])
    }

    public func transposedConv2d(_ x: any DeviceStorage, weight: any DeviceStorage, bias: (any DeviceStorage)?,
                                 geometry: ConvolutionGeometry, outputPadding: Int, activationSlope: Float?)
        -> (output: any DeviceStorage, saved: any DeviceStorage) {
        let height = geometry.transposedSize(x.shape[2], kernel: geometry.kernelHeight, outputPadding: outputPadding)
        let width = geometry.transposedSize(x.shape[3], kernel: geometry.kernelWidth, outputPadding: outputPadding)
        let outputs = run([[x.shape[0], weight.shape[1], height, width], [x.shape[1], x.shape[0] * x.shape[2] * x.shape[3]]],
                          [x, weight] + (bias.map { [$0] } ?? [])) {
            let result = try ops.transposedConv2d($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, geometry, outputPadding: outputPadding,
                                                  activationSlope: activationSlope)
            return [result.output, result.inputColumns]
        }
        return (outputs[0], outputs[1])
    }

    public func transposedConv2dGradients(upstream g: any DeviceStorage, inputShape: [Int], weight: any DeviceStorage,
                                          saved: any DeviceStorage, geometry: ConvolutionGeometry,
                                          activation: (output: any DeviceStorage, slope: Float)?)
        -> (input: any DeviceStorage, weight: any DeviceStorage, bias: any DeviceStorage) {
        let gradients = run([inputShape, weight.shape, [weight.shape[1]]], [g, weight, saved] + (activation.map { [$0.output] } ?? [])) {
            let result = try ops.transposedConv2dGradients(upstream: $0[0], inputShape: inputShape, weight: $0[1], inputColumns: $0[2], geometry,
                                                           activation: fused(activation, $0))
            return [result.input, result.weight, result.bias]
        }
        return (gradients[0], gradients[1], gradients[2])
    }

    public func gruCell(inputGates: any DeviceStorage, hiddenGates: any DeviceStorage, hidden: any DeviceStorage) -> any DeviceStorage {
        run(hidden.shape, [inputGates, hiddenGates, hidden]) { try ops.gruCell(inputGates: $0[0], hiddenGates: $0[1], hidden: $0[2]) }
    }

    public func gruCellGradients(upstream g: any DeviceStorage, inputGates: any DeviceStorage, hiddenGates: any DeviceStorage,
                                 hidden: any DeviceStorage) -> (inputGates: any DeviceStorage, hiddenGates: any DeviceStorage, hidden: any DeviceStorage) {
        let gradients = run([inputGates.shape, hiddenGates.shape, hidden.shape], [g, inputGates, hiddenGates, hidden]) {
            let result = try ops.gruCellGradients(upstream: $0[0], inputGates: $0[1], hiddenGates: $0[2], hidden: $0[3])
            return [result.inputGates, result.hiddenGates, result.hidden]
        }
        return (gradients[0], gradients[1], gradients[2])
    }

    public func lstmCell(inputGates: any DeviceStorage, hiddenGates: any DeviceStorage, cell: any DeviceStorage) -> any DeviceStorage {
        run([2] + cell.shape, [inputGates, hiddenGates, cell]) { try ops.lstmCell(inputGates: $0[0], hiddenGates: $0[1], cell: $0[2]) }
    }

    public func lstmCellGradients(upstream g: any DeviceStorage, inputGates: any DeviceStorage, hiddenGates: any DeviceStorage,
                                  cell: any DeviceStorage) -> (gates: any DeviceStorage, cell: any DeviceStorage) {
        let gradients = run([inputGates.shape, cell.shape], [g, inputGates, hiddenGates, cell]) {
            let result = try ops.lstmCellGradients(upstream: $0[0], inputGates: $0[1], hiddenGates: $0[2], cell: $0[3])
            return [result.gates, result.cell]
        }
        return (gradients[0], gradients[1])
    }

    public func binaryCrossEntropySums(logits: any DeviceStorage, targets: any DeviceStorage)
        -> (sums: any DeviceStorage, sigmoids: any DeviceStorage) {
        let outputs = run([Array(logits.shape.dropLast()), logits.shape], [logits, targets]) {
            let result = try ops.binaryCrossEntropySums(logits: $0[0], targets: $0[1])
            return [result.sums, result.sigmoids]
        }
        return (outputs[0], outputs[1])
    }

    public func random(shape: [Int], first: Int, counter: UInt64, seed: UInt64, stream: UInt64, normal: Bool) -> any DeviceStorage {
        run(shape, []) { _ in try ops.random(shape: shape, first: first, counter: counter, seed: seed, stream: stream, normal: normal) }
    }

    public func adamUpdate(_ parameters: [AdamBuffers], _ step: AdamStep) {
        // Each parameter's storage in a fixed order of five slots (a missing addend: the gradient, unused).
        let inputs = parameters.flatMap { [$0.weights, $0.gradient, $0.addend ?? $0.gradient, $0.first, $0.second] }
        _ = run([[]], inputs) { tensors in
            try ops.adamUpdate(parameters.indices.map { index in
                let at = 5 * index
                return (tensors[at], tensors[at + 1], parameters[index].addend == nil ? nil : tensors[at + 2], tensors[at + 3], tensors[at + 4])
            }, step)
            return []
        }
    }

    public func update(_ rule: OneSlotUpdate, weights: any DeviceStorage, gradient: any DeviceStorage, state: any DeviceStorage) {
        _ = run([[]], [weights, gradient, state]) {
            try ops.update(rule, weights: $0[0], gradient: $0[1], state: $0[2])
            return []
        }
    }

    public func binaryCrossEntropy(logits: any DeviceStorage, targets: any DeviceStorage) -> any DeviceStorage {
        run(logits.shape, [logits, targets]) { try ops.binaryCrossEntropy(logits: $0[0], targets: $0[1]) }
    }

    public func binaryCrossEntropyGradient(upstream g: any DeviceStorage, sigmoids: any DeviceStorage,
                                           targets: any DeviceStorage) -> any DeviceStorage {
        run(sigmoids.shape, [g, sigmoids, targets]) {
            try ops.binaryCrossEntropyGradient(upstream: $0[0], sigmoids: $0[1], targets: $0[2])
        }
    }

    public func gather(_ x: any DeviceStorage, positions: any DeviceStorage, count: Int) -> any DeviceStorage {
        var shape = x.shape
        shape[0] = count
        return run(shape, [x, positions]) { try ops.gather($0[0], positions: $0[1], count: count) }
    }

    public func oneHot(positions: any DeviceStorage, count: Int, classes: Int) -> any DeviceStorage {
        run([count, classes], [positions]) { try ops.oneHot(positions: $0[0], count: count, classes: classes) }
    }

    public func mirroredLines(_ x: any DeviceStorage, draws: any DeviceStorage, width: Int) -> any DeviceStorage {
        run(x.shape, [x, draws]) { try ops.mirroredLines($0[0], draws: $0[1], width: width) }
    }

    public func binarized(_ x: any DeviceStorage, draws: any DeviceStorage) -> any DeviceStorage {
        run(x.shape, [x, draws]) { try ops.binarized($0[0], draws: $0[1]) }
    }

    public func sortRows(_ x: any DeviceStorage) -> (values: any DeviceStorage, order: any DeviceStorage) {
        let outputs = run([x.shape, [2 * x.shape.reduce(1, *)]], [x]) {
            let result = try ops.sortRows($0[0])
            return [result.values, result.order]
        }
        return (outputs[0], outputs[1])
    }

    public func sortRowsGradient(upstream g: any DeviceStorage, order: any DeviceStorage, shape: [Int]) -> any DeviceStorage {
        run(shape, [g, order]) { try ops.sortRowsGradient(upstream: $0[0], order: $0[1]) }
    }

    public func upsampledNearest(_ x: any DeviceStorage, factor: Int) -> any DeviceStorage {
        run([x.shape[0], x.shape[1], x.shape[2] * factor, x.shape[3] * factor], [x]) { try ops.upsampledNearest($0[0], factor: factor) }
    }

    public func upsampledNearestGradient(upstream g: any DeviceStorage, factor: Int) -> any DeviceStorage {
        run([g.shape[0], g.shape[1], g.shape[2] / factor, g.shape[3] / factor], [g]) {
            try ops.upsampledNearestGradient(upstream: $0[0], factor: factor)
        }
    }
}

// Layout ops, batch normalisation and its running averages, and the softmax cross-entropy.
extension CUDABackend {
    public func permuted(_ x: any DeviceStorage, order: [Int]) -> any DeviceStorage {
        run(order.map { x.shape[$0] }, [x]) { try ops.permuted($0[0], order: order) }
    }

    public func sliced(_ x: any DeviceStorage, _ range: Range<Int>, alongAxis axis: Int) -> any DeviceStorage {
        var shape = x.shape
        shape[axis] = range.count
        return run(shape, [x]) { try ops.sliced($0[0], range, alongAxis: axis) }
    }

    public func sliceGradient(upstream g: any DeviceStorage, _ range: Range<Int>, alongAxis axis: Int, inputShape: [Int]) -> any DeviceStorage {
        run(inputShape, [g]) { try ops.sliceGradient(upstream: $0[0], range, alongAxis: axis, inputShape: inputShape) }
    }

    public func concatenated(_ parts: [any DeviceStorage], alongAxis axis: Int) -> any DeviceStorage {
        var shape = parts[0].shape
        shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        return run(shape, parts) { try ops.concatenated($0, alongAxis: axis) }
    }

    public func batchNormalized(_ x: any DeviceStorage, weight: any DeviceStorage, bias: any DeviceStorage, epsilon: Float,
                                activationSlope: Float,
                                running: (mean: any DeviceStorage, variance: any DeviceStorage, momentum: Float, correction: Float)?)
        -> (output: any DeviceStorage, mean: any DeviceStorage, variance: any DeviceStorage,
            running: (mean: any DeviceStorage, variance: any DeviceStorage)?) {
        let channels = [x.shape[1]]
        let inputs: [any DeviceStorage] = [x, weight, bias] + (running.map { [$0.mean, $0.variance] } ?? [])
        let outputs = run([x.shape, channels, channels] + (running == nil ? [] : [channels, channels]), inputs) { tensors in
            let moving = running.map { (mean: tensors[3], variance: tensors[4], momentum: $0.momentum, correction: $0.correction) }
            let result = try ops.batchNormalized(tensors[0], weight: tensors[1], bias: tensors[2], epsilon: epsilon,
                                                 activationSlope: activationSlope, running: moving)
            return [result.output, result.mean, result.variance] + (result.running.map { [$0.mean, $0.variance] } ?? [])
        }
        return (outputs[0], outputs[1], outputs[2], running == nil ? nil : (outputs[3], outputs[4]))
    }

    public func softmaxCrossEntropy(_ logits: any DeviceStorage, targets: [Int])
        -> (losses: any DeviceStorage, softmax: any DeviceStorage, labels: any DeviceStorage) {
        let outputs = run([[logits.shape[0]], logits.shape, [2 * targets.count]], [logits]) {
            let result = try ops.softmaxCrossEntropy($0[0], targets: targets)
            return [result.losses, result.softmax, result.labels]
        }
        return (outputs[0], outputs[1], outputs[2])
    }

    public func softmaxCrossEntropy(_ logits: any DeviceStorage, labels: any DeviceStorage) -> (losses: any DeviceStorage, softmax: any DeviceStorage) {
        let outputs = run([[logits.shape[0]], logits.shape], [logits, labels]) {
            let result = try ops.softmaxCrossEntropy($0[0], labels: $0[1])
            return [result.losses, result.softmax]
        }
        return (outputs[0], outputs[1])
    }

    public func softmaxCrossEntropyGradient(upstream g: any DeviceStorage, softmax: any DeviceStorage, labels: any DeviceStorage) -> any DeviceStorage {
        run(softmax.shape, [g, softmax, labels]) { try ops.softmaxCrossEntropyGradient(upstream: $0[0], softmax: $0[1], labels: $0[2]) }
    }

    public func movingAverage(_ x: any DeviceStorage, toward new: any DeviceStorage, momentum: Float, scale: Float) -> any DeviceStorage {
        run(x.shape, [x, new]) { try ops.movingAverage($0[0], toward: $0[1], momentum: momentum, scale: scale) }
    }

    public func batchNormalizedGradients(upstream g: any DeviceStorage, input x: any DeviceStorage, output y: any DeviceStorage,
                                         weight: any DeviceStorage, mean: any DeviceStorage, variance: any DeviceStorage,
                                         epsilon: Float, activationSlope: Float, needingInput: Bool)
        -> (input: (any DeviceStorage)?, weight: any DeviceStorage, bias: any DeviceStorage) {
        let gradients = run([weight.shape, weight.shape] + (needingInput ? [x.shape] : []), [g, x, y, weight, mean, variance]) {
            let result = try ops.batchNormalizedGradients(upstream: $0[0], input: $0[1], output: $0[2], weight: $0[3], mean: $0[4],
                                                          variance: $0[5], epsilon: epsilon, activationSlope: activationSlope,
                                                          needingInput: needingInput)
            return [result.weight, result.bias] + (result.input.map { [$0] } ?? [])
        }
        return (needingInput ? gradients[2] : nil, gradients[0], gradients[1])
    }
}
