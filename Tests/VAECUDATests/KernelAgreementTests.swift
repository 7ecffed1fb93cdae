import CKernels
import Foundation
import Testing
import VAECUDA
import VAETensor

/// Whether a C++ compiler is there to emulate the kernels (the Swift toolchain brings clang++).
let emulatorAvailable = ["clang++", "g++", "c++"].contains { name in
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
}

/// Each CUDA kernel, run on the CPU by ``KernelEmulator``, computes what the CPU backend computes: forward values
/// and gradients against VAETensor's ops and tape, Adam against CKernels, random numbers against `RandomStream`.
/// The emulation runs the kernels' exact code (grid-stride loops, 256-thread block reductions with barriers) with
/// the host's math library, so it checks their logic and indexing; on a GPU the transcendental functions differ by
/// a few ulps, which the device script's checks allow.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct KernelAgreementTests {
    let emulator: KernelEmulator
    init() throws { emulator = try KernelEmulator.shared.get() }

    func values(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -2...2) -> [Float] {
        var stream = RandomStream(seed: seed, name: "kernel-agreement")
        return stream.uniform(shape: [count], in: range).scalars
    }

    /// |a − b| ≤ tolerance · max(1, |b|) elementwise.
    func expectClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 2e-6, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        let worst = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): largest relative difference \(worst)", sourceLocation: sourceLocation)
    }

    /// The gradient of Σ(f(inputs) · upstream) with respect to each input, on VAETensor's tape.
    func gradients(_ inputs: [Tensor], upstream: Tensor, _ f: ([Tensor]) -> Tensor) -> [Tensor] {
        let tape = GradientTape()
        return tape.recording {
            let watched = inputs.map { tape.watch($0) }
            return tape.gradients(of: (f(watched) * upstream).sum(), withRespectTo: watched)
        }
    }

    @Test func unaryOpsAndGradients() throws {
        let n = 301
        let cases: [(String, String?, Float, ClosedRange<Float>, (Tensor) -> Tensor)] = [
            ("vae_negate", "vae_negate_gradient", 0, -2...2, { -$0 }),
            ("vae_exp", "vae_exp_gradient", 0, -3...3, { $0.exp() }),
            ("vae_log", "vae_log_gradient", 0, 0.1...3, { $0.log() }),
            ("vae_sqrt", "vae_sqrt_gradient", 0, 0.1...3, { $0.sqrt() }),
            ("vae_square", "vae_square_gradient", 0, -2...2, { $0.squared() }),
            ("vae_pow", "vae_pow_gradient", 2.5, 0.1...3, { $0.pow(2.5) }),
            ("vae_relu", "vae_relu_gradient", 0, -2...2, { $0.relu() }),
            ("vae_leaky_relu", "vae_leaky_relu_gradient", 0.2, -2...2, { $0.leakyRelu(slope: 0.2) }),
            ("vae_sigmoid_forward", "vae_sigmoid_gradient", 0, -6...6, { $0.sigmoid() }),
            ("vae_tanh", "vae_tanh_gradient", 0, -3...3, { $0.tanh() }),
            ("vae_softplus_forward", "vae_softplus_gradient", 0, -6...6, { $0.softplus() }),
            ("vae_add_scalar", nil, 1.5, -2...2, { $0 + 1.5 }),
            ("vae_multiply_scalar", "vae_scale_gradient", -0.7, -2...2, { $0 * -0.7 }),
            ("vae_subtract_from_scalar", "vae_negate_gradient", 2, -2...2, { 2 - $0 }),
        ]
        for (seed, (forward, backward, parameter, domain, op)) in cases.enumerated() {
            let x = values(n, seed: UInt64(seed), in: domain), g = values(n, seed: 100 + UInt64(seed))
            let (input, output, upstream, result) = (Buffer(x), Buffer(count: n), Buffer(g), Buffer(count: n))
            try emulator.launch(forward, [.int64(n), input.argument, output.argument, .float(parameter)])
            let tensor = Tensor(shape: [n], scalars: x)
            expectClose(output.values, op(tensor).scalars, forward)
            guard let backward else { continue }
            try emulator.launch(backward, [.int64(n), upstream.argument, input.argument, output.argument, result.argument, .float(parameter)])
            expectClose(result.values, gradients([tensor], upstream: Tensor(shape: [n], scalars: g)) { op($0[0]) }[0].scalars, backward)
        }
    }

    @Test func broadcastingArithmeticAndGradients() throws {
        // a [3, 1, 4] with b [1, 5, 4] → [3, 5, 4]; each input's strides in the output's coordinates.
        let (aValues, bValues, gValues) = (values(12, seed: 1), values(20, seed: 2, in: 0.5...2), values(60, seed: 3))
        let (a, b, g) = (Tensor(shape: [3, 1, 4], scalars: aValues), Tensor(shape: [1, 5, 4], scalars: bValues), Tensor(shape: [3, 5, 4], scalars: gValues))
        let shape = structBytes([[3, 5, 4], [4, 0, 1], [0, 4, 1]], then: [], rank: 3)
        let (aBuffer, bBuffer, gBuffer, out) = (Buffer(aValues), Buffer(bValues), Buffer(gValues), Buffer(count: 60))
        let ops: [(String, (Tensor, Tensor) -> Tensor)] = [("vae_add", { $0 + $1 }), ("vae_subtract", { $0 - $1 }),
                                                            ("vae_multiply", { $0 * $1 }), ("vae_divide", { $0 / $1 })]
        for (kernel, op) in ops {
            try emulator.launch(kernel, [.int64(60), .bytes(shape), aBuffer.argument, bBuffer.argument, out.argument])
            expectClose(out.values, op(a, b).scalars, kernel)
        }
        // a / b's gradients: g / b summed over b's broadcast axis for a; −g·a/b² summed over a's for b.
        let expected = gradients([a, b], upstream: g) { $0[0] / $0[1] }
        let perElement = Buffer(count: 60), aGradient = Buffer(count: 12), bGradient = Buffer(count: 20)
        try emulator.launch("vae_divide", [.int64(60), .bytes(structBytes([[3, 5, 4], [20, 4, 1], [0, 4, 1]], then: [], rank: 3)),
                                           gBuffer.argument, bBuffer.argument, perElement.argument])
        try emulator.launch("vae_sum_axis", [.int64(3), .int64(5), .int64(4), perElement.argument, aGradient.argument])
        expectClose(aGradient.values, expected[0].scalars, "a / b, gradient for a")
        try emulator.launch("vae_divide_denominator_gradient", [.int64(60), .bytes(shape), gBuffer.argument, aBuffer.argument,
                                                                bBuffer.argument, perElement.argument])
        try emulator.launch("vae_sum_axis", [.int64(1), .int64(3), .int64(20), perElement.argument, bGradient.argument])
        expectClose(bGradient.values, expected[1].scalars, "a / b, gradient for b")
    }

    @Test func reductionsAndGradients() throws {
        let xValues = values(84, seed: 4), gValues = values(12, seed: 5)
        let x = Tensor(shape: [4, 7, 3], scalars: xValues), g = Tensor(shape: [4, 3], scalars: gValues)
        let (input, upstream, output, result) = (Buffer(xValues), Buffer(gValues), Buffer(count: 12), Buffer(count: 84))
        let axis: [KernelEmulator.Argument] = [.int64(4), .int64(7), .int64(3)]
        try emulator.launch("vae_sum_axis", axis + [input.argument, output.argument])
        expectClose(output.values, x.sum(alongAxis: 1).scalars, "sum along an axis")

        let winners = Buffer(integers: [Int](repeating: -1, count: 12))
        try emulator.launch("vae_max_axis", axis + [input.argument, output.argument, winners.argument])
        expectClose(output.values, x.max(alongAxis: 1).scalars, tolerance: 0, "max")
        try emulator.launch("vae_fill", [.int64(84), result.argument, .float(0)])
        try emulator.launch("vae_max_axis_gradient", axis + [upstream.argument, winners.argument, result.argument])
        expectClose(result.values, gradients([x], upstream: g) { $0[0].max(alongAxis: 1) }[0].scalars, tolerance: 0, "max's gradient")

        try emulator.launch("vae_log_sum_exp_axis", axis + [input.argument, output.argument])
        expectClose(output.values, x.logSumExp(alongAxis: 1).scalars, tolerance: 1e-5, "log Σ exp")
        try emulator.launch("vae_softmax_axis_gradient", axis + [upstream.argument, input.argument, output.argument, result.argument])
        expectClose(result.values, gradients([x], upstream: g) { $0[0].logSumExp(alongAxis: 1) }[0].scalars, tolerance: 1e-5, "log Σ exp's gradient")

        // A whole-array sum in two passes: 4 blocks' partial sums, then one block over them.
        let many = values(5000, seed: 6), partial = Buffer(count: 4), total = Buffer(count: 1)
        try emulator.launch("vae_sum_all", grid: 4, block: 256, [.int64(5000), Buffer(many).argument, partial.argument])
        try emulator.launch("vae_sum_all", grid: 1, block: 256, [.int64(4), partial.argument, total.argument])
        expectClose(total.values, Tensor(shape: [5000], scalars: many).sum().scalars, tolerance: 1e-5, "sum of all")
    }

    @Test func crossEntropiesAndGradients() throws {
        let (rows, width) = (5, 37)
        let logits = values(rows * width, seed: 7, in: -5...5)
        let targets = values(rows * width, seed: 8, in: 0...1).map { $0 < 0.5 ? Float(0) : 1 }
        let g = values(rows, seed: 9)
        let (x, t) = (Tensor(shape: [rows, width], scalars: logits), Tensor(shape: [rows, width], scalars: targets))
        let (logitBuffer, targetBuffer, sums, sigmoids, dx) = (Buffer(logits), Buffer(targets), Buffer(count: rows), Buffer(count: rows * width), Buffer(count: rows * width))
        try emulator.launch("vae_cross_entropy_row_sums", grid: 2, block: 256,
                            [.int64(rows), .int64(width), logitBuffer.argument, targetBuffer.argument, sums.argument, sigmoids.argument])
        expectClose(sums.values, x.binaryCrossEntropySums(targets: t).scalars, tolerance: 1e-5, "binary cross-entropy row sums")
        expectClose(sigmoids.values, x.sigmoid().scalars, "the kept sigmoids")
        try emulator.launch("vae_cross_entropy_gradient", [.int64(rows * width), .int64(width), .int32(1), Buffer(g).argument,
                                                           sigmoids.argument, targetBuffer.argument, dx.argument])
        let upstream = Tensor(shape: [rows], scalars: g)
        expectClose(dx.values, gradients([x], upstream: upstream) { $0[0].binaryCrossEntropySums(targets: t) }[0].scalars,
                    "binary cross-entropy's gradient")
        let elementwise = Buffer(count: rows * width)
        try emulator.launch("vae_cross_entropy", [.int64(rows * width), logitBuffer.argument, targetBuffer.argument, elementwise.argument])
        expectClose(elementwise.values, x.binaryCrossEntropy(targets: t).scalars, tolerance: 1e-5, "elementwise binary cross-entropy")

        // Softmax cross-entropy with a padding row (label −1).
        let labels = [3, 0, -1, 36, 17]
        let (losses, softmax) = (Buffer(count: rows), Buffer(count: rows * width))
        let labelBuffer = Buffer(integers: labels)
        try emulator.launch("vae_softmax_cross_entropy", [.int64(rows), .int64(width), logitBuffer.argument, labelBuffer.argument,
                                                          losses.argument, softmax.argument])
        expectClose(losses.values, x.softmaxCrossEntropy(targets: labels).scalars, tolerance: 1e-5, "softmax cross-entropy")
        try emulator.launch("vae_softmax_cross_entropy_gradient", [.int64(rows), .int64(width), Buffer(g).argument, softmax.argument,
                                                                   labelBuffer.argument, dx.argument])
        expectClose(dx.values, gradients([x], upstream: upstream) { $0[0].softmaxCrossEntropy(targets: labels) }[0].scalars,
                    tolerance: 1e-5, "softmax cross-entropy's gradient")
    }

    @Test func convolutionThroughIm2colAndCol2im() throws {
        // x [2, 3, 7, 7], weight [4, 3, 3, 3], stride 2, padding 1 → [2, 4, 4, 4]; the GEMMs (cuBLAS on a GPU) on BLAS here.
        let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        let (xValues, wValues, bValues, gValues) = (values(294, seed: 10), values(108, seed: 11), values(4, seed: 12), values(128, seed: 13))
        let (x, w, bias, g) = (Tensor(shape: [2, 3, 7, 7], scalars: xValues), Tensor(shape: [4, 3, 3, 3], scalars: wValues),
                               Tensor(shape: [4], scalars: bValues), Tensor(shape: [2, 4, 4, 4], scalars: gValues))
        let geometryArguments: [KernelEmulator.Argument] = [.int64(2), .int64(3), .int64(7), .int64(7), .int64(3), .int64(3),
                                                            .int64(2), .int64(1), .int64(4), .int64(4)]
        let columns = Buffer(count: 27 * 32)
        try emulator.launch("vae_im2col", geometryArguments + [Buffer(xValues).argument, columns.argument])
        // [4, 27] × [27, 32] → [4, 2·16] → [2, 4, 16], then the bias per channel.
        let product = w.reshaped([4, 27]).matmul(Tensor(shape: [27, 32], scalars: columns.values))
        let output = Buffer(product.reshaped([4, 2, 16]).transposed([1, 0, 2]).scalars)
        try emulator.launch("vae_add_channel_bias", [.int64(2), .int64(4), .int64(16), Buffer(bValues).argument, output.argument])
        expectClose(output.values, x.conv2d(weight: w, bias: bias, geometry: geometry).scalars, tolerance: 1e-5, "convolution")

        let expected = gradients([x, w, bias], upstream: g) { $0[0].conv2d(weight: $0[1], bias: $0[2], geometry: geometry) }
        let upstream = g.reshaped([2, 4, 16]).transposed([1, 0, 2]).reshaped([4, 32])
        let inputColumns = Buffer(w.reshaped([4, 27]).matmul(upstream, transposingSelf: true).scalars)
        let dx = Buffer(count: 294)
        try emulator.launch("vae_col2im", geometryArguments + [inputColumns.argument, .pointer(nil), dx.argument])
        expectClose(dx.values, expected[0].scalars, tolerance: 1e-5, "convolution's input gradient")
        let dw = upstream.matmul(Tensor(shape: [27, 32], scalars: columns.values), transposingOther: true)
        expectClose(dw.scalars, expected[1].scalars, tolerance: 1e-5, "convolution's weight gradient (from im2col's columns)")
        let dbias = Buffer(count: 4)
        try emulator.launch("vae_channel_sums", [.int64(2), .int64(4), .int64(16), Buffer(gValues).argument, dbias.argument])
        expectClose(dbias.values, expected[2].scalars, tolerance: 1e-5, "bias gradient")
    }

    @Test func batchNormalisationAndGradients() throws {
        let (xValues, gValues) = (values(72, seed: 14), values(72, seed: 15))
        let (gamma, beta) = ([Float(1.2), -0.4, 0.7], [Float(0.1), 0.3, -0.2])
        let x = Tensor(shape: [6, 3, 2, 2], scalars: xValues)
        let (weight, bias) = (Tensor(shape: [3], scalars: gamma), Tensor(shape: [3], scalars: beta))
        let reference = x.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5, activationSlope: 0.2)
        let (input, y, mean, variance) = (Buffer(xValues), Buffer(count: 72), Buffer(count: 3), Buffer(count: 3))
        try emulator.launch("vae_batch_norm_forward", grid: 2, block: 256,
                            [.int64(6), .int64(3), .int64(4), input.argument, Buffer(gamma).argument, Buffer(beta).argument,
                             .float(1e-5), .float(0.2), y.argument, mean.argument, variance.argument])
        expectClose(y.values, reference.output.scalars, tolerance: 1e-5, "batch norm")
        expectClose(mean.values, reference.mean, tolerance: 1e-6, "batch mean")
        expectClose(variance.values, reference.variance, tolerance: 1e-6, "batch variance")

        let expected = gradients([x, weight, bias], upstream: Tensor(shape: [6, 3, 2, 2], scalars: gValues)) {
            $0[0].batchNormalized(weight: $0[1], bias: $0[2], epsilon: 1e-5, activationSlope: 0.2).output
        }
        let (dx, dgamma, dbeta) = (Buffer(count: 72), Buffer(count: 3), Buffer(count: 3))
        try emulator.launch("vae_batch_norm_backward", grid: 2, block: 256,
                            [.int64(6), .int64(3), .int64(4), Buffer(gValues).argument, input.argument, y.argument,
                             Buffer(gamma).argument, mean.argument, variance.argument, .float(1e-5), .float(0.2),
                             dx.argument, dgamma.argument, dbeta.argument])
        expectClose(dx.values, expected[0].scalars, tolerance: 1e-5, "batch norm's input gradient")
        expectClose(dgamma.values, expected[1].scalars, tolerance: 1e-5, "batch norm's γ gradient")
        expectClose(dbeta.values, expected[2].scalars, tolerance: 1e-5, "batch norm's β gradient")
    }

    @Test func layoutCopiesGathersAndUpsampling() throws {
        // transposed([2, 0, 1]) of [3, 4, 5]: output axis i reads input axis order[i].
        let xValues = values(60, seed: 16)
        let x = Tensor(shape: [3, 4, 5], scalars: xValues)
        let out = Buffer(count: 60)
        try emulator.launch("vae_strided_copy", [.int64(60), .bytes(structBytes([[5, 3, 4], [1, 20, 5]], then: [0], rank: 3)),
                                                 Buffer(xValues).argument, out.argument])
        expectClose(out.values, x.transposed([2, 0, 1]).scalars, tolerance: 0, "transpose")

        // slice(1..<4, alongAxis: 1) of [5, 6], and its gradient (zeros elsewhere).
        let m = Tensor(shape: [5, 6], scalars: Array(xValues.prefix(30)))
        let layout = structBytes([[5, 3], [6, 1]], then: [1], rank: 2)
        let sliced = Buffer(count: 15)
        try emulator.launch("vae_strided_copy", [.int64(15), .bytes(layout), Buffer(m.scalars).argument, sliced.argument])
        expectClose(sliced.values, m.slice(1..<4, alongAxis: 1).scalars, tolerance: 0, "slice")
        let g = values(15, seed: 17), dm = Buffer(count: 30)
        try emulator.launch("vae_fill", [.int64(30), dm.argument, .float(0)])
        try emulator.launch("vae_strided_scatter", [.int64(15), .bytes(layout), Buffer(g).argument, dm.argument])
        expectClose(dm.values, gradients([m], upstream: Tensor(shape: [5, 3], scalars: g)) { $0[0].slice(1..<4, alongAxis: 1) }[0].scalars,
                    tolerance: 0, "slice's gradient")

        // concatenate([a [3, 2], b [3, 5]], alongAxis: 1): two block copies.
        let (a, b) = (Tensor(shape: [3, 2], scalars: Array(xValues.prefix(6))), Tensor(shape: [3, 5], scalars: Array(xValues.suffix(15))))
        let joined = Buffer(count: 21)
        try emulator.launch("vae_copy_block", [.int64(3), .int64(2), Buffer(a.scalars).argument, .int64(2), .int64(0), joined.argument, .int64(7), .int64(0)])
        try emulator.launch("vae_copy_block", [.int64(3), .int64(5), Buffer(b.scalars).argument, .int64(5), .int64(0), joined.argument, .int64(7), .int64(2)])
        expectClose(joined.values, Tensor.concatenate([a, b], alongAxis: 1).scalars, tolerance: 0, "concatenate")

        // gathering([4, 0, 4, 2], alongAxis: 1) of [2, 5, 3] (a repeated index: its gradient sums).
        let source = Tensor(shape: [2, 5, 3], scalars: Array(xValues.prefix(30)))
        let indices = [4, 0, 4, 2], indexBuffer = Buffer(integers: [4, 0, 4, 2])
        let gathered = Buffer(count: 24)
        try emulator.launch("vae_gather", [.int64(2), .int64(5), .int64(3), .int64(4), indexBuffer.argument, Buffer(source.scalars).argument, gathered.argument])
        expectClose(gathered.values, source.gathering(indices, alongAxis: 1).scalars, tolerance: 0, "gather")
        let gg = values(24, seed: 18), dsource = Buffer(count: 30)
        try emulator.launch("vae_gather_gradient", [.int64(2), .int64(5), .int64(3), .int64(4), indexBuffer.argument, Buffer(gg).argument, dsource.argument])
        expectClose(dsource.values, gradients([source], upstream: Tensor(shape: [2, 4, 3], scalars: gg)) { $0[0].gathering(indices, alongAxis: 1) }[0].scalars,
                    "gather's gradient")

        // upsampledNearest(factor: 2) of [2, 3, 2, 5].
        let image = Tensor(shape: [2, 3, 2, 5], scalars: xValues)
        let up = Buffer(count: 240), gu = values(240, seed: 19), dimage = Buffer(count: 60)
        try emulator.launch("vae_upsample_nearest", [.int64(6), .int64(2), .int64(5), .int64(2), Buffer(xValues).argument, up.argument])
        expectClose(up.values, image.upsampledNearest(factor: 2).scalars, tolerance: 0, "nearest upsampling")
        try emulator.launch("vae_upsample_nearest_gradient", [.int64(6), .int64(2), .int64(5), .int64(2), Buffer(gu).argument, dimage.argument])
        expectClose(dimage.values, gradients([image], upstream: Tensor(shape: [2, 3, 4, 10], scalars: gu)) { $0[0].upsampledNearest(factor: 2) }[0].scalars,
                    "nearest upsampling's gradient")
    }

    @Test func adamMatchesCKernelsBitForBit() throws {
        let n = 257
        let (weights, gradient, addend) = (values(n, seed: 20), values(n, seed: 21), values(n, seed: 22))
        let (first, second) = (values(n, seed: 23, in: -0.1...0.1), values(n, seed: 24, in: 0...0.01))
        var (w, m, v) = (weights, first, second)
        vae_adam_update(n, &w, gradient, addend, &m, &v, 0.9, 0.999, 1e-8, 1e-3, 0.3, 0.01, 0.9999)
        let (wBuffer, mBuffer, vBuffer) = (Buffer(weights), Buffer(first), Buffer(second))
        try emulator.launch("vae_adam_update", [.int64(n), wBuffer.argument, Buffer(gradient).argument, Buffer(addend).argument,
                                                mBuffer.argument, vBuffer.argument, .float(0.9), .float(0.999), .float(1e-8),
                                                .float(1e-3), .float(0.3), .float(0.01), .float(0.9999)])
        #expect(wBuffer.values == w && mBuffer.values == m && vBuffer.values == v)
    }

    @Test func randomNumbersAreTheStreamsOwn() throws {
        // Values 5..<108 of draws starting at block 7 of the stream "noise" of seed 42.
        var stream = RandomStream(seed: 42, name: "noise")
        let skip = stream.uniform(count: 28)   // 7 blocks of 4
        #expect(skip.count == 28 && stream.counter == 7)
        var (uniformStream, normalStream) = (stream, stream)
        let (uniform, normal) = (Array(uniformStream.uniform(count: 108)[5...]), Array(normalStream.normal(count: 108)[5...]))
        let out = Buffer(count: 103)
        for (flag, expected) in [(Int32(0), uniform), (1, normal)] {
            try emulator.launch("vae_random", [.int64(103), .int64(5), .uint64(7), .uint64(42), .uint64(stream.streamIdentifier), .int32(flag), out.argument])
            if flag == 0 {
                #expect(out.values == expected, "uniform values are the CPU's bit for bit")
            } else {
                expectClose(out.values, expected, tolerance: 4e-6, "normal values")
            }
        }
    }
}
