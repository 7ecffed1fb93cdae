/// Float32 values on a ``KernelDevice`` with a shape (row-major, as VAETensor's `Tensor`): the storage the CUDA
/// backend's ops (``DeviceOps``) read and write. The memory is freed when the last reference goes.
public final class DeviceTensor {
    public let device: KernelDevice
    public let address: DeviceAddress
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    /// The tensor whose memory this one views (``reshaped(_:)``), kept alive by it; nil for the owner.
    let owner: DeviceTensor?

    /// Uninitialised memory for `shape`.
    public init(device: KernelDevice, shape: [Int]) throws {
        self.device = device
        self.shape = shape
        owner = nil
        address = try device.allocate(bytes: max(shape.reduce(1, *), 1) * 4)
    }

    /// `shape.reduce(1, *)` of `tensor`'s elements from element `offset` on, in its memory.
    init(viewing tensor: DeviceTensor, from offset: Int = 0, shape: [Int]) {
        precondition(offset >= 0 && offset + shape.reduce(1, *) <= tensor.count,
                     "DeviceTensor: \(tensor.shape) has no \(shape) from element \(offset)")
        (device, self.shape, owner) = (tensor.device, shape, tensor.owner ?? tensor)
        address = tensor.address.advanced(by: 4 * offset)
    }

    /// The same memory under another shape of the same count.
    public func reshaped(_ shape: [Int]) -> DeviceTensor {
        guard shape != self.shape else { return self }
        precondition(shape.reduce(1, *) == count, "DeviceTensor: \(self.shape) cannot be viewed as \(shape)")
        return DeviceTensor(viewing: self, shape: shape)
    }

    /// `values` copied to the device.
    public convenience init(device: KernelDevice, shape: [Int], values: [Float]) throws {
        precondition(shape.reduce(1, *) == values.count, "DeviceTensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        try self.init(device: device, shape: shape)
        try values.withUnsafeBytes { try device.copy($0, to: address) }
    }

    deinit { if owner == nil { device.free(address) } }

    /// The values, copied to the host.
    public func values() throws -> [Float] { try device.download(address, count: count) }
}
