import Foundation

/// Reverse-mode automatic differentiation on a tape.
///
/// Each op appends a record (its input nodes and a pullback from the output's gradient to the inputs')
/// while a tape is current; ``gradients(of:withRespectTo:)`` walks the records in reverse creation order.
///
/// ```swift
/// let tape = GradientTape()
/// let (loss, grads) = tape.recording { let w = tape.watch(weight); return ((w * w).sum(), w) } …
/// ```
public final class GradientTape {
    /// A pullback maps the gradient of the output to one gradient per input (nil where not needed).
    public typealias Pullback = ([Float]) -> [[Float]?]

    /// A pullback between storages: for ops on a device and for moves between host and device.
    public typealias StoragePullback = (TensorStorage) -> [TensorStorage?]

    struct Record {
        let inputs: [Int]
        let pullback: Pullback?
        var storagePullback: StoragePullback? = nil
        let count: Int
        /// For one part of a split (``Tensor/split(_:alongAxis:)``): the split's node, this part's position and the
        /// number of parts. The part's gradient is held until the walk reaches the split.
        var part: (split: Int, index: Int, of: Int)? = nil
        /// For a split: its input's gradient from its parts' (nil for a part that has none), in one piece.
        var join: (([TensorStorage?]) -> TensorStorage)? = nil
    }

    var records: [Record] = []
    /// Tracked copies of long-lived values (module parameters) by owner, so that each is watched once per tape.
    var watchedOwners: [ObjectIdentifier: (owner: AnyObject, tracked: Tensor)] = [:]

    /// The recording tape. Task-local, so concurrent tasks (parallel tests, servers) never share one.
    @TaskLocal static var current: GradientTape?
    nonisolated(unsafe) static var nextSerial = 1
    static let serialLock = NSLock()
    /// Distinguishes this tape's node numbers from any other tape's.
    let serial: Int

    public init() {
        GradientTape.serialLock.lock()
        serial = GradientTape.nextSerial
        GradientTape.nextSerial += 1
        GradientTape.serialLock.unlock()
    }

    /// The node of `tensor` on this tape, or -1 when it is not recorded here.
    @inline(__always)
    func node(of tensor: Tensor) -> Int { tensor.tapeSerial == serial ? tensor.node : -1 }

    /// Number of recorded nodes (leaves and ops).
    public var nodeCount: Int { records.count }

    /// Marks `tensor` as a leaf whose gradient is wanted; returns it tracked on this tape.
    public func watch(_ tensor: Tensor) -> Tensor {
        var tracked = tensor.detached
        tracked.node = records.count
        tracked.tapeSerial = serial
        records.append(Record(inputs: [], pullback: nil, count: tensor.count))
        return tracked
    }

    /// `tensor` tracked on this tape on behalf of `owner`: watched on the first call for that owner, the same
    /// node on later calls. The tape keeps `owner` alive while it exists.
    public func watch(_ tensor: Tensor, owner: AnyObject) -> Tensor {
        let key = ObjectIdentifier(owner)
        if let entry = watchedOwners[key] { return entry.tracked }
        let tracked = watch(tensor)
        watchedOwners[key] = (owner, tracked)
        return tracked
    }

    /// Runs `body` with this tape recording.
    public func recording<Result>(_ body: () throws -> Result) rethrows -> Result {
        try GradientTape.$current.withValue(self) { try body() }
    }

