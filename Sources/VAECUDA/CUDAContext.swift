import Foundation

/// An NVIDIA GPU through the CUDA driver API and cuBLAS, loaded at run time: the primary context of device
/// `index`, VAEKit's kernels compiled by NVRTC for its architecture (a CUBIN, cached) and loaded as one module,
/// device memory, launches on the default stream (queued: a copy back waits for them), and SGEMMs through cuBLAS:
/// FP32 by default, or TF32 on the tensor cores (``usesTF32``).
public final class CUDAContext: KernelDevice {
    public let name: String
    public let architecture: Int
    let driver: SharedLibrary
    var functions: [String: OpaquePointer] = [:]
    var module: OpaquePointer?
    var blasHandle: OpaquePointer?
    let cublas: SharedLibrary
    var deviceHandle: Int32 = 0
    /// Whether cuBLAS's products run in TF32 (`CUBLAS_TF32_TENSOR_OP_MATH`): each input rounded to 10 bits of
    /// mantissa on the tensor cores, the sums in FP32, several times FP32's peak on Ampere and Hopper. False
    /// (`CUBLAS_DEFAULT_MATH`) keeps every product in FP32. Set by ``useTF32(_:)``.
    public private(set) var usesTF32 = false

    typealias Status = Int32
    typealias MemAlloc = @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Status
    typealias MemFree = @convention(c) (UInt64) -> Status
    typealias CopyToDevice = @convention(c) (UInt64, UnsafeRawPointer, Int) -> Status
    typealias CopyToHost = @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Status
    typealias GetFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Status
    typealias LaunchKernel = @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                                             UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Status
    typealias Synchronize = @convention(c) () -> Status
    typealias Sgemm = @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>, UInt64, Int32, UInt64, Int32,
                                      UnsafePointer<Float>, UInt64, Int32) -> Status
    let memAlloc: MemAlloc
    let memFree: MemFree
    let copyToDevice: CopyToDevice
    let copyToHost: CopyToHost
    let getFunction: GetFunction
    let launchKernel: LaunchKernel
    let synchronize: Synchronize
    let sgemm: Sgemm
    let setCurrent: @convention(c) (OpaquePointer?) -> Status
    var context: OpaquePointer?
    /// The event functions and the events given back for reuse (``DeviceClock``), loaded at the first mark.
    var events: CUDAEvents?
    var spareEvents: [OpaquePointer] = []

    /// Opens device `index`: an error naming what is missing (driver, GPU, library) or what failed.
    public init(device index: Int = 0, search: CUDALibrarySearch = CUDALibrarySearch(), cache: KernelCache = KernelCache()) throws {
        let probe = CUDAProbe.run(search: search)
        guard index < probe.devices.count else {
            throw CUDAError(probe.problem ?? "no GPU \(index): the driver reports \(probe.devices.count)")
        }
        let device = probe.devices[index]
        let search = probe.search   // bounded by the driver's CUDA release
        name = "\(device.name) (sm_\(device.architecture))"
        architecture = device.architecture
        driver = try search.load(.driver).get()
        cublas = try search.load(.cublas).get()
        memAlloc = try driver.function("cuMemAlloc_v2", as: MemAlloc.self)
        memFree = try driver.function("cuMemFree_v2", as: MemFree.self)
        copyToDevice = try driver.function("cuMemcpyHtoD_v2", as: CopyToDevice.self)
        copyToHost = try driver.function("cuMemcpyDtoH_v2", as: CopyToHost.self)
        getFunction = try driver.function("cuModuleGetFunction", as: GetFunction.self)
        launchKernel = try driver.function("cuLaunchKernel", as: LaunchKernel.self)
        synchronize = try driver.function("cuCtxSynchronize", as: Synchronize.self)
        sgemm = try cublas.function("cublasSgemm_v2", as: Sgemm.self)
        setCurrent = try driver.function("cuCtxSetCurrent", as: (@convention(c) (OpaquePointer?) -> Status).self)

        typealias DeviceGet = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Status
        typealias Retain = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Status
        typealias LoadData = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Status
        typealias BlasCreate = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Status
        var handle: Int32 = 0
        try check(driver.function("cuDeviceGet", as: DeviceGet.self)(&handle, Int32(index)), "cuDeviceGet")
        deviceHandle = handle
        var context: OpaquePointer?
        try check(driver.function("cuDevicePrimaryCtxRetain", as: Retain.self)(&context, handle), "cuDevicePrimaryCtxRetain")
        self.context = context
        try check(setCurrent(context), "cuCtxSetCurrent")
        let nvrtc = try NVRTC(library: search.load(.nvrtc).get())
        let cubin = try cache.kernels(CUDAKernelSource.text, name: CUDAKernelSource.name, target: .cubin(architecture: architecture), nvrtc: nvrtc).bytes
        var loaded: OpaquePointer?
        try cubin.withUnsafeBytes { try check(driver.function("cuModuleLoadData", as: LoadData.self)(&loaded, $0.baseAddress!), "cuModuleLoadData") }
        module = loaded
        var blas: OpaquePointer?
        let blasStatus = try cublas.function("cublasCreate_v2", as: BlasCreate.self)(&blas)
        guard blasStatus == 0 else { throw CUDAError("cuBLAS: cublasCreate failed (status \(blasStatus))") }
        blasHandle = blas
    }

    /// Turns TF32 products on or off for the GEMMs issued after it (``usesTF32``).
    public func useTF32(_ on: Bool) throws {
        typealias SetMathMode = @convention(c) (OpaquePointer?, Int32) -> Status
        let (tf32Math, defaultMath): (Int32, Int32) = (3, 0)   // cublasMath_t's CUBLAS_TF32_TENSOR_OP_MATH, CUBLAS_DEFAULT_MATH
        try makeCurrent()
        let status = try cublas.function("cublasSetMathMode", as: SetMathMode.self)(blasHandle, on ? tf32Math : defaultMath)
        guard status == 0 else { throw CUDAError("cuBLAS on \(name): cublasSetMathMode(\(on ? "TF32" : "default")) failed with status \(status)") }
        usesTF32 = on
    }

    /// Releases the cuBLAS handle, the module and the primary context (what the process's device memory holds
    /// stays until freed: ``DeviceTensor``s free theirs).
    deinit {
        typealias Release = @convention(c) (OpaquePointer?) -> Status
        typealias ReleaseContext = @convention(c) (Int32) -> Status
        if let events { for event in spareEvents { _ = events.destroy(event) } }
        if let blasHandle, let destroy = try? cublas.function("cublasDestroy_v2", as: Release.self) { _ = destroy(blasHandle) }
        if let module, let unload = try? driver.function("cuModuleUnload", as: Release.self) { _ = unload(module) }
        if let release = try? driver.function("cuDevicePrimaryCtxRelease_v2", as: ReleaseContext.self) { _ = release(deviceHandle) }
    }

    func check(_ status: Status, _ what: String) throws { try driver.checkDriver(status, what, context: "CUDA on \(name): ") }

    /// The driver API acts on the calling thread's current context: each call makes this one current, so any
    /// thread may call (``CUDABackend`` lets one at a time).
    func makeCurrent() throws { try check(setCurrent(context), "cuCtxSetCurrent") }

    public func allocate(bytes: Int) throws -> DeviceAddress {
        try makeCurrent()
        var address: UInt64 = 0
        try check(memAlloc(&address, max(bytes, 4)), "cuMemAlloc of \(bytes) bytes")
        return DeviceAddress(address)
    }

    /// The GPU's free memory now (`cuMemGetInfo`), or nil if the driver does not say.
    public var availableBytes: Int? {
        typealias MemGetInfo = @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Status
        guard (try? makeCurrent()) != nil, let getInfo = try? driver.function("cuMemGetInfo_v2", as: MemGetInfo.self) else { return nil }
        var (free, total) = (0, 0)
        return getInfo(&free, &total) == 0 ? free : nil
    }

    public func free(_ address: DeviceAddress) {
        _ = setCurrent(context)
        _ = memFree(address.rawValue)
    }

    public func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try makeCurrent()
        try check(copyToDevice(address.rawValue, base, bytes.count), "cuMemcpyHtoD")
    }

    public func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try makeCurrent()
        try check(copyToHost(base, address.rawValue, bytes.count), "cuMemcpyDtoH")
    }

    func function(_ kernel: String) throws -> OpaquePointer? {
        if let known = functions[kernel] { return known }
        var function: OpaquePointer?
        try check(getFunction(&function, module, kernel), "cuModuleGetFunction(\(kernel))")
        functions[kernel] = function
        return function
    }

    public func launch(_ kernel: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        try makeCurrent()
        let function = try self.function(kernel)
        try KernelArgument.withParameters(arguments) { parameters in
            try check(launchKernel(function, UInt32(grid), 1, 1, UInt32(block), 1, 1, 0, nil, parameters, nil), "launching \(kernel)")
        }
    }

    /// Waits for the launched work. Launches and GEMMs return at once (the default stream orders them); a copy back
    /// to the host waits, and reports an error of the work before it.
    public func synchronizeWork() throws {
        try makeCurrent()
        try check(synchronize(), "cuCtxSynchronize")
    }

    public func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool,
                     c: DeviceAddress) throws {
        // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS multiplies B by A with the dimensions swapped.
        try makeCurrent()
        var (alpha, beta): (Float, Float) = (1, 0)
        let status = sgemm(blasHandle, transposingB ? 1 : 0, transposingA ? 1 : 0, Int32(n), Int32(m), Int32(k), &alpha,
                           b.rawValue, Int32(transposingB ? k : n), a.rawValue, Int32(transposingA ? m : k), &beta, c.rawValue, Int32(n))
        guard status == 0 else { throw CUDAError("cuBLAS on \(name): cublasSgemm (\(m)×\(k) by \(k)×\(n)) failed with status \(status)") }
    }
}
