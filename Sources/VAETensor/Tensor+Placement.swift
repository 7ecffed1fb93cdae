// Where a tensor's elements live: moving values between the host and a device (recorded on the tape), the backend
// an op runs on, and the storage of a gradient on the tape.

extension Tensor {
    /// A tensor whose elements live on a device.
    public init(device storage: any DeviceStorage) {
        shape = storage.shape
        hostScalars = []
        deviceStorage = storage
    }

    /// The backend holding this tensor's elements, or nil on the host.
    public var backend: (any TensorBackend)? { deviceStorage?.backend }

    /// This value on `backend` (or on the host for nil), recorded so that gradients come back to where `self`
    /// lives. Moving happens once per batch and once for a module's parameters, not per op.
    public func moved(to backend: (any TensorBackend)?) -> Tensor {
        switch (deviceStorage, backend) {
        case (nil, nil): return self
        case (let storage?, let target?) where storage.backend === target: return self
        case (nil, let target?):
            let storage = target.upload(hostScalars, shape: shape)
            return Tensor.record(Tensor(device: storage), inputs: [self]) { upstream in
                [.host(upstream.hostValues)]
            }
        case (let storage?, nil):
            let values = storage.backend.download(storage)
            let source = storage.backend
            return Tensor.record(Tensor(shape: shape, scalars: values), inputs: [self]) { upstream in
                [.device(source.upload(upstream.hostValues, shape: storage.shape))]
            }
        case (_?, _?):
            return moved(to: nil).moved(to: backend)
        }
    }

    /// A constant the host makes (a mask, a window, weights), placed beside `other`: on the host, `make()`; on a
    /// device, made and copied there once per backend and `key`, then reused, instead of a copy each step (a copy to
    /// a GPU waits for its queued work). `key` must name every value the constant depends on (its sizes, its
    /// settings), as two constants with one key are one. Not tracked by the tape.
    public static func constant(_ key: String, beside other: Tensor, make: () -> Tensor) -> Tensor {
        guard let backend = other.backend else { return make() }
        return Tensor(device: backend.constant(key, make: make))
    }

    /// The backend of the first input that lives on a device, else nil (no allocation on the host's path). The
    /// op then runs there, moving any other input there first (recorded, so its gradient goes back).
    @inline(__always)
    static func backend(_ a: Tensor, _ b: Tensor? = nil, _ c: Tensor? = nil) -> (any TensorBackend)? {
        if a.deviceStorage == nil && b?.deviceStorage == nil && c?.deviceStorage == nil { return nil }
        return (a.deviceStorage ?? b?.deviceStorage ?? c?.deviceStorage)!.backend
    }
}

extension Tensor {
    /// The values of one-element tensors (a loss and its terms), with one copy back for those on a device instead
    /// of one each (a copy back waits for the device's work).
    public static func scalarValues(_ tensors: [Tensor]) -> [Float] {
        let onDevice = tensors.filter { $0.deviceStorage != nil }
        guard onDevice.count > 1, onDevice.allSatisfy({ $0.backend === onDevice[0].backend }) else { return tensors.map(\.scalar) }
        let joined = withoutGradients { concatenate(onDevice.map { $0.reshaped([1]) }) }.scalars
        var next = joined.makeIterator()
        return tensors.map { $0.deviceStorage == nil ? $0.scalar : next.next()! }
    }

    /// ``scalarValues(_:)`` and ``firstNonFinite(_:)`` of `checked` (a step's loss with its terms, and its
    /// gradients) in one copy back when the gradients and the values not on the host live on one device: the
    /// finiteness flag is computed there and read back with the values. Where the flag is set, the tensors are
    /// checked one by one.
    public static func scalarValues(_ tensors: [Tensor], checkingFinite checked: [Tensor]) -> (values: [Float], firstNonFinite: Int?) {
        let storages = checked.compactMap(\.deviceStorage)
        guard let backend = storages.first?.backend, storages.count == checked.count,
              storages.allSatisfy({ $0.backend === backend }), tensors.allSatisfy({ $0.deviceStorage.map { $0.backend === backend } ?? true }) else {
            return (scalarValues(tensors), firstNonFinite(checked))
        }
        let values = scalarValues(tensors + [Tensor(device: backend.nonFiniteFlag(storages))])
        return (Array(values.dropLast()), values.last == 0 ? nil : checked.firstIndex { !$0.isFinite })
    }

    /// The index of the first tensor with a NaN or ±∞, or nil. Tensors on a device are checked there together, so
    /// one value comes back when all are finite (the common case), instead of one per tensor.
    public static func firstNonFinite(_ tensors: [Tensor]) -> Int? {
        let onDevice = tensors.compactMap(\.deviceStorage)
        if onDevice.count > 1 && onDevice.allSatisfy({ $0.backend === onDevice[0].backend }) && onDevice[0].backend.allFinite(onDevice) {
            return tensors.firstIndex { $0.deviceStorage == nil && !$0.isFinite }
        }
        return tensors.firstIndex { !$0.isFinite }
    }
}

/// A gradient on the tape: host values or device storage.
public enum TensorStorage {
    case host([Float])
    case device(any DeviceStorage)

    /// The values on the host (a copy back from a device).
    var hostValues: [Float] {
        switch self {
        case .host(let values): return values
        case .device(let storage): return storage.backend.download(storage)
        }
    }

    var device: any DeviceStorage {
        switch self {
        case .device(let storage): return storage
        case .host: preconditionFailure("TensorStorage: a host gradient reached a device op's pullback")
        }
    }
}
