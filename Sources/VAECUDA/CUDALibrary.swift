import Foundation

/// The CUDA libraries VAEKit loads at run time.
public enum CUDALibrary: String, CaseIterable, Sendable {
    /// The NVIDIA driver's user-space library: installed with the driver, never by pip.
    case driver
    case runtime
    case cublas
    case cublasLt
    /// The run-time compiler of the elementwise and reduction kernels (``CUDAKernelSource``).
    case nvrtc

    public var title: String {
        switch self {
        case .driver: return "NVIDIA driver (libcuda)"
        case .runtime: return "CUDA runtime (libcudart)"
        case .cublas: return "cuBLAS (libcublas)"
        case .cublasLt: return "cuBLASLt (libcublasLt)"
        case .nvrtc: return "NVRTC (libnvrtc)"
        }
    }

    /// File names, the newest major release first (CUDA 13, then 12).
    public var fileNames: [String] {
        switch self {
        case .driver: return ["libcuda.so.1"]
        case .runtime: return ["libcudart.so.13", "libcudart.so.12"]
        case .cublas: return ["libcublas.so.13", "libcublas.so.12"]
        case .cublasLt: return ["libcublasLt.so.13", "libcublasLt.so.12"]
        case .nvrtc: return ["libnvrtc.so.13", "libnvrtc.so.12"]
        }
    }

    /// The pip packages that install it: CUDA 13's wheels (into `nvidia/cu13/lib`), then CUDA 12's
    /// (`nvidia/<component>/lib`); none for the driver.
    public var pipPackages: [String] {
        switch self {
        case .driver: return []
        case .runtime: return ["nvidia-cuda-runtime", "nvidia-cuda-runtime-cu12"]
        case .cublas, .cublasLt: return ["nvidia-cublas", "nvidia-cublas-cu12"]
        case .nvrtc: return ["nvidia-cuda-nvrtc", "nvidia-cuda-nvrtc-cu12"]
        }
    }

    /// Where its pip packages put it, under a `site-packages` directory.
    var wheelDirectories: [String] {
        switch self {
        case .driver: return []
        case .runtime: return ["nvidia/cu13/lib", "nvidia/cuda_runtime/lib"]
        case .cublas, .cublasLt: return ["nvidia/cu13/lib", "nvidia/cublas/lib"]
        case .nvrtc: return ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"]
        }
    }

    /// A function every release of the library has: the one ``SharedLibrary/path(containing:)`` resolves.
    var probeSymbol: String {
        switch self {
        case .driver: return "cuInit"
        case .runtime: return "cudaRuntimeGetVersion"
        case .cublas: return "cublasGetProperty"
        case .cublasLt: return "cublasLtGetVersion"
        case .nvrtc: return "nvrtcVersion"
        }
    }
}

