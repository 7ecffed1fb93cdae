import Foundation
import Testing
import VAECUDA
import VAETensor

/// ``DeviceOps`` on the emulated device against the CPU backend's ops and tape: broadcasting and convolution with
/// their gradients (TensorOnDeviceTests runs whole steps through the tape on the device).
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct DeviceOpsTests {
    let ops: DeviceOps
    /// Small launches: the emulator starts a thread per GPU thread.
    init() throws { ops = DeviceOps(device: EmulatedDevice(try KernelEmulator.shared.get()), blockSize: 64, maximumBlocks: 2) }

    func values(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -0.5...0.5) -> Tensor {
        var stream = RandomStream(seed: seed, name: "device-ops")
        return stream.uniform(shape: shape, in: range)
    }

    func upload(_ tensor: Tensor) throws -> DeviceTensor { try DeviceTensor(device: ops.device, shape: tensor.shape, values: tensor.scalars) }

    func expectClose(_ device: DeviceTensor, _ cpu: Tensor, _ what: String, tolerance: Float = 1e-5) throws {
        #expect(device.shape == cpu.shape, "\(what): shape \(device.shape), expected \(cpu.shape)")
        let worst = zip(try device.values(), cpu.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): largest relative difference \(worst)")
    }

    @Test func broadcastingAndItsGradientsReduceToEachShape() throws {
        let (a, b, g) = (values([3, 1, 4], seed: 1), values([5, 1], seed: 2, in: 0.5...2), values([3, 5, 4], seed: 3))
        for op in BinaryOp.allCases {
            let f: (Tensor, Tensor) -> Tensor = { x, y in
                switch op { case .add: return x + y; case .subtract: return x - y; case .multiply: return x * y; case .divide: return x / y }
            }
            try expectClose(try ops.binary(op, try upload(a), try upload(b)), f(a, b), "\(op)")
            let tape = GradientTape()
            let expected = tape.recording { () -> [Tensor] in
                let (x, y) = (tape.watch(a), tape.watch(b))
                return tape.gradients(of: (f(x, y) * g).sum(), withRespectTo: [x, y])
            }
            let (da, db) = try ops.binaryGradients(op, upstream: try upload(g), try upload(a), try upload(b))
            try expectClose(try #require(da), expected[0], "\(op)'s gradient for a")
            try expectClose(try #require(db), expected[1], "\(op)'s gradient for b")
            let alone = try ops.binaryGradients(op, upstream: try upload(g), try upload(a), try upload(b), needing: (false, true))
            #expect(alone.a == nil)
            try expectClose(try #require(alone.b), expected[1], "\(op)'s gradient for b alone")
        }
        #expect(Broadcasting.resultShape([3, 1, 4], [5, 1]) == [3, 5, 4])
        #expect(Broadcasting.resultShape([3, 2], [3]) == nil)
    }
}

extension DeviceOpsTests {
    @Test func convolutionAndItsGradientsMatchTheTape() throws {
        // Stride 2 and padding 1 over a 7×7 image with 3 channels into 4: every branch of im2col and col2im.
        let (x, weight, bias, g) = (values([2, 3, 7, 7], seed: 30), values([4, 3, 3, 3], seed: 31), values([4], seed: 32), values([2, 4, 4, 4], seed: 33))
        let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        let tape = GradientTape()
        let (output, expected) = tape.recording { () -> (Tensor, [Tensor]) in
            let (xs, w, b) = (tape.watch(x), tape.watch(weight), tape.watch(bias))
            let y = xs.conv2d(weight: w, bias: b, geometry: geometry)
            return (y, tape.gradients(of: (y * g).sum(), withRespectTo: [xs, w, b]))
        }
        let convolution = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        let w = try upload(weight)
        let forward = try ops.conv2d(try upload(x), weight: w, bias: try upload(bias), convolution)
        try expectClose(forward.output, output, "conv2d")
        let gradients = try ops.conv2dGradients(upstream: try upload(g), inputShape: x.shape, weight: w, columns: forward.columns, convolution)
        try expectClose(gradients.input, expected[0], "conv2d's input gradient")
        try expectClose(gradients.weight, expected[1], "conv2d's weight gradient")
        try expectClose(gradients.bias, expected[2], "conv2d's bias gradient")
    }
}
