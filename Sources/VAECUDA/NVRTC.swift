import Foundation

/// NVRTC, CUDA's run-time compiler, loaded with `dlopen`: compiles CUDA C (``CUDAKernelSource``) to PTX for a
/// virtual architecture (`compute_90`: no GPU needed, the driver finishes it when it loads) or to a CUBIN for a
/// real one (`sm_90`: the card's own code), and keeps what it compiled in ``KernelCache``.
public final class NVRTC: @unchecked Sendable {
    public let library: SharedLibrary
    /// NVRTC's release, e.g. (13, 2).
    public let version: (major: Int, minor: Int)

    typealias VersionFunction = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    typealias CreateFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
                                               UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias CompileFunction = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias SizeFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
    typealias ReadFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
    typealias DestroyFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias ErrorStringFunction = @convention(c) (Int32) -> UnsafePointer<CChar>?

    let create: CreateFunction
    let compileProgram: CompileFunction
    let ptxSize: SizeFunction, ptx: ReadFunction
    let cubinSize: SizeFunction, cubin: ReadFunction
    let logSize: SizeFunction, log: ReadFunction
    let destroy: DestroyFunction
    let errorString: ErrorStringFunction

    /// Loads NVRTC from where ``CUDALibrarySearch`` finds it.
    public convenience init(search: CUDALibrarySearch = CUDALibrarySearch()) throws {
        try self.init(library: search.load(.nvrtc).get())
    }

    public init(library: SharedLibrary) throws {
        self.library = library
        let versionFunction = try library.function("nvrtcVersion", as: VersionFunction.self)
        var (major, minor): (Int32, Int32) = (0, 0)
        _ = versionFunction(&major, &minor)
        version = (Int(major), Int(minor))
        create = try library.function("nvrtcCreateProgram", as: CreateFunction.self)
        compileProgram = try library.function("nvrtcCompileProgram", as: CompileFunction.self)
        ptxSize = try library.function("nvrtcGetPTXSize", as: SizeFunction.self)
        ptx = try library.function("nvrtcGetPTX", as: ReadFunction.self)
        cubinSize = try library.function("nvrtcGetCUBINSize", as: SizeFunction.self)
        cubin = try library.function("nvrtcGetCUBIN", as: ReadFunction.self)
        logSize = try library.function("nvrtcGetProgramLogSize", as: SizeFunction.self)
        log = try library.function("nvrtcGetProgramLog", as: ReadFunction.self)
        destroy = try library.function("nvrtcDestroyProgram", as: DestroyFunction.self)
        errorString = try library.function("nvrtcGetErrorString", as: ErrorStringFunction.self)
    }

    /// What a compilation targets.
    public enum Target: Equatable, Sendable, CustomStringConvertible {
        /// PTX for `compute_XY` (compute capability X.Y as XY, e.g. 90): portable to later cards, compiled
        /// further by the driver when it loads.
        case ptx(architecture: Int)
        /// A CUBIN for `sm_XY`: the card's machine code.
        case cubin(architecture: Int)

        public var option: String {
            switch self {
            case .ptx(let architecture): return "--gpu-architecture=compute_\(architecture)"
            case .cubin(let architecture): return "--gpu-architecture=sm_\(architecture)"
            }
        }
        public var description: String {
            switch self {
            case .ptx(let architecture): return "PTX for compute_\(architecture)"
            case .cubin(let architecture): return "a CUBIN for sm_\(architecture)"
            }
        }
        var fileExtension: String {
            switch self { case .ptx: return "ptx"; case .cubin: return "cubin" }
        }
    }

    /// The options every kernel is compiled with: no fused multiply-adds, so each kernel rounds as its C source
    /// reads, as the CPU's kernels do (CKernels is compiled with contraction off).
    public static let options = ["--fmad=false", "--std=c++17"]

