import Foundation
import TestSupport
import Testing
@testable import VAECUDA

/// NVRTC where this machine has it (CI installs pip's `nvidia-cuda-nvrtc` and sets VAEKIT_REQUIRE_NVRTC=1, so
/// there a missing compiler fails instead of skipping); nil with the reason otherwise.
let nvrtcLoad: Result<NVRTC, Error> = Result { try NVRTC() }
let nvrtcRequired = ProcessInfo.processInfo.environment["VAEKIT_REQUIRE_NVRTC"] == "1"
let nvrtcAvailable = nvrtcRequired || (try? nvrtcLoad.get()) != nil

/// VAEKit's CUDA kernels compile with NVRTC, with no GPU: PTX for compute_90 and a CUBIN for sm_90 (the H200).
@Suite(.enabled(if: nvrtcAvailable, "NVRTC not found (pip install nvidia-cuda-nvrtc)"))
struct KernelCompilationTests {
    func compiler() throws -> NVRTC { try nvrtcLoad.get() }

    /// The `.entry` names of a PTX module.
    func entries(_ ptx: [UInt8]) -> Set<String> {
        let text = String(decoding: ptx.prefix { $0 != 0 }, as: UTF8.self)
        var names = Set<String>()
        for line in text.split(separator: "\n") where line.contains(".entry ") {
            let rest = line.split(separator: ".entry ", maxSplits: 1)[1]
            names.insert(String(rest.prefix { $0 != "(" && $0 != " " }))
        }
        return names
    }

    @Test func everyKernelCompilesToPTXForHopper() throws {
        let nvrtc = try compiler()
        let ptx = try nvrtc.compile(CUDAKernelSource.text, name: CUDAKernelSource.name, target: .ptx(architecture: 90))
        let text = String(decoding: ptx.prefix { $0 != 0 }, as: UTF8.self)
        #expect(text.contains(".target sm_90"))
        #expect(ptx.last == 0, "PTX is handed to the driver as a NUL-terminated string")
        // Exactly the kernels the op table names: none missing, none that no op uses.
        let compiled = entries(ptx)
        #expect(CUDAOpTable.kernelNames.subtracting(compiled).sorted() == [], "named by CUDAOpTable but not compiled")
        #expect(compiled.subtracting(CUDAOpTable.kernelNames).sorted() == [], "compiled but named by no op")
    }

    @Test func aCUBINForSm90NeedsNoGPU() throws {
        let cubin = try compiler().compile(CUDAKernelSource.text, name: CUDAKernelSource.name, target: .cubin(architecture: 90))
        #expect(Array(cubin.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46], "an ELF file")
        #expect(cubin.count > 10_000)
    }

    @Test func aCompileErrorCarriesNVRTCsLog() throws {
        let source = "extern \"C\" __global__ void broken(float *y) {\n  y[0] = undeclared;\n}\n"
        do {
            _ = try compiler().compile(source, name: "broken.cu", target: .ptx(architecture: 90))
            Issue.record("a kernel with an undeclared identifier compiled")
        } catch let error as CUDAError {
            #expect(error.message.contains("could not compile broken.cu to PTX for compute_90"))
            #expect(error.message.contains("broken.cu(2)"), "the log names the file and line: \(error.message)")
            #expect(error.message.contains("undeclared"))
        }
    }

    @Test func compiledKernelsAreCachedAtomically() throws {
        let directory = try makeTemporaryDirectory("kernel-cache")
        defer { removeDirectory(directory) }
        let nvrtc = try compiler()
        let cache = KernelCache(directory: directory + "/cuda")
        let first = try cache.kernels(CUDAKernelSource.text, name: CUDAKernelSource.name, target: .ptx(architecture: 90), nvrtc: nvrtc)
        #expect(!first.fromCache)
        let file = cache.path(CUDAKernelSource.text, target: .ptx(architecture: 90), compilerVersion: nvrtc.version)
        #expect(FileManager.default.contents(atPath: file).map { [UInt8]($0) } == first.bytes)
        let second = try cache.kernels(CUDAKernelSource.text, name: CUDAKernelSource.name, target: .ptx(architecture: 90), nvrtc: nvrtc)
        #expect(second.fromCache && second.bytes == first.bytes)
        // Only the compiled file is left: no temporary files from the atomic write.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/cuda") == [(file as NSString).lastPathComponent])
    }
}
