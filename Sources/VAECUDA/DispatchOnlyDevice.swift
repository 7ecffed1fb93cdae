import VAETensor

/// A ``KernelDevice`` that does no work: allocations are addresses that are never dereferenced, launches and GEMMs
/// pack their arguments and return, and copies back read zeros. Under ``CUDABackend`` it measures what issuing a
/// step costs the host (the tape, the backend, argument packing, the caching allocator) apart from any GPU, and
/// counts the work a step hands a device: `vae bench --device dispatch`.
public final class DispatchOnlyDevice: KernelDevice, @unchecked Sendable {
    private var next: UInt64 = 1 << 20
    public init() {}
    public var name: String { "no GPU (dispatch only)" }

    public func allocate(bytes: Int) throws -> DeviceAddress {
        defer { next += UInt64((max(bytes, 1) + 255) / 256 * 256) }
        return DeviceAddress(next)
    }
    public func free(_ address: DeviceAddress) {}
    public func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws {}
    public func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws {
        if let base = bytes.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes.count) }
    }
    public func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        // As a real launch: the argument array cuLaunchKernel takes.
        KernelArgument.withParameters(arguments) { _ in }
    }
    public func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool,
                     c: DeviceAddress) throws {}
}