    /// Gradients of the scalar `loss` with respect to each of `targets` (zeros for a target that does not
    /// influence the loss). Intermediate gradients are released as soon as they are consumed.
    public func gradients(of loss: Tensor, withRespectTo targets: [Tensor]) -> [Tensor] {
        precondition(loss.count == 1, "gradients(of:): the loss must be a scalar, got shape \(loss.shape)")
        // Zeros where the target lives, for a target the loss does not depend on.
        func zeros(like target: Tensor) -> Tensor {
            target.deviceStorage.map { Tensor(device: $0.backend.filled(target.shape, with: 0)) } ?? Tensor.zeros(target.shape)
        }
        guard node(of: loss) >= 0 else { return targets.map(zeros) }
        var wanted = [Bool](repeating: false, count: records.count)
        for target in targets where node(of: target) >= 0 { wanted[target.node] = true }
        // Host gradients as arrays (added in place), device gradients as the device's storage.
        var gradients = [[Float]?](repeating: nil, count: records.count)
        var deviceGradients = [(any DeviceStorage)?](repeating: nil, count: records.count)
        if let storage = loss.deviceStorage {
            deviceGradients[loss.node] = storage.backend.filled([], with: 1)
        } else {
            gradients[loss.node] = [1]
        }
        // The gradients of a split's parts, by the split's node, until the walk reaches it.
        var partGradients: [Int: [TensorStorage?]] = [:]
        for index in stride(from: loss.node, through: 0, by: -1) {
            let record = records[index]
            if let join = record.join {
                if let parts = partGradients.removeValue(forKey: index) {
                    add([join(parts)], to: record.inputs, &gradients, &deviceGradients)
                }
                continue
            }
            if let part = record.part {
                let upstream = gradients[index].map(TensorStorage.host) ?? deviceGradients[index].map(TensorStorage.device)
                guard let upstream else { continue }
                if !wanted[index] { (gradients[index], deviceGradients[index]) = (nil, nil) }
                partGradients[part.split, default: Array(repeating: nil, count: part.of)][part.index] = upstream
                continue
            }
            if let upstream = gradients[index] {
                if !wanted[index] { gradients[index] = nil }
                if let pullback = record.pullback {
                    let inputGradients = pullback(upstream)
                    for (position, input) in record.inputs.enumerated() where input >= 0 {
                        guard let contribution = inputGradients[position] else { continue }
                        GradientTape.add(contribution, into: &gradients[input])
                    }
                    continue
                }
                guard let pullback = record.storagePullback else { continue }
                add(pullback(.host(upstream)), to: record.inputs, &gradients, &deviceGradients)
            } else if let upstream = deviceGradients[index] {
                if !wanted[index] { deviceGradients[index] = nil }
                guard let pullback = record.storagePullback else { continue }
                add(pullback(.device(upstream)), to: record.inputs, &gradients, &deviceGradients)
            }
        }
        return targets.map { target in
            guard node(of: target) >= 0 else { return zeros(like: target) }
            if let values = gradients[target.node] { return Tensor(shape: target.shape, scalars: values) }
            if let storage = deviceGradients[target.node] {
                return Tensor(device: storage.backend.reshaped(storage, to: target.shape))
            }
            return zeros(like: target)
        }
    }
}

extension GradientTape {
    /// `contribution` added to a host gradient in place (or become it).
    @inline(__always)
    static func add(_ contribution: [Float], into gradient: inout [Float]?) {
        if gradient == nil {
            gradient = contribution
        } else {
            Kernels.addInPlace(&gradient!, contribution)
        }
    }

    /// Adds a storage pullback's gradients to its inputs' (host arrays in place, device storage by the device's add).
    func add(_ contributions: [TensorStorage?], to inputs: [Int], _ gradients: inout [[Float]?],
             _ deviceGradients: inout [(any DeviceStorage)?]) {
        for (position, input) in inputs.enumerated() where input >= 0 {
            switch contributions[position] {
            case nil: continue
            case .host(let contribution)?:
                precondition(deviceGradients[input] == nil, "GradientTape: gradients of one value on the host and on a device")
                GradientTape.add(contribution, into: &gradients[input])
            case .device(let contribution)?:
                precondition(gradients[input] == nil, "GradientTape: gradients of one value on the host and on a device")
                deviceGradients[input] = deviceGradients[input].map { $0.backend.add($0, contribution) } ?? contribution
            }
        }
    }
}

/// Runs `body` with no tape recording: for evaluation, sampling and in-place parameter updates.
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientTape.$current.withValue(nil) { try body() }
}

