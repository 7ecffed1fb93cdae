/// Float32 values on a ``KernelDevice`` with a shape (row-major, as VAETensor's `Tensor`): the storage the CUDA
/// backend's ops (``DeviceOps``) read and write. The memory is freed when the last reference goes.
public final class DeviceTensor {
    public let device: KernelDevice
    public let address: DeviceAddress
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }

    /// Uninitialised memory for `shape`.
    public init(device: KernelDevice, shape: [Int]) throws {
        self.device = device
        self.shape = shape
        address = try device.allocate(bytes: max(shape.reduce(1, *), 1) * 4)
    }

    /// `values` copied to the device.
    public convenience init(device: KernelDevice, shape: [Int], values: [Float]) throws {
        precondition(shape.reduce(1, *) == values.count, "DeviceTensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        try self.init(device: device, shape: shape)
        try values.withUnsafeBytes { try device.copy($0, to: address) }
    }

    deinit { device.free(address) }

    /// The values, copied to the host.
    public func values() throws -> [Float] { try device.download(address, count: count) }
}
