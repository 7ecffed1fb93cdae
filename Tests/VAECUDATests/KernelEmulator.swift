import Foundation
import TestSupport
import VAECUDA
import VAETensor

/// VAEKit's CUDA kernels run on the CPU, to check what they compute without a GPU: the kernel source compiled as
/// C++ by the system's compiler with a shim for CUDA's built-ins — each block's threads are real threads meeting
/// at a barrier for `__syncthreads`, `__shared__` arrays are shared by them, blocks run one after another — into a
/// shared library whose `vae_emu_launch(name, grid, block, args)` takes arguments as `cuLaunchKernel` does (an
/// array of pointers to each argument's value). Pointers are host memory.
final class KernelEmulator: @unchecked Sendable {
    typealias Launch = @convention(c) (UnsafePointer<CChar>, UInt32, UInt32, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32
    let launchFunction: Launch
    let library: SharedLibrary

    /// Compiled once per test process; nil (with the reason) where no C++ compiler is found.
    static let shared: Result<KernelEmulator, Error> = Result { try KernelEmulator() }

    static let shim = #"""
        #include <math.h>
        #include <stdlib.h>
        #include <string.h>
        #include <pthread.h>
        #include <thread>
        #include <utility>
        #include <vector>
        struct vae_dim3 { unsigned int x, y, z; };
        static thread_local vae_dim3 threadIdx, blockIdx;
        static vae_dim3 blockDim, gridDim;
        static pthread_barrier_t vae_barrier;
        #define __global__
        #define __device__ static
        #define __forceinline__ inline
        #define __restrict__ __restrict
        #define __shared__ static
        static inline void __syncthreads() { pthread_barrier_wait(&vae_barrier); }
        static inline void __trap() { abort(); }
        static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
        static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
        """#

    static func launcher(kernels: [String]) -> String {
        """
        typedef void (*vae_entry)(void **);
        template <typename... A, size_t... I> static void vae_call(void (*f)(A...), void **args, std::index_sequence<I...>) {
            f(*static_cast<A *>(args[I])...);
        }
        template <typename... A> static void vae_call(void (*f)(A...), void **args) { vae_call(f, args, std::index_sequence_for<A...>{}); }
        static const struct { const char *name; vae_entry entry; } vae_entries[] = {
        \(kernels.map { "    {\"\($0)\", [](void **a) { vae_call(\($0), a); }}," }.joined(separator: "\n"))
        };
        extern "C" int vae_emu_launch(const char *name, unsigned grid, unsigned block, void **args) {
            vae_entry entry = nullptr;
            for (const auto &e : vae_entries) if (strcmp(e.name, name) == 0) entry = e.entry;
            if (!entry) return 1;
            blockDim = {block, 1, 1};
            gridDim = {grid, 1, 1};
            for (unsigned b = 0; b < grid; b++) {
                pthread_barrier_init(&vae_barrier, nullptr, block);
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < block; t++) threads.emplace_back([=] { threadIdx = {t, 0, 0}; blockIdx = {b, 0, 0}; entry(args); });
                for (auto &thread : threads) thread.join();
                pthread_barrier_destroy(&vae_barrier);
            }
            return 0;
        }
        """
    }

    /// The first of clang++ (the Swift toolchain's), g++ and c++ on PATH.
    static let compiler: String? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for name in ["clang++", "g++", "c++"] {
            if let found = path.map({ $0 + "/" + name }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        }
        return nil
    }()

    init() throws {
        guard let compiler = Self.compiler else {
            throw CUDAError("no C++ compiler (clang++, g++ or c++) on PATH to emulate the kernels")
        }
        let directory = try makeTemporaryDirectory("kernel-emulator")
        // Once loaded, the library's file is no longer needed (Linux keeps the mapping).
        defer { removeDirectory(directory) }
        let source = directory + "/kernels.cpp", output = directory + "/libkernels.so"
        let text = Self.shim + "\n" + CUDAKernelSource.text + "\n" + Self.launcher(kernels: CUDAOpTable.kernelNames.sorted())
        try text.write(toFile: source, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        // No contraction: products and sums round as written, as NVRTC's --fmad=false and CKernels.
        process.arguments = ["-std=c++17", "-O1", "-ffp-contract=off", "-fPIC", "-shared", "-pthread", "-w", source, "-o", output]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CUDAError("\(compiler) could not compile the emulated kernels:\n\(log)") }
        library = try SharedLibrary.open(output).get()
        launchFunction = try library.function("vae_emu_launch", as: Launch.self)
    }

    /// One launch at a time: the emulated launch configuration and barrier are the library's globals, and tests
    /// of different suites run concurrently.
    private let launching = NSLock()

    /// Runs kernel `name` on `grid` blocks of `block` threads.
    func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        launching.lock()
        defer { launching.unlock() }
        let status = KernelArgument.withParameters(arguments) { launchFunction(name, UInt32(grid), UInt32(block), $0) }
        guard status == 0 else { throw CUDAError("the emulator has no kernel \(name)") }
    }
}

/// The CPU as a ``KernelDevice``: "device" memory is host memory (an address is a pointer), kernels run in the
/// ``KernelEmulator``, GEMMs on VAETensor's BLAS.
final class EmulatedDevice: KernelDevice {
    let name = "the CPU, emulating a GPU"
    let emulator: KernelEmulator
    init(_ emulator: KernelEmulator) { self.emulator = emulator }

    func allocate(bytes: Int) throws -> DeviceAddress {
        DeviceAddress(UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 4), alignment: 16))))
    }
    func pointer(_ address: DeviceAddress) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: UInt(address.rawValue))! }
    func free(_ address: DeviceAddress) { pointer(address).deallocate() }
    func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws {
        if let base = bytes.baseAddress { pointer(address).copyMemory(from: base, byteCount: bytes.count) }
    }
    func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws {
        if let base = bytes.baseAddress { base.copyMemory(from: pointer(address), byteCount: bytes.count) }
    }
    func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        try emulator.launch(name, grid: grid, block: block, arguments)
    }
    func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool, c: DeviceAddress) throws {
        let left = Tensor(shape: transposingA ? [k, m] : [m, k], scalars: try download(a, count: m * k))
        let right = Tensor(shape: transposingB ? [n, k] : [k, n], scalars: try download(b, count: k * n))
        try left.matmul(right, transposingSelf: transposingA, transposingOther: transposingB).scalars.withUnsafeBytes { try copy($0, to: c) }
    }
}
