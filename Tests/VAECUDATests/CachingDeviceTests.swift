import Testing
import VAECUDA

/// ``CachingDevice``: freed blocks come back for allocations of their rounded size; when the device is full the
/// cache is given back and the allocation tried again.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct CachingDeviceTests {
    @Test func freedBlocksAreReusedBySize() throws {
        let caching = CachingDevice(EmulatedDevice(try KernelEmulator.shared.get()))
        let first = try caching.allocate(bytes: 1000)
        caching.free(first)
        #expect(try caching.allocate(bytes: 1024) == first)   // both round to 1024 bytes
        let other = try caching.allocate(bytes: 1000)
        #expect(other != first)
        #expect(caching.reuses == 1 && caching.deviceAllocations == 2)
        #expect(caching.bytesInUse == 2048 && caching.peakBytesInUse == 2048)
        caching.free(other)
        #expect(caching.bytesCached == 1024 && caching.bytesInUse == 1024)
        caching.free(first)
        caching.emptyCache()
        #expect(caching.bytesCached == 0)
    }

    @Test func aFullDeviceGetsTheCacheBack() throws {
        // Room for two blocks: a third size fails on the device, so the cache (one block) goes back before the error.
        let failing = FailingDevice(EmulatedDevice(try KernelEmulator.shared.get()), allocations: 2)
        let caching = CachingDevice(failing)
        let (a, b) = (try caching.allocate(bytes: 4096), try caching.allocate(bytes: 100))
        caching.free(a)
        #expect(caching.bytesCached == 4096)
        #expect(throws: CUDAError.self) { try caching.allocate(bytes: 2000) }
        #expect(caching.bytesCached == 0 && caching.bytesInUse == 512)
        failing.allocations = 1
        let c = try caching.allocate(bytes: 2000)
        #expect(caching.deviceAllocations == 3)
        caching.free(b)
        caching.free(c)
    }
}
