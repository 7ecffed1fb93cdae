import Foundation
import Testing
@testable import VAECUDA

/// The CUDA op table covers the CPU backend: every public op of VAETensor's `Tensor` and every CKernels loop has an
/// entry, and every kernel an entry names is defined in the CUDA source. Read from the sources, so an op added to
/// the CPU backend fails here until the CUDA backend accounts for it.
@Suite struct OpTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Public functions and operators declared in `extension Tensor` or `struct Tensor` blocks of VAETensor.
    static func tensorOps() throws -> Set<String> {
        let directory = root + "/Sources/VAETensor"
        var ops = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file.hasSuffix(".swift") {
            var inTensor = false
            for line in try String(contentsOfFile: directory + "/" + file, encoding: .utf8).split(separator: "\n") {
                if let first = line.first, first != " ", first != "}", first != "/", first != "#" {
                    let words = line.split { $0 == " " || $0 == ":" || $0 == "," || $0 == "{" }
                    inTensor = words.starts(with: ["extension", "Tensor"]) || words.starts(with: ["public", "struct", "Tensor"])
                }
                guard inTensor else { continue }
                let words = line.split(separator: " ").map(String.init)
                guard words.first == "public", let funcIndex = words.firstIndex(of: "func"), funcIndex + 1 < words.count else { continue }
                let name = String(words[funcIndex + 1].prefix { $0 != "(" && $0 != "<" })
                ops.insert(words[..<funcIndex].contains("prefix") ? "prefix " + name : name)
            }
        }
        return ops
    }

    /// The functions CKernels.h declares.
    static func cKernels() throws -> Set<String> {
        let header = try String(contentsOfFile: root + "/Sources/CKernels/include/CKernels.h", encoding: .utf8)
        var names = Set<String>()
        for line in header.split(separator: "\n") where !line.hasPrefix("//") && !line.hasPrefix("typedef") {
            guard let open = line.firstIndex(of: "("), let start = line[..<open].lastIndex(where: { $0 == " " || $0 == "*" }) else { continue }
            let name = String(line[line.index(after: start)..<open])
            if name.hasPrefix("vae_") { names.insert(name) }
        }
        return names
    }

    @Test func everyTensorOpHasACUDAImplementation() throws {
        let ops = try Self.tensorOps()
        #expect(ops.count > 30, "the parser found the ops: \(ops.sorted())")
        #expect(ops.subtracting(CUDAOpTable.tensorOps.keys).sorted() == [], "ops of Tensor with no CUDA entry")
        #expect(Set(CUDAOpTable.tensorOps.keys).subtracting(ops).sorted() == [], "entries for ops Tensor no longer has")
        // A composite names only ops that are themselves in the table.
        for (op, implementation) in CUDAOpTable.tensorOps {
            if case .composite(let parts) = implementation {
                #expect(parts.allSatisfy { CUDAOpTable.tensorOps[$0] != nil }, "\(op) is built from \(parts)")
            }
        }
    }

    @Test func everyCKernelsLoopHasACUDAImplementation() throws {
        let loops = try Self.cKernels()
        #expect(loops.contains("vae_adam_update") && loops.contains("vae_im2col"), "parsed: \(loops.sorted())")
        // The thread pool is the CPU's own parallelism.
        #expect(loops.subtracting(CUDAOpTable.cpuKernels.keys).sorted() == ["vae_pool_run"])
        #expect(Set(CUDAOpTable.cpuKernels.keys).subtracting(loops).sorted() == [])
    }

    @Test func everyNamedKernelIsDefinedInTheSource() {
        for name in CUDAOpTable.kernelNames {
            let defined = CUDAKernelSource.text.contains("__global__ void \(name)(")
                || CUDAKernelSource.text.contains("(\(name),")  // made by VAE_UNARY, VAE_UNARY_GRADIENT or VAE_BINARY
            #expect(defined, "\(name) is named by CUDAOpTable but not defined in CUDAKernelSource")
        }
    }
}