extension Tensor {
    /// Builds the result of an op and, when a tape is recording and any input is tracked, records it.
    /// `pullback` receives the output gradient and returns one gradient per input (nil to skip).
    /// An op with an input on a device and no device version of its own (`op`: the caller's name) has computed on
    /// copies; its result goes back to that device and its pullback runs on the host likewise.
    @inline(__always)
    static func record(shape: [Int], scalars: [Float], inputs: [Tensor], op: StaticString = #function,
                       pullback: @escaping GradientTape.Pullback) -> Tensor {
        if let device = inputs.first(where: { $0.deviceStorage != nil })?.deviceStorage {
            return hostFallback(shape: shape, scalars: scalars, inputs: inputs, backend: device.backend, op: "\(op)", pullback: pullback)
        }
        var result = Tensor(shape: shape, scalars: scalars)
        if let tape = GradientTape.current, inputs.contains(where: { tape.node(of: $0) >= 0 }) {
            result.node = tape.records.count
            result.tapeSerial = tape.serial
            tape.records.append(GradientTape.Record(inputs: inputs.map { tape.node(of: $0) }, pullback: pullback,
                                                    count: scalars.count))
        }
        return result
    }
}

extension Tensor {
    static func hostFallback(shape: [Int], scalars: [Float], inputs: [Tensor], backend: any TensorBackend, op: String,
                             pullback: @escaping GradientTape.Pullback) -> Tensor {
        backend.noteHostFallback(op)
        let places = inputs.map(\.deviceStorage)
        return record(Tensor(device: backend.upload(scalars, shape: shape)), inputs: inputs) { upstream in
            zip(pullback(upstream.hostValues), places).map { gradient, place in
                gradient.map { values in place.map { .device($0.backend.upload(values, shape: $0.shape)) } ?? .host(values) }
            }
        }
    }

    /// Records `result` (host or device values) with a pullback between storages, as
    /// ``record(shape:scalars:inputs:pullback:)`` does for host ops.
    static func record(_ result: Tensor, inputs: [Tensor],
                       pullback: @escaping GradientTape.StoragePullback) -> Tensor {
        var result = result
        if let tape = GradientTape.current, inputs.contains(where: { tape.node(of: $0) >= 0 }) {
            result.node = tape.records.count
            result.tapeSerial = tape.serial
            tape.records.append(GradientTape.Record(inputs: inputs.map { tape.node(of: $0) }, pullback: nil,
                                                    storagePullback: pullback, count: result.count))
        }
        return result
    }
}

extension GradientTape {
    /// Records `parts`, cut from `input` (tracked on this tape), as one split: returns them tracked.
    func recordSplit(of input: Tensor, into parts: [Tensor], join: @escaping ([TensorStorage?]) -> TensorStorage) -> [Tensor] {
        let split = records.count
        records.append(Record(inputs: [node(of: input)], pullback: nil, count: input.count, join: join))
        return parts.enumerated().map { index, part in
            var part = part
            part.node = records.count
            part.tapeSerial = serial
            records.append(Record(inputs: [], pullback: nil, count: part.count, part: (split, index, parts.count)))
            return part
        }
    }

    /// The tape recording now, if any.
    public static var active: GradientTape? { current }
    /// True when `tensor` is a node of this tape.
    public func contains(_ tensor: Tensor) -> Bool { node(of: tensor) >= 0 }
}

extension Tensor {
    /// Mutable access to the scalars, for in-place updates outside any tape (optimisers, loaders).
    /// The result is detached from any tape.
    public mutating func withUnsafeMutableScalars<Result>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        node = -1
        tapeSerial = 0
        guard let device = deviceStorage else { return try hostScalars.withUnsafeMutableBufferPointer(body) }
        // On a device: through a host copy, which then replaces the device's values.
        device.backend.noteHostFallback("withUnsafeMutableScalars")
        var values = device.backend.download(device)
        defer { deviceStorage = device.backend.upload(values, shape: shape) }
        return try values.withUnsafeMutableBufferPointer(body)
    }
}