    /// Compiles `source` (named `name` in messages); an error carrying NVRTC's log (file, line and message of
    /// each problem) when it does not compile.
    public func compile(_ source: String, name: String, target: Target) throws -> [UInt8] {
        var program: OpaquePointer?
        try check(create(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = destroy(&program) }
        let options = [target.option] + Self.options
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        let status = cOptions.map { UnsafePointer($0) }.withUnsafeBufferPointer { buffer in
            compileProgram(program, Int32(buffer.count), buffer.baseAddress)
        }
        guard status == 0 else {
            throw CUDAError("NVRTC \(version.major).\(version.minor) could not compile \(name) to \(target) "
                + "(\(message(status))): \(read(program, size: logSize, read: log).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let (size, read) = target.fileExtension == "ptx" ? (ptxSize, ptx) : (cubinSize, cubin)
        var count = 0
        try check(size(program, &count), "the compiled size")
        var bytes = [CChar](repeating: 0, count: count)
        try check(read(program, &bytes), "the compiled code")
        // PTX is text ending in a NUL, which the driver wants; a CUBIN is binary.
        return bytes.map { UInt8(bitPattern: $0) }
    }

    func read(_ program: OpaquePointer?, size: SizeFunction, read: ReadFunction) -> String {
        var count = 0
        guard size(program, &count) == 0, count > 0 else { return "" }
        var text = [CChar](repeating: 0, count: count + 1)
        guard read(program, &text) == 0 else { return "" }
        return String(cString: text)
    }

    func message(_ status: Int32) -> String {
        errorString(status).map { String(cString: $0) } ?? "NVRTC error \(status)"
    }

    func check(_ status: Int32, _ what: String) throws {
        guard status == 0 else { throw CUDAError("NVRTC \(version.major).\(version.minor): \(what) failed: \(message(status))") }
    }
}

/// Compiled kernels on disk, so that NVRTC runs once per source, target and NVRTC release: files
/// `kernels-<target>-<hash>.{ptx,cubin}` in `$VAEKIT_CACHE_DIR/cuda`, else `$XDG_CACHE_HOME/vaekit/cuda`, else
/// `~/.cache/vaekit/cuda`; the hash (64-bit FNV-1a) covers the source, the options and NVRTC's release. Written
/// atomically (a temporary file renamed), so a crash never leaves a torn file; a cache that cannot be written
/// only costs a compilation next time.
public struct KernelCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The directory the environment names (see the type's documentation).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = FileManager.default.homeDirectoryForCurrentUser.path) {
        if let explicit = environment["VAEKIT_CACHE_DIR"], !explicit.isEmpty {
            directory = explicit + "/cuda"
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = xdg + "/vaekit/cuda"
        } else {
            directory = home + "/.cache/vaekit/cuda"
        }
    }

    /// The file for `source` compiled for `target` by `compiler`.
    public func path(_ source: String, target: NVRTC.Target, compilerVersion: (Int, Int)) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let key = [source, target.option, NVRTC.options.joined(separator: " "), "\(compilerVersion.0).\(compilerVersion.1)"]
            .joined(separator: "\u{0}")
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let name = target.option.split(separator: "=").last.map(String.init) ?? "target"
        return directory + "/kernels-\(name)-" + String(hash, radix: 16) + "." + target.fileExtension
    }

    /// The compiled kernels: from the cache when there, else compiled by `nvrtc` and stored; `fromCache` says which.
    public func kernels(_ source: String, name: String, target: NVRTC.Target, nvrtc: NVRTC) throws -> (bytes: [UInt8], fromCache: Bool) {
        let file = path(source, target: target, compilerVersion: nvrtc.version)
        if let data = FileManager.default.contents(atPath: file), !data.isEmpty { return ([UInt8](data), true) }
        let bytes = try nvrtc.compile(source, name: name, target: target)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? Data(bytes).write(to: URL(fileURLWithPath: file), options: .atomic)
        return (bytes, false)
    }
}