/// Where the CUDA libraries are looked for, in order:
/// 1. the directories of `VAEKIT_CUDA_LIBRARY_PATH` (colon-separated), to choose;
/// 2. a toolkit at `CUDA_HOME` or `CUDA_PATH` (`lib64`, `lib`, `targets/x86_64-linux/lib`);
/// 3. pip's wheels (`nvidia/cu13/lib`, `nvidia/<component>/lib`) in the `site-packages` of the active virtual or
///    conda environment, of each `…/bin` directory on `PATH`, of `PYTHONPATH`, of the user (`~/.local`), of pyenv's
///    versions, and of the system's Pythons;
/// 4. the toolkit's standard places (`/usr/local/cuda/lib64`, `/usr/local/cuda-X.Y/lib64`, newest first);
/// 5. for the driver, the system's library directories (`/usr/lib/x86_64-linux-gnu`, `/usr/lib64`, WSL's, the
///    NVIDIA container runtime's);
/// 6. the bare file names, for the dynamic loader's own search (`LD_LIBRARY_PATH`, `ld.so.cache`).
public struct CUDALibrarySearch: Sendable {
    public var environment: [String: String]
    /// The user's home directory (`~/.local`, `~/.pyenv`).
    public var home: String
    /// The newest CUDA major release to load (the driver's: a CUDA 12 driver cannot run CUDA 13's runtime or
    /// cuBLAS); nil: any. ``CUDAProbe`` sets it from the driver before loading the rest.
    public var majorAtMost: Int?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = FileManager.default.homeDirectoryForCurrentUser.path) {
        self.environment = environment
        self.home = home
    }

    /// The directories searched for `library`, in order, whether or not they exist.
    public func directories(for library: CUDALibrary) -> [String] {
        var directories: [String] = []
        directories += paths("VAEKIT_CUDA_LIBRARY_PATH")
        for root in ["CUDA_HOME", "CUDA_PATH"].compactMap({ environment[$0] }) where !root.isEmpty {
            directories += [root + "/lib64", root + "/lib", root + "/targets/x86_64-linux/lib"]
        }
        for sitePackages in sitePackagesDirectories() {
            directories += library.wheelDirectories.map { sitePackages + "/" + $0 }
        }
        directories += ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"]
        directories += subdirectories(of: "/usr/local", prefix: "cuda-").map { $0 + "/lib64" }
        if library == .driver {
            directories += ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib", "/usr/local/nvidia/lib64"]
        }
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
    }

    /// The file names to look for: ``CUDALibrary/fileNames`` of a major release no newer than ``majorAtMost``.
    public func fileNames(for library: CUDALibrary) -> [String] {
        guard library != .driver, let majorAtMost else { return library.fileNames }
        return library.fileNames.filter { name in (name.split(separator: ".").last.flatMap { Int($0) } ?? 0) <= majorAtMost }
    }

    /// What to hand `dlopen`, in order: each existing file in ``directories(for:)``, then the bare file names.
    public func candidates(for library: CUDALibrary) -> [String] {
        let names = fileNames(for: library)
        var files: [String] = []
        for directory in directories(for: library) {
            for name in names where FileManager.default.fileExists(atPath: directory + "/" + name) {
                files.append(directory + "/" + name)
            }
        }
        return files + names
    }

    /// Opens the first candidate that loads; an error that names the library, every place looked and every load
    /// failure, and how to install it.
    public func load(_ library: CUDALibrary) -> Result<SharedLibrary, CUDAError> {
        guard !fileNames(for: library).isEmpty else {
            return .failure(CUDAError("the \(library.title) of CUDA 12 or 13 is needed, but the NVIDIA driver supports CUDA \(majorAtMost ?? 0) at most: update the driver"))
        }
        var failures: [String] = []
        for candidate in candidates(for: library) {
            switch SharedLibrary.open(candidate) {
            case .success(let opened): return .success(opened)
            case .failure(let error):
                // A bare name the loader does not know is the ordinary "not installed"; a file that exists but
                // does not load (wrong architecture, a missing dependency) is worth saying.
                if candidate.hasPrefix("/") { failures.append(error.reason) }
            }
        }
        let versions = majorAtMost.map { " (CUDA \($0) or older, as the driver supports)" } ?? ""
        var message = "the \(library.title) was not found: looked for \(fileNames(for: library).joined(separator: " or "))\(versions) in "
            + "\(directories(for: library).count) directories (\(summary(directories(for: library)))) and the dynamic loader's path"
        if !failures.isEmpty { message += "; found but could not load: " + failures.joined(separator: "; ") }
        if library == .driver {
            message += ". Install the NVIDIA driver (a machine with an NVIDIA GPU), or use --device cpu"
        } else {
            message += ". Install it with `pip install \(library.pipPackages[0])` (CUDA 13) or the CUDA toolkit, set CUDA_HOME, "
                + "or name its directory in VAEKIT_CUDA_LIBRARY_PATH"
        }
        return .failure(CUDAError(message))
    }

    /// The first few directories, then how many more.
    func summary(_ directories: [String]) -> String {
        let shown = directories.prefix(4).joined(separator: ", ")
        return directories.count > 4 ? shown + ", … \(directories.count - 4) more" : shown
    }

    /// `site-packages` (and Debian's `dist-packages`) directories of the Python environments this user may have
    /// installed pip's CUDA wheels into, in the order of ``CUDALibrarySearch``.
    func sitePackagesDirectories() -> [String] {
        var prefixes: [String] = []
        for variable in ["VIRTUAL_ENV", "CONDA_PREFIX"] { if let value = environment[variable], !value.isEmpty { prefixes.append(value) } }
        for directory in paths("PATH") where directory.hasSuffix("/bin") { prefixes.append(String(directory.dropLast(4))) }
        var directories: [String] = paths("PYTHONPATH")
        prefixes.append(home + "/.local")
        prefixes += subdirectories(of: home + "/.pyenv/versions", prefix: "")
        prefixes += ["/usr/local", "/usr", "/opt/conda"]
        for prefix in prefixes {
            for python in subdirectories(of: prefix + "/lib", prefix: "python3") {
                directories += [python + "/site-packages", python + "/dist-packages"]
            }
        }
        directories.append("/usr/lib/python3/dist-packages")
        return directories.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The colon-separated entries of an environment variable.
    func paths(_ variable: String) -> [String] {
        (environment[variable] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// Subdirectories of `directory` whose names start with `prefix`, the highest version first.
    func subdirectories(of directory: String, prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) }
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { directory + "/" + $0 }
    }
}
