import VAECUDA

/// A ``KernelDevice`` that hands every call to `base`: the tests' devices subclass it and override only what they
/// change (allocations that fail, a wrong kernel, rounded products, a clock, the free memory reported).
class ForwardingDevice: KernelDevice {
    let base: KernelDevice
    init(_ base: KernelDevice) { self.base = base }

    var name: String { base.name }
    var availableBytes: Int? { base.availableBytes }
    func allocate(bytes: Int) throws -> DeviceAddress { try base.allocate(bytes: bytes) }
    func free(_ address: DeviceAddress) { base.free(address) }
    func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws { try base.copy(bytes, to: address) }
    func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws { try base.copy(from: address, into: bytes) }
    func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        try base.launch(name, grid: grid, block: block, arguments)
    }
    func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool, c: DeviceAddress) throws {
        try base.gemm(m: m, n: n, k: k, a: a, transposingA: transposingA, b: b, transposingB: transposingB, c: c)
    }
}
