import CKernels
import Foundation
import VAECUDA
import VAETensor

/// One comparison of a kernel (or cuBLAS) on a `KernelDevice` with the CPU backend.
public struct KernelCheck: Sendable, Encodable {
    /// What was compared ("vae_exp", "vae_exp_gradient", "cublasSgemm" …).
    public var name: String
    /// The largest |device − CPU| / max(1, |CPU|) over the values.
    public var worst: Float
    /// The largest difference allowed.
    public var tolerance: Float
    public var passed: Bool { worst <= tolerance && worst.isFinite }

    public init(name: String, worst: Float, tolerance: Float) {
        (self.name, self.worst, self.tolerance) = (name, worst, tolerance)
    }

    enum CodingKeys: String, CodingKey { case name, worst, tolerance, passed }

    /// `worst` is null when it is not finite (a NaN, or a count mismatch), which JSON cannot hold.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        if worst.isFinite { try container.encode(worst, forKey: .worst) } else { try container.encodeNil(forKey: .worst) }
        try container.encode(tolerance, forKey: .tolerance)
        try container.encode(passed, forKey: .passed)
    }
}

/// The CPU backend's results against a device's: every kernel of `CUDAKernelSource` forward and backward against
/// VAETensor's ops and tape (GEMMs through the device's `gemm`
/// against BLAS), Adam against CKernels, random numbers against `RandomStream`. Tolerances are relative (to
/// max(1, |CPU value|)): 2·10⁻⁶ for elementwise ops (a GPU's expf, logf, tanhf, powf differ from glibc's by a few
/// ulps), 10⁻⁵ where values are summed in another order (reductions, losses, GEMMs, batch norm), 4·10⁻⁶ for normal
/// draws (Box–Muller through logf, sinf, cosf), 0 for what involves no arithmetic (copies, gathers, max) and for
/// uniform draws and Adam (the same operations in the same order).
/// `vae devices --check` runs them on a GPU; the tests run them on the CPU through an emulator.
public struct KernelChecks {
    public let device: KernelDevice
    public private(set) var results: [KernelCheck] = []
    var allocations: [DeviceAddress] = []

    public init(device: KernelDevice) { self.device = device }

    /// Runs every check; the results in order.
    public static func run(on device: KernelDevice) throws -> [KernelCheck] {
        var checks = KernelChecks(device: device)
        defer { checks.allocations.forEach(device.free) }
        try checks.unaryOps()
        try checks.broadcasting()
        try checks.reductions()
        try checks.crossEntropies()
        try checks.convolution()
        try checks.fusedActivations()
        try checks.batchNormalisation()
        try checks.gaussianTerms()
        try checks.recurrentCells()
        try checks.layout()
        try checks.ordering()
        try checks.optimisers()
        try checks.randomNumbers()
        return checks.results
    }

    // MARK: helpers

    func values(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -2...2) -> [Float] {
        var stream = RandomStream(seed: seed, name: "kernel-checks")
        return stream.uniform(shape: [count], in: range).scalars
    }

    mutating func buffer(_ values: [Float]) throws -> KernelArgument {
        let address = try device.upload(values)
        allocations.append(address)
        return .address(address)
    }

    mutating func buffer(count: Int) throws -> KernelArgument { try buffer([Float](repeating: .nan, count: count)) }

    mutating func buffer(integers: [Int]) throws -> KernelArgument {
        let address = try device.upload(integers: integers)
        allocations.append(address)
        return .address(address)
    }

    func read(_ argument: KernelArgument, _ count: Int) throws -> [Float] {
        guard case .address(let address) = argument else { return [] }
        return try device.download(address, count: count)
    }

    /// The device addresses of buffers, for the kernels that take a VaeBuffers struct.
    func addresses(_ arguments: KernelArgument...) -> [Int] {
        arguments.map { argument in
            guard case .address(let address) = argument else { return 0 }
            return Int(bitPattern: UInt(address.rawValue))
        }
    }

    mutating func record(_ name: String, _ actual: [Float], _ expected: [Float], tolerance: Float) {
        var worst = actual.count == expected.count ? Float(0) : .infinity
        for (a, b) in zip(actual, expected) {
            let difference = abs(a - b) / max(1, abs(b))
            worst = difference.isNaN ? .infinity : max(worst, difference)
        }
        results.append(KernelCheck(name: name, worst: worst, tolerance: tolerance))
    }

    /// The gradient of Σ(f(inputs) · upstream) with respect to each input, on VAETensor's tape.
    func gradients(_ inputs: [Tensor], upstream: Tensor, _ f: ([Tensor]) -> Tensor) -> [Tensor] {
        let tape = GradientTape()
        return tape.recording {
            let watched = inputs.map { tape.watch($0) }
            return tape.gradients(of: (f(watched) * upstream).sum(), withRespectTo: watched)
        }
    }

