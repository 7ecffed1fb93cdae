import Foundation
import Testing
import VAECUDA
import VAETensor

/// ``DeviceOps`` on the emulated device: a whole Gaussian VAE step — forward, loss and every weight's gradient — as
/// the CPU backend's tape computes it.
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
        for op in [DeviceOps.Binary.add, .subtract, .multiply, .divide] {
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
            try expectClose(da, expected[0], "\(op)'s gradient for a")
            try expectClose(db, expected[1], "\(op)'s gradient for b")
        }
        #expect(DeviceOps.broadcastShape([3, 1, 4], [5, 1]) == [3, 5, 4])
        #expect(DeviceOps.broadcastShape([3, 2], [3]) == nil)
    }

    @Test func aGaussianVAEStepMatchesTheTape() throws {
        // Encoder 12 → 10 → (mean, log-variance) of 3; decoder 3 → 10 → 12 logits; Bernoulli likelihood; 8 rows.
        let (rows, features, hidden, latent) = (8, 12, 10, 3)
        let x = values([rows, features], seed: 4, in: 0...1).scalars.map { $0 < 0.5 ? Float(0) : 1 }
        let input = Tensor(shape: [rows, features], scalars: x)
        let epsilon = values([rows, latent], seed: 5, in: -1.5...1.5)
        let names = ["w1", "b1", "wm", "bm", "wv", "bv", "w2", "b2", "wo", "bo"]
        let shapes = [[hidden, features], [hidden], [latent, hidden], [latent], [latent, hidden], [latent],
                      [hidden, latent], [hidden], [features, hidden], [features]]
        let weights = zip(shapes, 10...).map { values($0.0, seed: UInt64($0.1)) }

        // The CPU backend: the step as a model writes it, on the tape.
        let tape = GradientTape()
        let (loss, expected) = tape.recording { () -> (Tensor, [Tensor]) in
            let w = weights.map { tape.watch($0) }
            let h = input.linear(weight: w[0], bias: w[1]).relu()
            let (mean, logVariance) = (h.linear(weight: w[2], bias: w[3]), h.linear(weight: w[4], bias: w[5]))
            let z = mean + (logVariance * 0.5).exp() * epsilon
            let logits = z.linear(weight: w[6], bias: w[7]).relu().linear(weight: w[8], bias: w[9])
            let reconstruction = logits.binaryCrossEntropySums(targets: input)
            let kl = ((logVariance.exp() + mean.squared() - logVariance - 1) * 0.5).sum(alongAxis: 1)
            let loss = (reconstruction + kl).mean()
            return (loss, tape.gradients(of: loss, withRespectTo: w))
        }

        // The same on the device, forward then backward by hand through DeviceOps.
        let w = try weights.map(upload)
        let (xs, eps) = (try upload(input), try upload(epsilon))
        let pre1 = try ops.linear(xs, weight: w[0], bias: w[1]), h = try ops.unary(.relu, pre1)
        let (mean, logVariance) = (try ops.linear(h, weight: w[2], bias: w[3]), try ops.linear(h, weight: w[4], bias: w[5]))
        let halfLogVariance = try ops.scaled(logVariance, by: 0.5)
        let std = try ops.unary(.exp, halfLogVariance)
        let noise = try ops.binary(.multiply, std, eps)
        let z = try ops.binary(.add, mean, noise)
        let pre2 = try ops.linear(z, weight: w[6], bias: w[7]), h2 = try ops.unary(.relu, pre2)
        let logits = try ops.linear(h2, weight: w[8], bias: w[9])
        let (reconstruction, sigmoids) = try ops.binaryCrossEntropySums(logits: logits, targets: xs)
        let variance = try ops.unary(.exp, logVariance), squaredMean = try ops.unary(.square, mean)
        let klTerms = try ops.scaled(try ops.shifted(try ops.binary(.subtract, try ops.binary(.add, variance, squaredMean), logVariance), by: -1), by: 0.5)
        let kl = try ops.sum(klTerms, alongAxis: 1)
        let perRow = try ops.binary(.add, reconstruction, kl)
        let total = try ops.scaled(try ops.sum(perRow), by: 1 / Float(rows))
        try expectClose(total, loss, "the loss")

        // Backward: each row's loss has weight 1/rows.
        let rowWeight = try ops.filled([rows], with: 1 / Float(rows))
        let dLogits = try ops.binaryCrossEntropySumsGradient(upstream: rowWeight, sigmoids: sigmoids, targets: xs)
        let out = try ops.linearGradients(upstream: dLogits, input: h2, weight: w[8])
        let dPre2 = try ops.unaryGradient(.relu, upstream: out.input, input: pre2, output: h2)
        let decoder = try ops.linearGradients(upstream: dPre2, input: z, weight: w[6])
        // z = mean + exp(lv/2)·ε; KL = ½(e^lv + m² − lv − 1) per element, weighted by 1/rows.
        let klWeight = try ops.filled([rows, latent], with: 1 / Float(rows))
        let dMean = try ops.binary(.add, decoder.input, try ops.binary(.multiply, klWeight, mean))
        let dStd = try ops.binary(.multiply, decoder.input, eps)
        let dHalfFromZ = try ops.unaryGradient(.exp, upstream: dStd, input: halfLogVariance, output: std)
        let dLogVarianceFromKL = try ops.scaled(try ops.binary(.multiply, klWeight, try ops.shifted(variance, by: -1)), by: 0.5)
        let dLogVariance = try ops.binary(.add, try ops.scaled(dHalfFromZ, by: 0.5), dLogVarianceFromKL)
        let meanHead = try ops.linearGradients(upstream: dMean, input: h, weight: w[2])
        let varianceHead = try ops.linearGradients(upstream: dLogVariance, input: h, weight: w[4])
        let dH = try ops.binary(.add, meanHead.input, varianceHead.input)
        let dPre1 = try ops.unaryGradient(.relu, upstream: dH, input: pre1, output: h)
        let encoder = try ops.linearGradients(upstream: dPre1, input: xs, weight: w[0])
        let gradients = [encoder.weight, encoder.bias, meanHead.weight, meanHead.bias, varianceHead.weight, varianceHead.bias,
                         decoder.weight, decoder.bias, out.weight, out.bias]
        for (name, (device, cpu)) in zip(names, zip(gradients, expected)) {
            try expectClose(device, cpu, "the gradient of \(name)")
        }
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
        let convolution = DeviceOps.Convolution(kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1)
        let w = try upload(weight)
        let forward = try ops.conv2d(try upload(x), weight: w, bias: try upload(bias), convolution)
        try expectClose(forward.output, output, "conv2d")
        let gradients = try ops.conv2dGradients(upstream: try upload(g), inputShape: x.shape, weight: w, columns: forward.columns, convolution)
        try expectClose(gradients.input, expected[0], "conv2d's input gradient")
        try expectClose(gradients.weight, expected[1], "conv2d's weight gradient")
        try expectClose(gradients.bias, expected[2], "conv2d's bias gradient")
    }
}
