import Foundation

/// What this machine offers the CUDA backend: each library (where it was loaded from and its release, or why
/// not) and the GPUs the driver reports. `vae devices` prints it; `--device cuda` stops with ``problem``.
public struct CUDAProbe: Sendable {
    public struct Library: Sendable {
        public var library: CUDALibrary
        /// The file loaded, or nil.
        public var path: String?
        /// Its release ("13.2"), when loaded.
        public var version: String?
        /// Why it is not usable.
        public var problem: String?
    }

    public struct Device: Sendable {
        public var index: Int
        public var name: String
        /// Compute capability, e.g. (9, 0) for Hopper.
        public var computeCapability: (major: Int, minor: Int)
        public var memoryBytes: Int
        /// The architecture number NVRTC compiles for (90 for sm_90).
        public var architecture: Int { computeCapability.major * 10 + computeCapability.minor }
    }

    public var libraries: [Library]
    public var devices: [Device]
    /// The driver's CUDA release ("13.0"), when it is loaded.
    public var driverVersion: String?
    /// The first reason the CUDA backend cannot run here; nil when a GPU and every library are there.
    public var problem: String?
    /// The search with the driver's bound (``CUDALibrarySearch/majorAtMost``): what ``CUDAContext`` loads through.
    public var search: CUDALibrarySearch

    /// Loads each library through `search` and asks the driver for its GPUs.
    /// Loads the driver first: its CUDA release bounds the releases of the other libraries (``CUDALibrarySearch/majorAtMost``).
    public static func run(search: CUDALibrarySearch = CUDALibrarySearch()) -> CUDAProbe {
        var search = search
        var libraries: [Library] = []
        var devices: [Device] = []
        var driverVersion: String?
        var problems: [String] = []
        for library in CUDALibrary.allCases {
            switch search.load(library) {
            case .failure(let error):
                libraries.append(Library(library: library, path: nil, version: nil, problem: error.message))
                problems.append(error.message)
            case .success(let opened):
                var entry = Library(library: library, path: opened.path(containing: library.probeSymbol), version: nil, problem: nil)
                do {
                    switch library {
                    case .driver:
                        typealias IntegerOut = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
                        var version: Int32 = 0
                        _ = try opened.function("cuDriverGetVersion", as: IntegerOut.self)(&version)
                        entry.version = release(version)
                        driverVersion = entry.version
                        if version > 0 { search.majorAtMost = Int(version / 1000) }
                        do {
                            devices = try driverDevices(opened)
                        } catch let error as CUDAError {
                            throw CUDAError("the NVIDIA driver (libcuda, \(entry.path ?? opened.name), CUDA \(release(version))) has no usable GPU: \(error.message)")
                        }
                        if devices.isEmpty { throw CUDAError("the NVIDIA driver (libcuda, \(entry.path ?? opened.name), CUDA \(release(version))) reports no GPU") }
                    case .runtime:
                        typealias Version = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
                        var value: Int32 = 0
                        _ = try opened.function("cudaRuntimeGetVersion", as: Version.self)(&value)
                        entry.version = release(value)
                    case .cublas:
                        typealias Property = @convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32
                        let property = try opened.function("cublasGetProperty", as: Property.self)
                        var (major, minor, patch): (Int32, Int32, Int32) = (0, 0, 0)
                        _ = property(0, &major); _ = property(1, &minor); _ = property(2, &patch)
                        entry.version = "\(major).\(minor).\(patch)"
                    case .cublasLt:
                        typealias Version = @convention(c) () -> Int
                        let value = try opened.function("cublasLtGetVersion", as: Version.self)()
                        entry.version = "\(value / 10_000).\(value / 100 % 100).\(value % 100)"
                    case .nvrtc:
                        let nvrtc = try NVRTC(library: opened)
                        entry.version = "\(nvrtc.version.major).\(nvrtc.version.minor)"
                    }
                } catch let error as CUDAError {
                    entry.problem = error.message
                    problems.append(error.message)
                } catch {
                    entry.problem = "\(error)"
                    problems.append("\(error)")
                }
                libraries.append(entry)
            }
        }
        return CUDAProbe(libraries: libraries, devices: devices, driverVersion: driverVersion, problem: problems.first, search: search)
    }

    /// A CUDA version number (1000·major + 10·minor) as "major.minor".
    static func release(_ value: Int32) -> String { "\(value / 1000).\(value % 1000 / 10)" }

    /// The driver's GPUs (cuInit, cuDeviceGetCount, name, compute capability, memory).
    static func driverDevices(_ driver: SharedLibrary) throws -> [Device] {
        typealias Initialise = @convention(c) (UInt32) -> Int32
        typealias IntegerOut = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
        typealias DeviceGet = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        typealias Name = @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
        typealias Attribute = @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32
        typealias Memory = @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Int32
        func check(_ status: Int32, _ what: String) throws { try driver.checkDriver(status, what) }
        try check(driver.function("cuInit", as: Initialise.self)(0), "cuInit")
        var count: Int32 = 0
        try check(driver.function("cuDeviceGetCount", as: IntegerOut.self)(&count), "cuDeviceGetCount")
        let deviceGet = try driver.function("cuDeviceGet", as: DeviceGet.self)
        let name = try driver.function("cuDeviceGetName", as: Name.self)
        let attribute = try driver.function("cuDeviceGetAttribute", as: Attribute.self)
        let memory = try driver.function("cuDeviceTotalMem_v2", as: Memory.self)
        var devices: [Device] = []
        for index in 0..<count {
            var device: Int32 = 0
            try check(deviceGet(&device, index), "cuDeviceGet(\(index))")
            var text = [CChar](repeating: 0, count: 256)
            try check(name(&text, 255, device), "cuDeviceGetName")
            var (major, minor): (Int32, Int32) = (0, 0)
            try check(attribute(&major, 75, device), "the compute capability")   // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
            try check(attribute(&minor, 76, device), "the compute capability")   // …_MINOR
            var bytes = 0
            try check(memory(&bytes, device), "cuDeviceTotalMem")
            devices.append(Device(index: Int(index), name: String(cString: text), computeCapability: (Int(major), Int(minor)),
                                  memoryBytes: bytes))
        }
        return devices
    }
}

extension SharedLibrary {
    /// Throws "WHAT failed: MESSAGE" for a driver call's nonzero status (a `CUresult`), with the driver's own
    /// message (`cuGetErrorString`) and `context` before it.
    func checkDriver(_ status: Int32, _ what: String, context: String = "") throws {
        guard status != 0 else { return }
        typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32
        var text: UnsafePointer<CChar>?
        if let errorString = try? function("cuGetErrorString", as: ErrorString.self) { _ = errorString(status, &text) }
        throw CUDAError(context + "\(what) failed: \(text.map { String(cString: $0) } ?? "error \(status)")")
    }
}
