import Foundation
import TestSupport
import Testing
@testable import VAECUDA

/// Where the CUDA libraries are looked for, and what a missing or broken one says.
@Suite struct LibrarySearchTests {
    /// Makes `relativePath` under `root` (an empty file: found, but not a library).
    func touch(_ root: String, _ relativePath: String) throws {
        let path = root + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data())
    }

    @Test func searchOrderIsExplicitThenToolkitThenWheelsThenLoader() throws {
        let root = try makeTemporaryDirectory("cuda-search")
        defer { removeDirectory(root) }
        try touch(root, "explicit/libnvrtc.so.12")
        try touch(root, "toolkit/lib64/libnvrtc.so.13")
        try touch(root, "venv/lib/python3.12/site-packages/nvidia/cu13/lib/libnvrtc.so.13")
        try touch(root, "venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12")
        try touch(root, "home/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13")
        try touch(root, "home/.pyenv/versions/3.11.7/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13")
        let search = CUDALibrarySearch(
            environment: ["VAEKIT_CUDA_LIBRARY_PATH": root + "/explicit", "CUDA_HOME": root + "/toolkit", "VIRTUAL_ENV": root + "/venv"],
            home: root + "/home")
        let found = search.candidates(for: .nvrtc).filter { $0.hasPrefix(root) }.map { String($0.dropFirst(root.count + 1)) }
        #expect(found == ["explicit/libnvrtc.so.12", "toolkit/lib64/libnvrtc.so.13",
                          "venv/lib/python3.12/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
                          "venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
                          "home/.local/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
                          "home/.pyenv/versions/3.11.7/lib/python3.11/site-packages/nvidia/cu13/lib/libnvrtc.so.13"])
        // Last, the bare names for the dynamic loader's own search.
        #expect(Array(search.candidates(for: .nvrtc).suffix(2)) == ["libnvrtc.so.13", "libnvrtc.so.12"])
        // A `…/bin` directory on PATH counts as an environment's prefix (a venv or pyenv python first on PATH).
        let onPath = CUDALibrarySearch(environment: ["PATH": root + "/venv/bin:/usr/bin"], home: root + "/home")
        #expect(onPath.candidates(for: .nvrtc).contains(root + "/venv/lib/python3.12/site-packages/nvidia/cu13/lib/libnvrtc.so.13"))
        // The driver is not a wheel: only toolkit and system directories.
        #expect(!search.directories(for: .driver).contains { $0.contains("site-packages") })
        #expect(search.directories(for: .driver).contains("/usr/lib/x86_64-linux-gnu"))
    }

    @Test func theDriversReleaseBoundsTheLibrariesReleases() throws {
        var search = CUDALibrarySearch(environment: [:], home: "/nonexistent")
        #expect(search.fileNames(for: .cublas) == ["libcublas.so.13", "libcublas.so.12"])
        search.majorAtMost = 12   // a CUDA 12 driver cannot run CUDA 13's cuBLAS
        #expect(search.fileNames(for: .cublas) == ["libcublas.so.12"])
        #expect(search.candidates(for: .nvrtc).allSatisfy { $0.hasSuffix(".so.12") })
        #expect(search.fileNames(for: .driver) == ["libcuda.so.1"])
        search.majorAtMost = 11
        guard case .failure(let error) = search.load(.runtime) else { Issue.record("a CUDA 11 driver loaded a runtime"); return }
        #expect(error.message == "the CUDA runtime (libcudart) of CUDA 12 or 13 is needed, but the NVIDIA driver supports CUDA 11 at most: update the driver")
    }

    @Test func aMissingLibraryNamesWhatWhereAndHowToInstall() throws {
        let root = try makeTemporaryDirectory("cuda-missing")
        defer { removeDirectory(root) }
        // An empty file where the runtime should be: found, but the loader refuses it, and the message says so.
        try touch(root, "toolkit/lib64/libcudart.so.13")
        let search = CUDALibrarySearch(environment: ["CUDA_HOME": root + "/toolkit"], home: root)
        guard case .failure(let error) = search.load(.runtime) else {
            // A machine with the runtime on the loader's path finds it there after the broken file; nothing to check.
            return
        }
        #expect(error.message.hasPrefix("the CUDA runtime (libcudart) was not found: looked for libcudart.so.13 or libcudart.so.12 in "))
        #expect(error.message.contains(root + "/toolkit/lib64"))
        #expect(error.message.contains("found but could not load: " + root + "/toolkit/lib64/libcudart.so.13"))
        #expect(error.message.contains("pip install nvidia-cuda-runtime"))
        #expect(error.message.contains("VAEKIT_CUDA_LIBRARY_PATH"))
    }

    @Test func aMissingSymbolNamesTheLibraryAndTheFunction() throws {
        // libc is always there and has no CUDA functions.
        let libc = try SharedLibrary.open("libc.so.6").get()
        #expect(throws: CUDAError.self) { try libc.function("nvrtcVersion", as: (@convention(c) () -> Int32).self) }
        do {
            _ = try libc.function("nvrtcVersion", as: (@convention(c) () -> Int32).self)
        } catch let error as CUDAError {
            #expect(error.message == "libc.so.6 has no function nvrtcVersion: it is older than VAEKit needs, or not the library its name says")
        }
        // The file behind a bare name, from the process's memory map.
        #expect(libc.path(containing: "printf").hasSuffix("libc.so.6"))
        #expect(libc.path(containing: "printf").hasPrefix("/"))
    }

    @Test func theKernelCacheFollowsTheEnvironment() {
        #expect(KernelCache(environment: ["VAEKIT_CACHE_DIR": "/c"], home: "/h").directory == "/c/cuda")
        #expect(KernelCache(environment: ["XDG_CACHE_HOME": "/x"], home: "/h").directory == "/x/vaekit/cuda")
        #expect(KernelCache(environment: [:], home: "/h").directory == "/h/.cache/vaekit/cuda")
        let cache = KernelCache(directory: "/c")
        let a = cache.path("source", target: .ptx(architecture: 90), compilerVersion: (13, 2))
        #expect(a.hasPrefix("/c/kernels-compute_90-") && a.hasSuffix(".ptx"))
        #expect(cache.path("source", target: .cubin(architecture: 90), compilerVersion: (13, 2)).hasSuffix(".cubin"))
        // Another source, target or compiler release is another file.
        #expect(cache.path("source!", target: .ptx(architecture: 90), compilerVersion: (13, 2)) != a)
        #expect(cache.path("source", target: .ptx(architecture: 80), compilerVersion: (13, 2)) != a)
        #expect(cache.path("source", target: .ptx(architecture: 90), compilerVersion: (12, 9)) != a)
    }
}
