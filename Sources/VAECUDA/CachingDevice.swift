import Foundation

/// A ``KernelDevice`` that keeps freed memory for reuse, as PyTorch's caching allocator does: a training step makes
/// and drops the same temporaries every step, and the driver's `cuMemAlloc`/`cuMemFree` are slow (`cuMemFree` waits
/// for the GPU). Blocks are rounded up to 512 bytes and kept by size; a block freed here is reused only by work
/// launched after it on the same (default) stream, so the reuse is ordered after the last kernel that read it.
/// When an allocation fails, the cached blocks go back to the device and it is tried once more.
public final class CachingDevice: KernelDevice, @unchecked Sendable {
    public let base: KernelDevice
    public var name: String { base.name }
    /// The base device's free memory and this cache's blocks, which it hands out again.
    public var availableBytes: Int? { base.availableBytes.map { $0 + lock.withLock { bytesCached } } }
    /// Freed blocks by rounded size.
    var cached: [Int: [DeviceAddress]] = [:]
    /// Rounded size of every block handed out.
    var sizes: [DeviceAddress: Int] = [:]
    let lock = NSLock()
    /// Bytes in blocks that are handed out, in the cache, and the largest in use so far.
    public private(set) var bytesInUse = 0, bytesCached = 0, peakBytesInUse = 0
    /// Allocations served from the cache and from the device.
    public private(set) var reuses = 0, deviceAllocations = 0
    /// The work handed to the device so far: kernel launches, GEMMs, and copies each way (count and bytes).
    public private(set) var launches = 0, gemms = 0, copiesToDevice = 0, copiesToHost = 0
    public private(set) var bytesToDevice = 0, bytesToHost = 0
    /// Launches of each kernel, by name.
    public private(set) var launchesByKernel: [String: Int] = [:]
    /// Floating-point operations of the GEMMs (2·m·n·k each).
    public private(set) var gemmOperations = 0

    /// The counts above in one line, for a run's log.
    public var workSummary: String {
        lock.withLock {
            String(format: "%d kernel launches, %d GEMMs (%.1f GFLOP), %d copies to the device (%.1f MB) and %d back (%.1f MB); peak memory %.1f MB",
                   launches, gemms, Double(gemmOperations) / 1e9, copiesToDevice, Double(bytesToDevice) / 1e6, copiesToHost, Double(bytesToHost) / 1e6,
                   Double(peakBytesInUse) / 1e6)
        }
    }

    public init(_ base: KernelDevice) { self.base = base }

    static func rounded(_ bytes: Int) -> Int { (max(bytes, 1) + 511) / 512 * 512 }

    public func allocate(bytes: Int) throws -> DeviceAddress {
        let size = CachingDevice.rounded(bytes)
        lock.lock()
        defer { lock.unlock() }
        let address: DeviceAddress
        if let reused = cached[size]?.popLast() {
            (address, bytesCached, reuses) = (reused, bytesCached - size, reuses + 1)
        } else {
            do {
                address = try base.allocate(bytes: size)
            } catch {
                releaseCached()
                address = try base.allocate(bytes: size)
            }
            deviceAllocations += 1
        }
        sizes[address] = size
        bytesInUse += size
        peakBytesInUse = max(peakBytesInUse, bytesInUse)
        return address
    }

    public func free(_ address: DeviceAddress) {
        lock.lock()
        defer { lock.unlock() }
        guard let size = sizes.removeValue(forKey: address) else { return base.free(address) }
        cached[size, default: []].append(address)
        (bytesInUse, bytesCached) = (bytesInUse - size, bytesCached + size)
    }

    /// Gives every cached block back to the device (called with the lock held).
    func releaseCached() {
        for address in cached.values.joined() { base.free(address) }
        (cached, bytesCached) = ([:], 0)
    }

    /// Gives the cached blocks back to the device.
    public func emptyCache() { lock.withLock { releaseCached() } }

    deinit { releaseCached() }

    public func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws {
        lock.withLock { (copiesToDevice, bytesToDevice) = (copiesToDevice + 1, bytesToDevice + bytes.count) }
        try base.copy(bytes, to: address)
    }
    public func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws {
        lock.withLock { (copiesToHost, bytesToHost) = (copiesToHost + 1, bytesToHost + bytes.count) }
        try base.copy(from: address, into: bytes)
    }
    public func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        lock.withLock { launches += 1; launchesByKernel[name, default: 0] += 1 }
        try base.launch(name, grid: grid, block: block, arguments)
    }
    public func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool,
                     c: DeviceAddress) throws {
        lock.withLock { gemms += 1; gemmOperations += 2 * m * n * k }
        try base.gemm(m: m, n: n, k: k, a: a, transposingA: transposingA, b: b, transposingB: transposingB, c: c)
    }
}
