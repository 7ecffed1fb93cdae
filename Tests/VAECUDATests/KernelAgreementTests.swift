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
        final class Miswired: ForwardingDevice {
            override var name: String { "miswired" }
            override func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
                try base.launch(name == "vae_exp" ? "vae_sqrt" : name, grid: grid, block: block, arguments)
            }
        }
        let failed = try KernelChecks.run(on: Miswired(device)).filter { !$0.passed }.map(\.name)
        // exp's gradient reads the (wrong) forward output.
        #expect(failed == ["vae_exp", "vae_exp_gradient"])
    }
}

/// The products of a size a GPU's BLAS tiles, each layout, pass in FP32 on the emulated device. A device that
/// rounds the operands as TF32 does (10 bits of mantissa, to nearest) stays within the TF32 tolerance and fails the
/// FP32 one, so a GPU left in TF32 by mistake shows; a device that ignores a transposition fails both.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct ProductCheckTests {
    /// The emulated device with its GEMM's operands rounded to TF32, or its transposition flags dropped.
    final class Rounding: ForwardingDevice {
        let dropsTransposes: Bool
        init(_ base: EmulatedDevice, dropsTransposes: Bool = false) {
            self.dropsTransposes = dropsTransposes
            super.init(base)
        }
        override var name: String { "rounding" }
        static func tf32(_ x: Float) -> Float { Float(bitPattern: (x.bitPattern &+ 0x1000) & 0xFFFF_E000) }
        override func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool, c: DeviceAddress) throws {
            if dropsTransposes {
                return try base.gemm(m: m, n: n, k: k, a: a, transposingA: false, b: b, transposingB: false, c: c)
            }
            let rounded = try [(a, m * k), (b, k * n)].map { try base.upload(base.download($0.0, count: $0.1).map(Self.tf32)) }
            defer { rounded.forEach(base.free) }
            try base.gemm(m: m, n: n, k: k, a: rounded[0], transposingA: transposingA, b: rounded[1], transposingB: transposingB, c: c)
        }
    }

    let device: EmulatedDevice
    init() throws { device = EmulatedDevice(try KernelEmulator.shared.get()) }

    @Test func productsAgreeInFP32() throws {
        let results = try KernelChecks.products(on: device, tf32: false)
        #expect(results.count == 4)
        for check in results { #expect(check.passed, "\(check.name): \(check.worst) > \(check.tolerance)") }
    }

    @Test func tf32RoundingPassesItsToleranceAndFailsFP32s() throws {
        let tf32 = try KernelChecks.products(on: Rounding(device), tf32: true)
        for check in tf32 {
            #expect(check.passed && check.name.contains("TF32"), "\(check.name): \(check.worst) > \(check.tolerance)")
            #expect(check.worst > 1e-4, "\(check.name): TF32 rounding moved the product by only \(check.worst)")
        }
        #expect(try KernelChecks.products(on: Rounding(device), tf32: false).allSatisfy { !$0.passed })
    }

    @Test func aProductThatIgnoresTranspositionFails() throws {
        let failed = try KernelChecks.products(on: Rounding(device, dropsTransposes: true), tf32: true).filter { !$0.passed }.map(\.name)
        #expect(failed.count == 3 && failed.allSatisfy { $0.contains("ᵀ") }, "\(failed)")
    }
}

/// A failed check's report is JSON even when its difference is not finite (a NaN from a kernel).
@Test func aNonFiniteDifferenceEncodesAsNull() throws {
    let check = KernelCheck(name: "vae_exp", worst: .nan, tolerance: 2e-6)
    #expect(!check.passed)
    let text = String(decoding: try JSONEncoder().encode([check]), as: UTF8.self)
    #expect(text.contains("\"worst\":null") && text.contains("\"passed\":false"), "\(text)")
}
