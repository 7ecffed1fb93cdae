import Foundation
import Testing
import VAECUDA
import VAECUDAChecks

/// Whether a C++ compiler is there to emulate the kernels (the Swift toolchain brings clang++).
let emulatorAvailable = KernelEmulator.compiler != nil

/// Every kernel, run on the CPU by ``KernelEmulator``, computes what the CPU backend computes (``KernelChecks``:
/// forward values and gradients against VAETensor's ops and tape, Adam against CKernels and uniform draws against
/// `RandomStream` bit for bit). The emulation runs the kernels' own code (grid-stride loops, 256-thread block
/// reductions meeting at barriers) with the host's math library, so it checks their logic and indexing; on a GPU,
/// `vae devices --check` runs the same checks.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct KernelAgreementTests {
    let device: EmulatedDevice
    init() throws { device = EmulatedDevice(try KernelEmulator.shared.get()) }

    @Test func everyKernelAgreesWithTheCPUBackend() throws {
        let results = try KernelChecks.run(on: device)
        for check in results {
            #expect(check.passed, "\(check.name): largest relative difference \(check.worst), allowed \(check.tolerance)")
        }
        // Every kernel of the op table is exercised (a check's name lists the kernels it runs).
        let checked = Set(results.flatMap { $0.name.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init) })
        #expect(CUDAOpTable.kernelNames.subtracting(checked).sorted() == [], "kernels no check runs")
        #expect(results.count > 50)
    }

    /// A device whose exp is wrong (it runs sqrt) fails the exp checks and only those.
    @Test func aWrongKernelFailsItsCheck() throws {
        final class Miswired: KernelDevice {
            let base: EmulatedDevice
            init(_ base: EmulatedDevice) { self.base = base }
            var name: String { "miswired" }
            func allocate(bytes: Int) throws -> DeviceAddress { try base.allocate(bytes: bytes) }
            func free(_ address: DeviceAddress) { base.free(address) }
            func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws { try base.copy(bytes, to: address) }
            func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws { try base.copy(from: address, into: bytes) }
            func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
                try base.launch(name == "vae_exp" ? "vae_sqrt" : name, grid: grid, block: block, arguments)
            }
            func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool, c: DeviceAddress) throws {
                try base.gemm(m: m, n: n, k: k, a: a, transposingA: transposingA, b: b, transposingB: transposingB, c: c)
            }
        }
        let failed = try KernelChecks.run(on: Miswired(device)).filter { !$0.passed }.map(\.name)
        // exp's gradient reads the (wrong) forward output.
        #expect(failed == ["vae_exp", "vae_exp_gradient"])
    }
}

/// A failed check's report is JSON even when its difference is not finite (a NaN from a kernel).
@Test func aNonFiniteDifferenceEncodesAsNull() throws {
    let check = KernelCheck(name: "vae_exp", worst: .nan, tolerance: 2e-6)
    #expect(!check.passed)
    let text = String(decoding: try JSONEncoder().encode([check]), as: UTF8.self)
    #expect(text.contains("\"worst\":null") && text.contains("\"passed\":false"), "\(text)")
}