    // MARK: checks

    mutating func unaryOps() throws {
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
            ("vae_subtract_from_scalar", nil, 2, -2...2, { 2 - $0 }),
        ]
        for (seed, (forward, backward, parameter, domain, op)) in cases.enumerated() {
            let x = values(n, seed: UInt64(seed), in: domain), g = values(n, seed: 100 + UInt64(seed))
            let (input, output, upstream, result) = (try buffer(x), try buffer(count: n), try buffer(g), try buffer(count: n))
            try device.launch(forward, grid: 2, block: 64, [.int64(n), input, output, .float(parameter)])
            let tensor = Tensor(shape: [n], scalars: x)
            record(forward, try read(output, n), op(tensor).scalars, tolerance: 2e-6)
            guard let backward else { continue }
            try device.launch(backward, grid: 2, block: 64, [.int64(n), upstream, input, output, result, .float(parameter)])
            record(backward, try read(result, n), gradients([tensor], upstream: Tensor(shape: [n], scalars: g)) { op($0[0]) }[0].scalars,
                   tolerance: 2e-6)
        }
        let filled = try buffer(count: 37)
        try device.launch("vae_fill", grid: 1, block: 32, [.int64(37), filled, .float(0.25)])
        record("vae_fill", try read(filled, 37), [Float](repeating: 0.25, count: 37), tolerance: 0)
        let (a, b) = (values(37, seed: 40), values(37, seed: 41))
        let sum = try buffer(a)
        try device.launch("vae_add_in_place", grid: 1, block: 32, [.int64(37), sum, try buffer(b)])
        record("vae_add_in_place", try read(sum, 37), zip(a, b).map(+), tolerance: 0)
    }

    mutating func broadcasting() throws {
        // a [3, 1, 4] with b [1, 5, 4] → [3, 5, 4]; each input's strides in the output's coordinates.
        let (aValues, bValues, gValues) = (values(12, seed: 1), values(20, seed: 2, in: 0.5...2), values(60, seed: 3))
        let (a, b, g) = (Tensor(shape: [3, 1, 4], scalars: aValues), Tensor(shape: [1, 5, 4], scalars: bValues), Tensor(shape: [3, 5, 4], scalars: gValues))
        let shape = KernelArgument.packed([[3, 5, 4], [4, 0, 1], [0, 4, 1]], rank: 3)
        let (aBuffer, bBuffer, gBuffer, out) = (try buffer(aValues), try buffer(bValues), try buffer(gValues), try buffer(count: 60))
        let ops: [(String, (Tensor, Tensor) -> Tensor)] = [("vae_add", { $0 + $1 }), ("vae_subtract", { $0 - $1 }),
                                                            ("vae_multiply", { $0 * $1 }), ("vae_divide", { $0 / $1 })]
        for (kernel, op) in ops {
            try device.launch(kernel, grid: 2, block: 32, [.int64(60), shape, aBuffer, bBuffer, out])
            record(kernel, try read(out, 60), op(a, b).scalars, tolerance: 2e-6)
        }
        // a / b's gradients: g / b summed over b's broadcast axis for a; −g·a/b² summed over a's for b.
        let expected = gradients([a, b], upstream: g) { $0[0] / $0[1] }
        let (perElement, aGradient, bGradient) = (try buffer(count: 60), try buffer(count: 12), try buffer(count: 20))
        try device.launch("vae_divide", grid: 2, block: 32, [.int64(60), .packed([[3, 5, 4], [20, 4, 1], [0, 4, 1]], rank: 3),
                                                             gBuffer, bBuffer, perElement])
        try device.launch("vae_sum_axis", grid: 1, block: 32, [.int64(3), .int64(5), .int64(4), perElement, aGradient])
        record("vae_sum_axis (a / b's gradient for a)", try read(aGradient, 12), expected[0].scalars, tolerance: 1e-5)
        try device.launch("vae_divide_denominator_gradient", grid: 2, block: 32, [.int64(60), shape, gBuffer, aBuffer, bBuffer, perElement])
        try device.launch("vae_sum_axis", grid: 1, block: 32, [.int64(1), .int64(3), .int64(20), perElement, bGradient])
        record("vae_divide_denominator_gradient", try read(bGradient, 20), expected[1].scalars, tolerance: 1e-5)
    }

    mutating func reductions() throws {
        let xValues = values(84, seed: 4), gValues = values(12, seed: 5)
        let x = Tensor(shape: [4, 7, 3], scalars: xValues), g = Tensor(shape: [4, 3], scalars: gValues)
        let (input, upstream, output, result) = (try buffer(xValues), try buffer(gValues), try buffer(count: 12), try buffer(count: 84))
        let axis: [KernelArgument] = [.int64(4), .int64(7), .int64(3)]
        try device.launch("vae_sum_axis", grid: 1, block: 32, axis + [input, output])
        record("vae_sum_axis", try read(output, 12), x.sum(alongAxis: 1).scalars, tolerance: 1e-5)

        let winners = try buffer(integers: [Int](repeating: -1, count: 12))
        try device.launch("vae_max_axis", grid: 1, block: 32, axis + [input, output, winners])
        record("vae_max_axis", try read(output, 12), x.max(alongAxis: 1).scalars, tolerance: 0)
        try device.launch("vae_fill", grid: 1, block: 32, [.int64(84), result, .float(0)])
        try device.launch("vae_max_axis_gradient", grid: 1, block: 32, axis + [upstream, winners, result])
        record("vae_max_axis_gradient", try read(result, 84), gradients([x], upstream: g) { $0[0].max(alongAxis: 1) }[0].scalars, tolerance: 0)

        try device.launch("vae_log_sum_exp_axis", grid: 1, block: 32, axis + [input, output])
        record("vae_log_sum_exp_axis", try read(output, 12), x.logSumExp(alongAxis: 1).scalars, tolerance: 1e-5)
        try device.launch("vae_softmax_axis_gradient", grid: 2, block: 32, axis + [upstream, input, output, result])
        record("vae_softmax_axis_gradient", try read(result, 84), gradients([x], upstream: g) { $0[0].logSumExp(alongAxis: 1) }[0].scalars,
               tolerance: 1e-5)

        // A whole-array sum in two passes: 4 blocks' partial sums, then one block over them.
        let many = values(5000, seed: 6)
        let (partial, total) = (try buffer(count: 4), try buffer(count: 1))
        try device.launch("vae_sum_all", grid: 4, block: CUDAKernelSource.reductionThreads, [.int64(5000), try buffer(many), partial])
        try device.launch("vae_sum_all", grid: 1, block: CUDAKernelSource.reductionThreads, [.int64(4), partial, total])
        record("vae_sum_all", try read(total, 1), Tensor(shape: [5000], scalars: many).sum().scalars, tolerance: 1e-5)
        try device.launch("vae_sum_all", grid: 1, block: CUDAKernelSource.reductionThreads, [.int64(5000), try buffer(many), total])
        record("vae_sum_all (one block)", try read(total, 1), Tensor(shape: [5000], scalars: many).sum().scalars, tolerance: 1e-5)
    }

    mutating func crossEntropies() throws {
        let (rows, width) = (5, 37)
        let logits = values(rows * width, seed: 7, in: -5...5)
        let targets = values(rows * width, seed: 8, in: 0...1).map { $0 < 0.5 ? Float(0) : 1 }
        let g = values(rows, seed: 9)
        let (x, t, upstream) = (Tensor(shape: [rows, width], scalars: logits), Tensor(shape: [rows, width], scalars: targets), Tensor(shape: [rows], scalars: g))
        let (logitBuffer, targetBuffer, gBuffer) = (try buffer(logits), try buffer(targets), try buffer(g))
        let (sums, sigmoids, dx) = (try buffer(count: rows), try buffer(count: rows * width), try buffer(count: rows * width))
        try device.launch("vae_cross_entropy_row_sums", grid: 2, block: CUDAKernelSource.reductionThreads, [.int64(rows), .int64(width), logitBuffer, targetBuffer, sums, sigmoids])
        record("vae_cross_entropy_row_sums", try read(sums, rows), x.binaryCrossEntropySums(targets: t).scalars, tolerance: 1e-5)
        record("vae_cross_entropy_row_sums (sigmoids)", try read(sigmoids, rows * width), x.sigmoid().scalars, tolerance: 2e-6)
        try device.launch("vae_cross_entropy_gradient", grid: 2, block: 64, [.int64(rows * width), .int64(width), .int32(1), gBuffer, sigmoids, targetBuffer, dx])
        record("vae_cross_entropy_gradient", try read(dx, rows * width),
               gradients([x], upstream: upstream) { $0[0].binaryCrossEntropySums(targets: t) }[0].scalars, tolerance: 2e-6)
        // The Gaussian log-density with a fixed variance (log σ² = −1.3), and its negation.
        let means = values(rows * width, seed: 10, in: -2...2)
        let (m, logVariance, meanBuffer) = (Tensor(shape: [rows, width], scalars: means), Float(-1.3), try buffer(means))
        let scale = (-Tensor(logVariance)).exp().scalar
        for (factor, negated) in [(Float(-0.5), false), (0.5, true)] {
            let (density, dm) = (try buffer(count: rows), try buffer(count: rows * width))
            try device.launch("vae_gaussian_row_log_density", grid: 2, block: CUDAKernelSource.reductionThreads,
                              [.int64(rows), .int64(width), logitBuffer, meanBuffer, .float(scale), .float(logVariance),
                               .address(.null), .float(Float(Foundation.log(2 * Double.pi))), .float(factor), density])
            let cpu = { (inputs: [Tensor]) in Tensor.gaussianLogDensity(x, mean: inputs[0], logVariance: Tensor(logVariance), negated: negated) }
            record("vae_gaussian_row_log_density\(negated ? " (negated)" : "")", try read(density, rows), cpu([m]).scalars, tolerance: 1e-5)
            try device.launch("vae_gaussian_row_log_density_gradient", grid: 2, block: 64,
                              [.int64(rows * width), .int64(width), gBuffer, logitBuffer, meanBuffer, .float(-2 * factor * scale), dm])
            record("vae_gaussian_row_log_density_gradient\(negated ? " (negated)" : "")", try read(dm, rows * width),
                   gradients([m], upstream: upstream, cpu)[0].scalars, tolerance: 1e-5)
        }
        let elementwise = try buffer(count: rows * width)
        try device.launch("vae_cross_entropy", grid: 2, block: 64, [.int64(rows * width), logitBuffer, targetBuffer, elementwise])
        record("vae_cross_entropy", try read(elementwise, rows * width), x.binaryCrossEntropy(targets: t).scalars, tolerance: 1e-5)

        // Softmax cross-entropy with a padding row (label −1).
        let labels = [3, 0, -1, 36, 17]
        let (losses, softmax, labelBuffer) = (try buffer(count: rows), try buffer(count: rows * width), try buffer(integers: labels))
        try device.launch("vae_softmax_cross_entropy", grid: 2, block: CUDAKernelSource.reductionThreads, [.int64(rows), .int64(width), logitBuffer, labelBuffer, losses, softmax])
        record("vae_softmax_cross_entropy", try read(losses, rows), x.softmaxCrossEntropy(targets: labels).scalars, tolerance: 1e-5)
        try device.launch("vae_softmax_cross_entropy_gradient", grid: 2, block: 64, [.int64(rows), .int64(width), gBuffer, softmax, labelBuffer, dx])
        record("vae_softmax_cross_entropy_gradient", try read(dx, rows * width),
               gradients([x], upstream: upstream) { $0[0].softmaxCrossEntropy(targets: labels) }[0].scalars, tolerance: 1e-5)

        // A vocabulary wider than a block, and more rows than blocks.
        let (wideRows, vocabulary, wideLabels) = (3, 700, [699, -1, 5])
        let wideLogits = values(wideRows * vocabulary, seed: 14, in: -8...8)
        let (wideLosses, wideSoftmax) = (try buffer(count: wideRows), try buffer(count: wideRows * vocabulary))
        try device.launch("vae_softmax_cross_entropy", grid: 2, block: CUDAKernelSource.reductionThreads,
                          [.int64(wideRows), .int64(vocabulary), try buffer(wideLogits), try buffer(integers: wideLabels), wideLosses, wideSoftmax])
        let wide = Tensor(shape: [wideRows, vocabulary], scalars: wideLogits)
        record("vae_softmax_cross_entropy (700 classes)", try read(wideLosses, wideRows), wide.softmaxCrossEntropy(targets: wideLabels).scalars,
               tolerance: 1e-5)
        let expectedSoftmax = zip(wideLabels, (0..<wideRows).map { wide.slice($0..<$0 + 1, alongAxis: 0) }).flatMap { label, row in
            label < 0 ? [Float](repeating: 0, count: vocabulary) : (row - row.logSumExp(alongAxis: 1, keepingDimension: true)).exp().scalars
        }
        record("vae_softmax_cross_entropy (700 classes, softmax)", try read(wideSoftmax, wideRows * vocabulary), expectedSoftmax, tolerance: 1e-5)
    }

    mutating func convolution() throws {
        // x [2, 3, 7, 7], weight [4, 3, 3, 3], stride 2, padding 1 → [2, 4, 4, 4], through the device's GEMM.
        let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        let (xValues, wValues, bValues, gValues) = (values(294, seed: 10), values(108, seed: 11), values(4, seed: 12), values(128, seed: 13))
        let (x, w, bias, g) = (Tensor(shape: [2, 3, 7, 7], scalars: xValues), Tensor(shape: [4, 3, 3, 3], scalars: wValues),
                               Tensor(shape: [4], scalars: bValues), Tensor(shape: [2, 4, 4, 4], scalars: gValues))
        let shape: [KernelArgument] = [.int64(2), .int64(3), .int64(7), .int64(7), .int64(3), .int64(3), .int64(2), .int64(1), .int64(4), .int64(4)]
        let (input, weight, columns, product) = (try buffer(xValues), try buffer(wValues), try buffer(count: 27 * 32), try buffer(count: 4 * 32))
        try device.launch("vae_im2col", grid: 4, block: 64, shape + [input, columns])
        guard case .address(let w0) = weight, case .address(let c0) = columns, case .address(let p0) = product else { return }
        try device.gemm(m: 4, n: 32, k: 27, a: w0, transposingA: false, b: c0, transposingB: false, c: p0)
        let expectedProduct = w.reshaped([4, 27]).matmul(Tensor(shape: [27, 32], scalars: try read(columns, 27 * 32)))
        record("cublasSgemm", try read(product, 128), expectedProduct.scalars, tolerance: 1e-5)
        // [4, 2·16] laid out as [2, 4, 16] with the bias per channel, in one launch.
        let output = try buffer(count: 128)
        try device.launch("vae_add_channel_bias", grid: 2, block: 64, [.int64(2), .int64(4), .int64(16), product, .int32(1), try buffer(bValues), .float(1), output])
        record("vae_im2col + GEMM + vae_add_channel_bias (conv2d)", try read(output, 128), x.conv2d(weight: w, bias: bias, geometry: geometry).scalars, tolerance: 1e-5)

        let expected = gradients([x, w, bias], upstream: g) { $0[0].conv2d(weight: $0[1], bias: $0[2], geometry: geometry) }
        // The upstream gradient as [4, 2·16] and the bias's sums per channel (one launch); the input's columns Wᵀ·G,
        // then col2im.
        let upstream = try buffer(count: 128), inputColumns = try buffer(count: 27 * 32), dx = try buffer(count: 294), dbias = try buffer(count: 4)
        // Both ways of summing: a block per channel (3 blocks for 4 channels) and a thread per channel.
        try device.launch("vae_channel_sums", grid: 3, block: CUDAKernelSource.reductionThreads,
                          [.int64(2), .int64(4), .int64(16), try buffer(gValues), .address(.null), .float(1), upstream, .int32(1), .int32(1), dbias])
        record("vae_channel_sums (bias gradient, a block per channel)", try read(dbias, 4), expected[2].scalars, tolerance: 1e-5)
        let dbiasInThreads = try buffer(count: 4), upstreamInThreads = try buffer(count: 128)
        try device.launch("vae_channel_sums", grid: 1, block: 2, [.int64(2), .int64(4), .int64(16), try buffer(gValues), .address(.null),
                                                                  .float(1), upstreamInThreads, .int32(1), .int32(0), dbiasInThreads])
        record("vae_channel_sums (bias gradient, a thread per channel)", try read(dbiasInThreads, 4) + read(upstreamInThreads, 128),
               try expected[2].scalars + read(upstream, 128), tolerance: 1e-5)
        guard case .address(let u0) = upstream, case .address(let i0) = inputColumns else { return }
        try device.gemm(m: 27, n: 32, k: 4, a: w0, transposingA: true, b: u0, transposingB: false, c: i0)
        try device.launch("vae_col2im", grid: 4, block: 64, shape + [inputColumns, .address(.null), .float(1), dx])
        record("vae_col2im (conv2d's input gradient)", try read(dx, 294), expected[0].scalars, tolerance: 1e-5)
        let dw = try buffer(count: 108)
        guard case .address(let d0) = dw else { return }
        try device.gemm(m: 4, n: 27, k: 32, a: u0, transposingA: false, b: c0, transposingB: true, c: d0)
        record("GEMM of im2col's columns (conv2d's weight gradient)", try read(dw, 108), expected[1].scalars, tolerance: 1e-5)
    }

    mutating func batchNormalisation() throws {
        // 8 images of 7×7: 392 values per channel, more than a block's threads, which walk them in steps of 256
        // (5 planes and 11 positions: vae_channel_walk).
        let (n, plane) = (8, 49)
        let count = n * 3 * plane, correction = Float(n * plane) / Float(n * plane - 1)
        let (xValues, gValues) = (values(count, seed: 14), values(count, seed: 15))
        let (gamma, beta) = ([Float(1.2), -0.4, 0.7], [Float(0.1), 0.3, -0.2])
        let x = Tensor(shape: [n, 3, 7, 7], scalars: xValues)
        let (weight, bias) = (Tensor(shape: [3], scalars: gamma), Tensor(shape: [3], scalars: beta))
        let reference = x.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5, activationSlope: 0.2)
        let (input, y, mean, variance) = (try buffer(xValues), try buffer(count: count), try buffer(count: 3), try buffer(count: 3))
        let (gammaBuffer, betaBuffer) = (try buffer(gamma), try buffer(beta))
        let unused: [KernelArgument] = [.address(.null), .address(.null), .float(1), .float(0), .float(1), .address(.null), .address(.null)]
        try device.launch("vae_batch_norm_forward", grid: 2, block: CUDAKernelSource.reductionThreads, [.int64(n), .int64(3), .int64(plane), input, gammaBuffer, betaBuffer,
                                                                           .float(1e-5), .float(0.2), y, mean, variance] + unused)
        record("vae_batch_norm_forward", try read(y, count), reference.output.scalars, tolerance: 1e-5)
        record("vae_batch_norm_forward (mean, variance)", try read(mean, 3) + read(variance, 3), reference.mean.scalars + reference.variance.scalars, tolerance: 1e-6)
        // With running averages: the same output, and the averages as the host's moving averages of its statistics
        // (from the device's statistics, the same products in the same order: exact).
        let (averages, movedMean, movedVariance) = ([Float(0.5), -0.25, 2], try buffer(count: 3), try buffer(count: 3))
        let (y2, mean2, variance2) = (try buffer(count: count), try buffer(count: 3), try buffer(count: 3))
        try device.launch("vae_batch_norm_forward", grid: 2, block: CUDAKernelSource.reductionThreads,
                          [.int64(n), .int64(3), .int64(plane), input, gammaBuffer, betaBuffer, .float(1e-5), .float(0.2), y2, mean2, variance2,
                           try buffer(averages), try buffer(averages.map { $0 + 1 }), .float(1 - Float(0.1)), .float(0.1), .float(correction),
                           movedMean, movedVariance])
        let (deviceMean, deviceVariance) = (Tensor(shape: [3], scalars: try read(mean2, 3)), Tensor(shape: [3], scalars: try read(variance2, 3)))
        record("vae_batch_norm_forward (with running averages)", try read(y2, count), reference.output.scalars, tolerance: 1e-5)
        record("vae_batch_norm_forward (running averages)", try read(movedMean, 3) + read(movedVariance, 3),
               Tensor(shape: [3], scalars: averages).movingAverage(toward: deviceMean, momentum: 0.1).scalars
                   + Tensor(shape: [3], scalars: averages.map { $0 + 1 }).movingAverage(toward: deviceVariance, momentum: 0.1, scale: correction).scalars,
               tolerance: 0)
        let expected = gradients([x, weight, bias], upstream: Tensor(shape: [n, 3, 7, 7], scalars: gValues)) {
            $0[0].batchNormalized(weight: $0[1], bias: $0[2], epsilon: 1e-5, activationSlope: 0.2).output
        }
        let (dx, dgamma, dbeta) = (try buffer(count: count), try buffer(count: 3), try buffer(count: 3))
        try device.launch("vae_batch_norm_backward", grid: 2, block: CUDAKernelSource.reductionThreads, [.int64(n), .int64(3), .int64(plane), try buffer(gValues), input, y, gammaBuffer,
                                                                            mean, variance, .float(1e-5), .float(0.2), dx, dgamma, dbeta])
        record("vae_batch_norm_backward", try read(dx, count) + read(dgamma, 3) + read(dbeta, 3),
               expected[0].scalars + expected[1].scalars + expected[2].scalars, tolerance: 1e-5)

        // The running variance's update with Bessel's correction: the same products in the same order.
        let (running, statistic) = (values(300, seed: 28, in: 0...2), values(300, seed: 29, in: 0...2))
        let averaged = try buffer(count: 300)
        try device.launch("vae_moving_average", grid: 2, block: 64, [.int64(300), try buffer(running), try buffer(statistic), .float(1 - Float(0.1)),
                                                                      .float(0.1), .float(24.0 / 23.0), averaged])
        record("vae_moving_average", try read(averaged, 300),
               Tensor(shape: [300], scalars: running).movingAverage(toward: Tensor(shape: [300], scalars: statistic), momentum: 0.1,
                                                                     scale: 24.0 / 23.0).scalars, tolerance: 0)
    }

    mutating func layout() throws {
        // transposed([2, 0, 1]) of [3, 4, 5]: output axis i reads input axis order[i].
        let xValues = values(60, seed: 16)
        let x = Tensor(shape: [3, 4, 5], scalars: xValues)
        let out = try buffer(count: 60)
        try device.launch("vae_strided_copy", grid: 2, block: 32, [.int64(60), .packed([[5, 3, 4], [1, 20, 5]], then: [0], rank: 3), try buffer(xValues), out])
        record("vae_strided_copy (transpose)", try read(out, 60), x.transposed([2, 0, 1]).scalars, tolerance: 0)

        // slice(1..<4, alongAxis: 1) of [5, 6], and its gradient (zeros elsewhere).
        let m = Tensor(shape: [5, 6], scalars: Array(xValues.prefix(30)))
        let layout = KernelArgument.packed([[5, 3], [6, 1]], then: [1], rank: 2)
        let sliced = try buffer(count: 15)
        try device.launch("vae_strided_copy", grid: 1, block: 32, [.int64(15), layout, try buffer(m.scalars), sliced])
        record("vae_strided_copy (slice)", try read(sliced, 15), m.slice(1..<4, alongAxis: 1).scalars, tolerance: 0)
        let g = values(15, seed: 17), dm = try buffer(count: 30)
        try device.launch("vae_fill", grid: 1, block: 32, [.int64(30), dm, .float(0)])
        try device.launch("vae_strided_scatter", grid: 1, block: 32, [.int64(15), layout, try buffer(g), dm])
        record("vae_strided_scatter (slice's gradient)", try read(dm, 30),
               gradients([m], upstream: Tensor(shape: [5, 3], scalars: g)) { $0[0].slice(1..<4, alongAxis: 1) }[0].scalars, tolerance: 0)

        // concatenate([a [3, 2], b [3, 5]], alongAxis: 1): two block copies.
        let (a, b) = (Tensor(shape: [3, 2], scalars: Array(xValues.prefix(6))), Tensor(shape: [3, 5], scalars: Array(xValues.suffix(15))))
        let joined = try buffer(count: 21)
        try device.launch("vae_copy_block", grid: 1, block: 32, [.int64(3), .int64(2), try buffer(a.scalars), .int64(2), .int64(0), joined, .int64(7), .int64(0)])
        try device.launch("vae_copy_block", grid: 1, block: 32, [.int64(3), .int64(5), try buffer(b.scalars), .int64(5), .int64(0), joined, .int64(7), .int64(2)])
        record("vae_copy_block (concatenate)", try read(joined, 21), Tensor.concatenate([a, b], alongAxis: 1).scalars, tolerance: 0)
        // concatenate([a [3, 2], (empty), b [3, 5]]) along the first axis: one launch for the three parts.
        let (partA, empty, partB, ends) = (try buffer(a.scalars), try buffer(count: 0), try buffer(b.scalars), try buffer(count: 21))
        try device.launch("vae_copy_blocks", grid: 1, block: 32, [.packed([[6, 0, 15], addresses(partA, empty, partB)], rank: 3), ends])
        record("vae_copy_blocks (concatenate along the first axis)", try read(ends, 21),
               Tensor.concatenate([a.reshaped([6]), Tensor(shape: [0], scalars: []), b.reshaped([15])]).scalars, tolerance: 0)

        // gathering([4, 0, 4, 2], alongAxis: 1) of [2, 5, 3] (a repeated index: its gradient sums).
        let source = Tensor(shape: [2, 5, 3], scalars: Array(xValues.prefix(30)))
        let indices = [4, 0, 4, 2]
        let (indexBuffer, gathered) = (try buffer(integers: indices), try buffer(count: 24))
        try device.launch("vae_gather", grid: 1, block: 32, [.int64(2), .int64(5), .int64(3), .int64(4), indexBuffer, try buffer(source.scalars), gathered])
        record("vae_gather", try read(gathered, 24), source.gathering(indices, alongAxis: 1).scalars, tolerance: 0)
        let gg = values(24, seed: 18), dsource = try buffer(count: 30)
        try device.launch("vae_gather_gradient", grid: 1, block: 32, [.int64(2), .int64(5), .int64(3), .int64(4), indexBuffer, try buffer(gg), dsource])
        record("vae_gather_gradient", try read(dsource, 30),
               gradients([source], upstream: Tensor(shape: [2, 4, 3], scalars: gg)) { $0[0].gathering(indices, alongAxis: 1) }[0].scalars, tolerance: 2e-6)

        // upsampledNearest(factor: 2) of [2, 3, 2, 5].
        let image = Tensor(shape: [2, 3, 2, 5], scalars: xValues)
        let (up, gu, dimage) = (try buffer(count: 240), values(240, seed: 19), try buffer(count: 60))
        try device.launch("vae_upsample_nearest", grid: 2, block: 64, [.int64(6), .int64(2), .int64(5), .int64(2), try buffer(xValues), up])
        record("vae_upsample_nearest", try read(up, 240), image.upsampledNearest(factor: 2).scalars, tolerance: 0)
        try device.launch("vae_upsample_nearest_gradient", grid: 2, block: 32, [.int64(6), .int64(2), .int64(5), .int64(2), try buffer(gu), dimage])
        record("vae_upsample_nearest_gradient", try read(dimage, 60),
               gradients([image], upstream: Tensor(shape: [2, 3, 4, 10], scalars: gu)) { $0[0].upsampledNearest(factor: 2) }[0].scalars, tolerance: 2e-6)
    }

    mutating func optimisers() throws {
        let n = 257
        let (weights, gradient, addend) = (values(n, seed: 20), values(n, seed: 21), values(n, seed: 22))
        let (first, second) = (values(n, seed: 23, in: -0.1...0.1), values(n, seed: 24, in: 0...0.01))
        // Two parameters in one launch: the whole arrays with the addend, and their first 100 elements without.
        var (w, m, v) = (weights, first, second)
        vae_adam_update(n, &w, gradient, addend, &m, &v, 0.9, 0.999, 1e-8, 1e-3, 0.3, 0.01, 0.9999)
        var (w2, m2, v2) = (Array(weights.prefix(100)), Array(first.prefix(100)), Array(second.prefix(100)))
        vae_adam_update(100, &w2, gradient, nil, &m2, &v2, 0.9, 0.999, 1e-8, 1e-3, 0.3, 0.01, 0.9999)
        let (wBuffer, mBuffer, vBuffer, gBuffer) = (try buffer(weights), try buffer(first), try buffer(second), try buffer(gradient))
        let (w2Buffer, m2Buffer, v2Buffer) = (try buffer(Array(weights.prefix(100))), try buffer(Array(first.prefix(100))), try buffer(Array(second.prefix(100))))
        let parameters = KernelArgument.packed([[n, 100], addresses(wBuffer, w2Buffer), addresses(gBuffer, gBuffer),
                                                addresses(try buffer(addend), .address(.null)), addresses(mBuffer, m2Buffer),
                                                addresses(vBuffer, v2Buffer)], rank: 2)
        try device.launch("vae_adam_update", grid: 2, block: 64, [parameters, .float(0.9), .float(0.999), .float(1e-8), .float(1e-3),
                                                                   .float(0.3), .float(0.01), .float(0.9999)])
        record("vae_adam_update", try read(wBuffer, n) + read(mBuffer, n) + read(vBuffer, n) + read(w2Buffer, 100) + read(m2Buffer, 100)
               + read(v2Buffer, 100), w + m + v + w2 + m2 + v2, tolerance: 0)

        // The non-finite flag over several buffers: finite ones leave it 0, a NaN or an infinity in any sets it.
        for (poison, expected) in [(Float?.none, Float(0)), (.nan, 1), (.infinity, 1), (-.infinity, 1)] {
            var last = values(40, seed: 25)
            if let poison { last[39] = poison }
            let flag = try buffer([0])
            let tensors = [try buffer(values(300, seed: 26)), try buffer(values(7, seed: 27)), try buffer(last)]
            try device.launch("vae_flag_nonfinite", grid: 2, block: 64,
                              [.packed([[300, 7, 40], addresses(tensors[0], tensors[1], tensors[2])], rank: 3), flag])
            record("vae_flag_nonfinite (\(poison.map { "\($0)" } ?? "all finite"))", try read(flag, 1), [expected], tolerance: 0)
        }

        // SGD with momentum and Adagrad, as VAEOptimizers writes them (PyTorch's).
        var (sgdWeights, velocity) = (weights, first)
        for i in 0..<n {
            let g = gradient[i] + 0.01 * sgdWeights[i]
            velocity[i] = 0.9 * velocity[i] + g
            sgdWeights[i] -= 0.1 * velocity[i]
        }
        let (sgdBuffer, velocityBuffer) = (try buffer(weights), try buffer(first))
        try device.launch("vae_sgd_update", grid: 2, block: 64, [.int64(n), sgdBuffer, try buffer(gradient), velocityBuffer, .float(0.1), .float(0.9), .float(0.01)])
        record("vae_sgd_update", try read(sgdBuffer, n) + read(velocityBuffer, n), sgdWeights + velocity, tolerance: 0)
        var (adagradWeights, sums) = (weights, second)
        for i in 0..<n {
            let g = gradient[i] + 0.01 * adagradWeights[i]
            sums[i] += g * g
            adagradWeights[i] -= 0.1 * g / (sums[i].squareRoot() + 1e-10)
        }
        let (adagradBuffer, sumBuffer) = (try buffer(weights), try buffer(second))
        try device.launch("vae_adagrad_update", grid: 2, block: 64, [.int64(n), adagradBuffer, try buffer(gradient), sumBuffer, .float(0.1), .float(1e-10), .float(0.01)])
        record("vae_adagrad_update", try read(adagradBuffer, n) + read(sumBuffer, n), adagradWeights + sums, tolerance: 0)
    }

    mutating func randomNumbers() throws {
        // Values 5..<108 of draws starting at block 7 of the stream "noise" of seed 42.
        var stream = RandomStream(seed: 42, name: "noise")
        _ = stream.uniform(count: 28)   // 7 blocks of 4
        var (uniformStream, normalStream) = (stream, stream)
        let (uniform, normal) = (Array(uniformStream.uniform(count: 108)[5...]), Array(normalStream.normal(count: 108)[5...]))
        let out = try buffer(count: 103)
        for (flag, expected, tolerance) in [(Int32(0), uniform, Float(0)), (1, normal, 4e-6)] {
            try device.launch("vae_random", grid: 2, block: 32, [.int64(103), .int64(5), .uint64(stream.counter), .uint64(42),
                                                                 .uint64(stream.streamIdentifier), .int32(flag), out])
            record(flag == 0 ? "vae_random (uniform)" : "vae_random (normal)", try read(out, 103), expected, tolerance: tolerance)
        }
    }
}
