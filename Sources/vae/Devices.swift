import ArgumentParser
import Foundation
import VAECUDA
import VAECUDAChecks
import VAEFormats
import VAETensor
import VAETraining

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What `--device` can use here: the CPU's BLAS, and for cuda the NVIDIA driver, GPUs and CUDA libraries found (and where).",
        discussion: """
            CUDA's libraries are loaded at run time, never linked: from VAEKIT_CUDA_LIBRARY_PATH, a toolkit at \
            CUDA_HOME or CUDA_PATH, pip's wheels (pip install nvidia-cuda-runtime nvidia-cublas nvidia-cuda-nvrtc) \
            in the active or user Python environments, /usr/local/cuda, then the dynamic loader's path.
            """)

    @Flag(help: "Print the report as JSON.")
    var json = false
    @Flag(help: "Also compile VAEKit's CUDA kernels with NVRTC (a CUBIN for the first GPU's architecture, else PTX for compute_90) and report it; the result is cached.")
    var compile = false
    @Flag(help: "Also run every CUDA kernel (and cuBLAS's SGEMM, in FP32 and in TF32) on the first GPU against the CPU backend, with the tolerances of `KernelChecks`; exits non-zero when one differs.")
    var check = false

    /// What `--json` prints (keys in snake case).
    struct Report: Encodable {
        struct CPU: Encodable { var blas: String; var threads: Int }
        struct Library: Encodable { var name: String; var path: String?; var version: String?; var problem: String? }
        struct GPU: Encodable { var index: Int; var name: String; var architecture: String; var memoryBytes: Int }
        struct CUDA: Encodable {
            var usable: Bool
            var problem: String?
            var driverVersion: String?
            var libraries: [Library]
            var devices: [GPU]
        }
        struct Kernels: Encodable { var target: String; var kernels: Int; var bytes: Int; var fromCache: Bool; var seconds: Double; var file: String }
        var cpu: CPU
        var cuda: CUDA
        var kernels: Kernels?
        var checks: [KernelCheck]?
    }

    func run() throws {
        try reportingErrors {
            let probe = CUDAProbe.run()
            let report = Report(
                cpu: .init(blas: BLAS.configuration, threads: BLAS.threadCount),
                cuda: .init(usable: probe.problem == nil, problem: probe.problem, driverVersion: probe.driverVersion,
                            libraries: probe.libraries.map { .init(name: $0.library.rawValue, path: $0.path, version: $0.version, problem: $0.problem) },
                            devices: probe.devices.map { .init(index: $0.index, name: $0.name, architecture: "sm_\($0.architecture)", memoryBytes: $0.memoryBytes) }),
                kernels: compile ? try compileKernels(probe) : nil,
                checks: check ? try gpuChecks() : nil)
            let failed = (report.checks ?? []).filter { !$0.passed }
            if json {
                print(try JSONOutput.encode(report))
                if !failed.isEmpty { throw ExitCode.failure }
                return
            }
            print("cpu   \(report.cpu.blas), \(report.cpu.threads) BLAS thread\(report.cpu.threads == 1 ? "" : "s")")
            print("cuda  " + (probe.problem.map { "not usable: \($0)" } ?? "usable: \(probe.devices.count) GPU\(probe.devices.count == 1 ? "" : "s")"))
            for device in probe.devices {
                print("  GPU \(device.index): \(device.name) (sm_\(device.architecture), "
                      + String(format: "%.1f GiB)", Double(device.memoryBytes) / 1_073_741_824))
            }
            for library in probe.libraries {
                let found = library.path.map { "\(library.version ?? "?")  \($0)" } ?? "not found"
                print("  " + library.library.title.padding(toLength: 27, withPad: " ", startingAt: 0) + found)
            }
            if let kernels = report.kernels {
                let how = kernels.fromCache ? "from the cache" : String(format: "compiled in %.2f s", kernels.seconds)
                print("  kernels: \(kernels.kernels) as \(kernels.target), \(kernels.bytes) bytes (\(how)): \(kernels.file)")
            }
            if let checks = report.checks {
                print("checks on \(probe.devices.first?.name ?? "the GPU") against the CPU backend (largest relative difference ≤ allowed):")
                for check in checks {
                    print("  \(check.passed ? "ok  " : "FAIL") \(check.name.padding(toLength: 58, withPad: " ", startingAt: 0)) "
                          + String(format: "%.2e ≤ %.0e", check.worst, check.tolerance))
                }
                print("\(checks.count - failed.count) of \(checks.count) checks passed")
                if !failed.isEmpty { throw ExitCode.failure }
            }
        }
    }

    /// Every kernel check on the first GPU, then products of a size cuBLAS tiles, in FP32 and again in TF32.
    func gpuChecks() throws -> [KernelCheck] {
        let context = try CUDAContext()
        var checks = try KernelChecks.run(on: context) + KernelChecks.products(on: context, tf32: false)
        try context.useTF32(true)
        checks += try KernelChecks.products(on: context, tf32: true)
        return checks
    }

    /// Compiles ``CUDAKernelSource`` for the first GPU (a CUBIN for its sm_XY) or, without one, to PTX for compute_90.
    func compileKernels(_ probe: CUDAProbe) throws -> Report.Kernels {
        let nvrtc = try NVRTC()
        let target: NVRTC.Target = probe.devices.first.map { .cubin(architecture: $0.architecture) } ?? .ptx(architecture: 90)
        let cache = KernelCache()
        let started = Date()
        let (bytes, fromCache) = try cache.kernels(CUDAKernelSource.text, name: CUDAKernelSource.name, target: target, nvrtc: nvrtc)
        return .init(target: "\(target)", kernels: CUDAOpTable.kernelNames.count, bytes: bytes.count, fromCache: fromCache,
                     seconds: Date().timeIntervalSince(started),
                     file: cache.path(CUDAKernelSource.text, target: target, compilerVersion: nvrtc.version))
    }
}

/// The backend `device: cuda` runs on (GPU 0 through the caching allocator), or nil for the CPU. Without a usable GPU
/// it stops here, before anything is written, with `flag` and what this machine lacks (the driver, a GPU, a
/// library, and where it was looked for). `tf32` runs its GEMMs in TF32 (`CUDAContext.useTF32(_:)`); on the CPU,
/// whose products are FP32, it is noted and has no effect.
func cudaBackend(_ device: String, flag: String, group: any ProcessGroup, profiling: Bool = false,
                 tf32: Bool = false) throws -> CUDABackend? {
    guard device == "cuda" else {
        if tf32 { Console.note("note: TF32 applies to --device cuda; the CPU's products stay FP32") }
        return nil
    }
    guard group.size == 1 else {
        throw TrainingError("\(flag): MPI ranks run on the CPU in this version; run one process per GPU without mpirun, or --device cpu")
    }
    if let problem = CUDAProbe.run().problem { throw TrainingError("\(flag): \(problem)") }
    do {
        let context = try CUDAContext(device: 0)
        if tf32 { try context.useTF32(true) }
        return CUDABackend(device: CachingDevice(profiling ? ProfilingDevice(context) : context))
    } catch {
        throw TrainingError("\(flag): \(error)")
    }
}
