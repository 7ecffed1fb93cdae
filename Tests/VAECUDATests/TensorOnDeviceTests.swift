import Foundation
import Testing
import VAECUDA
@testable import VAETensor

/// `Tensor`'s ops and the tape with tensors moved to a ``CUDABackend`` on the emulated device: the same code as on
/// the CPU, with values and gradients as the CPU backend's.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct TensorOnDeviceTests {
    let backend: CUDABackend
    /// Small launches: the emulator starts a thread per GPU thread.
    init() throws {
        backend = CUDABackend(ops: DeviceOps(device: EmulatedDevice(try KernelEmulator.shared.get()), blockSize: 64, maximumBlocks: 2))
    }

    func values(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -0.5...0.5) -> Tensor {
        var stream = RandomStream(seed: seed, name: "tensor-on-device")
        return stream.uniform(shape: shape, in: range)
    }

    func expectClose(_ device: Tensor, _ cpu: Tensor, _ what: String, tolerance: Float = 1e-5, on other: CUDABackend? = nil) {
        #expect(device.backend === (other ?? backend), "\(what): not on the device")
        #expect(device.shape == cpu.shape, "\(what): shape \(device.shape), expected \(cpu.shape)")
        let worst = zip(device.scalars, cpu.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): largest relative difference \(worst)")
    }

    /// `f`'s value and the gradients of Σ f(inputs)·g for each input, on the CPU and on the device.
    func expectAgreement(_ what: String, _ inputs: [Tensor], _ f: ([Tensor]) -> Tensor, tolerance: Float = 1e-5) {
        func run(_ on: (any TensorBackend)?) -> (Tensor, [Tensor]) {
            let tape = GradientTape()
            return tape.recording {
                let watched = inputs.map { tape.watch($0.moved(to: on).detached) }
                let y = f(watched)
                let g = values(y.shape, seed: 99).moved(to: on)
                return (y, tape.gradients(of: (y * g).sum(), withRespectTo: watched))
            }
        }
        let (cpu, cpuGradients) = run(nil)
        let (device, deviceGradients) = run(backend)
        expectClose(device, cpu, what, tolerance: tolerance)
        for (index, (d, c)) in zip(deviceGradients, cpuGradients).enumerated() {
            expectClose(d, c, "\(what)'s gradient for input \(index)", tolerance: tolerance)
        }
    }

    @Test func everyUnaryAndScalarOpWithItsGradient() {
        let x = values([3, 5], seed: 1), positive = values([3, 5], seed: 2, in: 0.5...2)
        let unary: [(String, Tensor, (Tensor) -> Tensor)] = [
            ("negate", x, { -$0 }), ("exp", x, { $0.exp() }), ("log", positive, { $0.log() }),
            ("sqrt", positive, { $0.sqrt() }), ("squared", x, { $0.squared() }), ("pow", positive, { $0.pow(1.5) }),
            ("relu", x, { $0.relu() }), ("leakyRelu", x, { $0.leakyRelu(slope: 0.2) }), ("sigmoid", x, { $0.sigmoid() }),
            ("tanh", x, { $0.tanh() }), ("softplus", x, { $0.softplus() }),
            ("x + s", x, { $0 + 0.25 }), ("x − s", x, { $0 - 0.25 }), ("x · s", x, { $0 * 3 }), ("x / s", x, { $0 / 4 }),
            ("s − x", x, { 2 - $0 }), ("mean", x, { $0.mean() }), ("sum", x, { $0.sum() }),
            ("sum in two launches", values([DeviceOps.sumInOneBlock / 64 + 1, 64], seed: 14), { $0.sum() }),
            ("sum along 0", x, { $0.sum(alongAxis: 0) }), ("sum along 1, kept", x, { $0.sum(alongAxis: 1, keepingDimension: true) }),
            ("mean along 1", x, { $0.mean(alongAxis: -1) }), ("reshaped", x, { $0.reshaped([5, -1]).exp() }),
            ("logSumExp along 1", x, { $0.logSumExp(alongAxis: 1) }), ("logSumExp along 0, kept", x, { $0.logSumExp(alongAxis: 0, keepingDimension: true) }),
            ("logMeanExp", x, { $0.logMeanExp(alongAxis: 1) }),
            ("rows gathered, repeated", x, { $0.gathering([2, 0, 0, 1, 2]) }), ("columns gathered", x, { $0.gathering([4, 1, 1], alongAxis: 1) }),
        ]
        for (name, input, f) in unary { expectAgreement(name, [input], { f($0[0]) }) }
    }

    @Test func broadcastingMatricesAndTheBernoulliLoss() {
        let (a, b, positive) = (values([3, 1, 4], seed: 3), values([5, 1], seed: 4), values([5, 1], seed: 5, in: 0.5...2))
        expectAgreement("a + b", [a, b]) { $0[0] + $0[1] }
        expectAgreement("a − b", [a, b]) { $0[0] - $0[1] }
        expectAgreement("a · b", [a, b]) { $0[0] * $0[1] }
        expectAgreement("a / b", [a, positive]) { $0[0] / $0[1] }
        let (m, n) = (values([4, 6], seed: 6), values([6, 3], seed: 7))
        expectAgreement("matmul", [m, n]) { $0[0].matmul($0[1]) }
        expectAgreement("matmul, self transposed", [m, values([4, 3], seed: 8)]) { $0[0].matmul($0[1], transposingSelf: true) }
        expectAgreement("matmul, other transposed", [m, values([3, 6], seed: 9)]) { $0[0].matmul($0[1], transposingOther: true) }
        expectAgreement("matmul, both transposed", [values([6, 4], seed: 10), values([3, 6], seed: 11)]) {
            $0[0].matmul($0[1], transposingSelf: true, transposingOther: true)
        }
        expectAgreement("linear", [m, values([5, 6], seed: 12), values([5], seed: 13)]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        expectAgreement("linear without a bias", [m, values([5, 6], seed: 12)]) { $0[0].linear(weight: $0[1], bias: nil) }
        let strided = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        expectAgreement("conv2d", [values([2, 3, 7, 7], seed: 16), values([4, 3, 3, 3], seed: 17), values([4], seed: 18)]) {
            $0[0].conv2d(weight: $0[1], bias: $0[2], geometry: strided)
        }
        expectAgreement("conv2d without a bias, 1×1", [values([2, 3, 5, 5], seed: 19), values([2, 3, 1, 1], seed: 20)]) {
            $0[0].conv2d(weight: $0[1], bias: nil, geometry: ConvolutionGeometry(kernelSize: 1))
        }
        expectAgreement("transposedConv2d", [values([2, 4, 4, 4], seed: 21), values([4, 3, 3, 3], seed: 22), values([3], seed: 23)]) {
            $0[0].transposedConv2d(weight: $0[1], bias: $0[2], geometry: strided, outputPadding: 1)
        }
        expectAgreement("binaryCrossEntropySums", [values([4, 7], seed: 14, in: -3...3), values([4, 7], seed: 15, in: 0...1)]) {
            $0[0].binaryCrossEntropySums(targets: $0[1])
        }
    }

    /// A Gaussian VAE's step written once, as a model writes it: on the device through the tape, its loss and every
    /// weight's gradient as on the CPU.
    @Test func aGaussianVAEStepThroughTheTapeMatchesTheCPU() {
        // Encoder 12 → 10 → (mean, log-variance) of 3; decoder 3 → 10 → 12 logits; Bernoulli likelihood; 8 rows.
        let (rows, features, hidden, latent) = (8, 12, 10, 3)
        let input = Tensor(shape: [rows, features], scalars: values([rows, features], seed: 4, in: 0...1).scalars.map { $0 < 0.5 ? 0 : 1 })
        let epsilon = values([rows, latent], seed: 5, in: -1.5...1.5)
        let shapes = [[hidden, features], [hidden], [latent, hidden], [latent], [latent, hidden], [latent],
                      [hidden, latent], [hidden], [features, hidden], [features]]
        let weights = zip(shapes, 10...).map { values($0.0, seed: UInt64($0.1)) }

        func step(on device: (any TensorBackend)?) -> (Tensor, [Tensor]) {
            let tape = GradientTape()
            return tape.recording {
                let w = weights.map { tape.watch($0.moved(to: device)) }
                let (x, noise) = (input.moved(to: device), epsilon.moved(to: device))
                let h = x.linear(weight: w[0], bias: w[1]).relu()
                let (mean, logVariance) = (h.linear(weight: w[2], bias: w[3]), h.linear(weight: w[4], bias: w[5]))
                let z = mean + (logVariance * 0.5).exp() * noise
                let logits = z.linear(weight: w[6], bias: w[7]).relu().linear(weight: w[8], bias: w[9])
                let reconstruction = logits.binaryCrossEntropySums(targets: x)
                let kl = ((logVariance.exp() + mean.squared() - logVariance - 1) * 0.5).sum(alongAxis: 1)
                let loss = (reconstruction + kl).mean()
                return (loss, tape.gradients(of: loss, withRespectTo: w))
            }
        }
        let (cpuLoss, cpuGradients) = step(on: nil)
        let (loss, gradients) = step(on: backend)
        expectClose(loss, cpuLoss, "the loss")
        #expect(loss.isFinite)
        for (name, (d, c)) in zip(["w1", "b1", "wm", "bm", "wv", "bv", "w2", "b2", "wo", "bo"], zip(gradients, cpuGradients)) {
            expectClose(d, c, "the gradient of \(name)")
        }
    }

    @Test func movingBetweenHostAndDeviceCarriesGradientsBack() {
        let x = values([2, 3], seed: 20)
        let tape = GradientTape()
        let (y, gradient) = tape.recording { () -> (Tensor, Tensor) in
            let watched = tape.watch(x)
            let y = (watched.moved(to: backend).exp().moved(to: nil) * 2).sum()
            return (y, tape.gradients(of: y, withRespectTo: [watched])[0])
        }
        #expect(y.backend == nil && gradient.backend == nil)
        #expect(abs(y.scalar - x.scalars.map { 2 * Foundation.exp($0) }.reduce(0, +)) < 1e-5)
        for (g, value) in zip(gradient.scalars, x.scalars) { #expect(abs(g - 2 * Foundation.exp(value)) < 1e-5) }
    }

    /// A device that runs out of memory: the backend keeps the error, the ops after it do nothing, and the loss reads
    /// back as not finite (never a crash).
    @Test func aFailedAllocationStopsTheStepWithItsError() throws {
        let failing = CUDABackend(ops: DeviceOps(device: FailingDevice(EmulatedDevice(try KernelEmulator.shared.get()), allocations: 3),
                                                 blockSize: 64, maximumBlocks: 2))
        let x = values([4, 5], seed: 21).moved(to: failing), w = values([3, 5], seed: 22).moved(to: failing)
        let loss = x.linear(weight: w, bias: nil).exp().sum()
        #expect(failing.failure != nil)
        #expect("\(failing.failure!)".contains("out of memory"))
        #expect(!loss.isFinite)
        #expect(loss.shape == [] && loss.scalar.isNaN)
    }
}

/// A ``KernelDevice`` whose allocations fail after `allocations` of them, as a full GPU's do.
final class FailingDevice: ForwardingDevice {
    var allocations: Int
    init(_ base: KernelDevice, allocations: Int) {
        self.allocations = allocations
        super.init(base)
    }
    override func allocate(bytes: Int) throws -> DeviceAddress {
        guard allocations > 0 else { throw CUDAError("out of memory allocating \(bytes) bytes") }
        allocations -= 1
        return try base.allocate(bytes: bytes)
    }
}

extension TensorOnDeviceTests {
    /// An op with no device version (here the cube, written with host arrays as an op outside the backend would be)
    /// runs on host copies: its result and its input's gradient are still on the device, as on the CPU, and the
    /// backend counts it.
    @Test func anOpWithoutADeviceVersionRunsOnHostCopies() {
        func cubed(_ x: Tensor) -> Tensor {
            let input = x.scalars
            return Tensor.record(shape: x.shape, scalars: input.map { $0 * $0 * $0 }, inputs: [x], op: "cubed") { upstream in
                [zip(upstream, input).map { g, v in 3 * v * v * g }]
            }
        }
        let before = backend.hostFallbacks["cubed", default: 0]
        expectAgreement("cubed then exp", [values([3, 4], seed: 30)]) { cubed($0[0]).exp() }
        #expect(backend.hostFallbacks["cubed", default: 0] > before)
    }

    /// The maximum along an axis (ties go to the first entry, as on the CPU), nearest upsampling and the
    /// elementwise binary cross-entropy, with their gradients, on the device.
    @Test func maximumUpsamplingAndTheElementwiseBernoulliLoss() {
        let before = backend.hostFallbacks
        let x = values([3, 4, 5], seed: 31)
        expectAgreement("max along 1", [x], { $0[0].max(alongAxis: 1) }, tolerance: 0)
        expectAgreement("max along 2, kept", [x], { $0[0].max(alongAxis: 2, keepingDimension: true).exp() })
        let ties = Tensor(shape: [2, 3], scalars: [1, 4, 4, 2, 2, 0])
        expectAgreement("max with ties", [ties], { $0[0].max(alongAxis: 1) }, tolerance: 0)
        expectAgreement("upsampledNearest ×2", [values([2, 3, 2, 3], seed: 32)], { $0[0].upsampledNearest(factor: 2) }, tolerance: 0)
        expectAgreement("upsampledNearest ×3", [values([1, 2, 3, 2], seed: 33)]) { $0[0].upsampledNearest(factor: 3).exp() }
        let (logits, targets) = (values([4, 6], seed: 34, in: -4...4), values([4, 6], seed: 35, in: 0...1))
        expectAgreement("binaryCrossEntropy", [logits, targets]) { $0[0].binaryCrossEntropy(targets: $0[1]) }
        #expect(backend.hostFallbacks == before, "ran on the host: \(backend.hostFallbacks)")
    }

    /// The softmax cross-entropy's targets and a gather's indices (an embedding's token ids) go to the device once:
    /// the forward op keeps them for the gradient. Values and gradients as on the CPU, with a padding target and a
    /// repeated index.
    @Test func theTargetsAndIndicesGoToTheDeviceOnce() throws {
        // The input, g and the indices once.
        try expectCopies(3, "softmax cross-entropy", [4, 300]) { $0.softmaxCrossEntropy(targets: [299, -1, 0, 17]) }
        try expectCopies(3, "embedding rows gathered", [6, 5]) { $0.gathering([5, 0, 5, 2, 1, 1, 3]) }
    }

    /// A constant on the host (one value, not tracked: a fixed Gaussian variance's log) with a device tensor runs as
    /// the scalar op: the same bits as the CPU's, values and gradients, and no copy of the constant to the device;
    /// in a division it is filled there.
    @Test func aHostConstantIsNotCopiedToTheDevice() throws {
        let c = Tensor(Float(-0.7))
        let cases: [(String, (Tensor) -> Tensor)] = [("x + c", { $0 + c }), ("c + x", { c + $0 }), ("x − c", { $0 - c }),
                                                     ("c − x", { c - $0 }), ("x · c", { $0 * c }), ("c · x", { c * $0 })]
        // The input and g.
        for (what, f) in cases { try expectCopies(2, what, [3, 5], tolerance: 0, f) }
        // Division is not a multiplication by 1/c: the division, with the constant filled there.
        try expectCopies(2, "x / c", [3, 5]) { $0 / c }
        try expectCopies(2, "c / x", [3, 5]) { c / ($0.squared() + 1) }
    }

    /// `f` of an input and the input's gradient (of Σ f·g) on the CPU and on a counting device: `copies` copies to the
    /// device, values within `tolerance` (relative to max(1, |CPU value|)), and no op on host copies.
    func expectCopies(_ copies: Int, _ what: String, _ shape: [Int], tolerance: Float = 1e-5, _ f: (Tensor) -> Tensor) throws {
        let (caching, counted) = try emulatedCachingBackend()
        let input = values(shape, seed: 60, in: -3...3)
        func run(_ on: CUDABackend?) -> (Tensor, Tensor) {
            let tape = GradientTape()
            return tape.recording {
                let x = tape.watch(input.moved(to: on).detached)
                let y = f(x)
                let g = values(y.shape, seed: 61).moved(to: on)
                return (y, tape.gradients(of: (y * g).sum(), withRespectTo: [x])[0])
            }
        }
        let (cpuValues, cpuGradient) = run(nil)
        let before = caching.copiesToDevice
        let (deviceValues, gradient) = run(counted)
        #expect(caching.copiesToDevice - before == copies, "\(what): \(caching.copiesToDevice - before) copies to the device, expected \(copies)")
        for (name, d, c) in [("values", deviceValues, cpuValues), ("gradient", gradient, cpuGradient)] {
            let worst = zip(d.scalars, c.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(d.backend === counted && d.shape == c.shape && worst <= tolerance, "\(what) \(name): largest relative difference \(worst)")
        }
        #expect(counted.failure == nil && counted.hostFallbacks.isEmpty)
    }

    /// Transposes, slices, concatenation (of a host and a device tensor), the straight-through estimator and batch
    /// normalisation (with its statistics), each with its gradients, on the device.
    @Test func layoutOpsAndBatchNormalisation() {
        let before = backend.hostFallbacks
        let x = values([2, 3, 4], seed: 40)
        expectAgreement("transposed", [x]) { $0[0].transposed() }
        expectAgreement("transposed([2, 0, 1])", [x]) { $0[0].transposed([2, 0, 1]).exp() }
        expectAgreement("slice along 1", [x]) { $0[0].slice(1..<3, alongAxis: 1) }
        expectAgreement("slice along 2", [x]) { $0[0].slice(0..<1, alongAxis: 2).exp() }
        expectAgreement("concatenate along 1", [x, values([2, 5, 4], seed: 41)]) { Tensor.concatenate($0, alongAxis: 1) }
        expectAgreement("concatenate along 2", [x, values([2, 3, 1], seed: 42)]) { Tensor.concatenate([$0[0], $0[1].exp()], alongAxis: 2) }
        let host = values([2, 3, 2], seed: 43)
        expectAgreement("concatenate with a host tensor", [x]) { Tensor.concatenate([host, $0[0]], alongAxis: 2) }
        expectAgreement("passingGradient", [x, values([2, 3, 4], seed: 44)]) { $0[0].passingGradient(withValue: $0[1].exp()) * $0[0] }
        let (weight, bias) = (values([3], seed: 45, in: 0.5...1.5), values([3], seed: 46))
        for (shape, slope) in [([5, 3, 2, 2], Float(0.2)), ([6, 3], Float(1))] {
            let input = values(shape, seed: 47)
            expectAgreement("batchNormalized \(shape)", [input, weight, bias]) {
                $0[0].batchNormalized(weight: $0[1], bias: $0[2], epsilon: 1e-5, activationSlope: slope).output
            }
            let (cpu, device) = (input.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5),
                                 input.moved(to: backend).batchNormalized(weight: weight, bias: bias, epsilon: 1e-5))
            expectClose(device.mean, cpu.mean, "batch mean \(shape)")
            expectClose(device.variance, cpu.variance, "batch variance \(shape)")
        }
        #expect(backend.hostFallbacks == before, "ran on the host: \(backend.hostFallbacks)")
    }

    /// Batch normalisation that moves its running averages: on the device one launch (the forward kernel), the
    /// output and the averages the host's (the averages exactly, from the device's statistics), for 4-D and 2-D
    /// inputs and a batch of one row (Bessel's correction 1).
    @Test func runningAveragesMoveInTheNormalisationsLaunch() throws {
        let (caching, device) = try emulatedCachingBackend()
        let (weight, bias) = (values([3], seed: 60, in: 0.5...1.5).moved(to: device), values([3], seed: 61).moved(to: device))
        let (mean, variance) = (values([3], seed: 62).moved(to: device), values([3], seed: 63, in: 0.5...2).moved(to: device))
        for shape in [[5, 3, 2, 2], [6, 3], [1, 3]] {
            let input = values(shape, seed: 64).moved(to: device)
            let launches = caching.launches
            let fused = input.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5, activationSlope: 0.2,
                                              movingAverages: (mean, variance), momentum: 0.1)
            #expect(caching.launches - launches == 1, "\(shape): \(caching.launches - launches) launches")
            let plain = input.batchNormalized(weight: weight, bias: bias, epsilon: 1e-5, activationSlope: 0.2)
            let count = Float(input.count / 3), correction = count > 1 ? count / (count - 1) : 1
            #expect(fused.output.scalars == plain.output.scalars, "\(shape): output")
            #expect(fused.runningMean.scalars == mean.movingAverage(toward: plain.mean, momentum: 0.1).scalars, "\(shape): running mean")
            #expect(fused.runningVariance.scalars == variance.movingAverage(toward: plain.variance, momentum: 0.1, scale: correction).scalars,
                    "\(shape): running variance")
            // The host's op: the output within the device's rounding, the averages from the host's statistics.
            let host = values(shape, seed: 64).batchNormalized(weight: weight.moved(to: nil), bias: bias.moved(to: nil), epsilon: 1e-5,
                                                               activationSlope: 0.2, movingAverages: (mean.moved(to: nil), variance.moved(to: nil)),
                                                               momentum: 0.1)
            expectClose(fused.output, host.output, "\(shape): output on the host", on: device)
            expectClose(fused.runningMean, host.runningMean, "\(shape): running mean on the host", on: device)
            expectClose(fused.runningVariance, host.runningVariance, "\(shape): running variance on the host", on: device)
            #expect(!fused.runningMean.isTracked && !fused.runningVariance.isTracked)
        }
        #expect(device.failure == nil)
    }

    /// Finiteness of many device tensors in one check (more than one launch's 8), and the index of the bad one.
    @Test func firstNonFiniteFindsTheBadTensorOnTheDevice() {
        var tensors = (0..<11).map { values([3, $0 + 1], seed: 50 + UInt64($0)).moved(to: backend) }
        #expect(Tensor.firstNonFinite(tensors) == nil)
        for (index, bad) in [(9, Float.nan), (2, .infinity), (0, -.infinity)] {
            var poisoned = tensors
            var scalars = values([3, index + 1], seed: 50 + UInt64(index)).scalars
            scalars[scalars.count - 1] = bad
            poisoned[index] = Tensor(shape: [3, index + 1], scalars: scalars).moved(to: backend)
            #expect(Tensor.firstNonFinite(poisoned) == index, "\(bad) at \(index)")
            #expect(!poisoned[index].isFinite && poisoned[(index + 1) % 11].isFinite)
        }
        tensors.append(Tensor(shape: [1], scalars: [.nan]))
        #expect(Tensor.firstNonFinite(tensors) == 11, "a host tensor among device tensors")
    }

    /// A loss and its terms come back in one copy, in order, with host values among them.
    @Test func scalarValuesComeBackInOneCopy() throws {
        let (caching, device) = try emulatedCachingBackend()
        let values: [Float] = [1.5, -2, 3.25, 7]
        let tensors = values.enumerated().map { $0 == 2 ? Tensor($1) : Tensor($1).moved(to: device) }
        let before = caching.copiesToHost
        #expect(Tensor.scalarValues(tensors) == values)
        #expect(caching.copiesToHost == before + 1)
        // With the gradients' finiteness flag (a step's loss, its terms, one of them on the host: a schedule's
        // weight): still one copy back; with an infinite gradient, the flag finds it.
        let gradients = [Tensor(shape: [3], scalars: [1, 2, 3]).moved(to: device), Tensor(shape: [2], scalars: [4, 5]).moved(to: device)]
        let checked = Tensor.scalarValues(tensors, checkingFinite: gradients)
        #expect(checked.values == values && checked.firstNonFinite == nil)
        #expect(caching.copiesToHost == before + 2, "\(caching.copiesToHost - before - 1) copies back for the values and the flag")
        let infinite = Tensor(shape: [2], scalars: [4, .infinity]).moved(to: device)
        #expect(Tensor.scalarValues(tensors, checkingFinite: [gradients[0], infinite]).firstNonFinite == 1)
    }

    /// A host tensor meeting a device tensor moves to the device (recorded): its gradient comes back to the host.
    @Test func aHostInputOfADeviceOpIsMovedAndGetsItsGradient() {
        let (host, device) = (values([2, 3], seed: 32), values([3], seed: 33))
        let tape = GradientTape()
        let (y, gradients) = tape.recording { () -> (Tensor, [Tensor]) in
            let (a, b) = (tape.watch(host), tape.watch(device.moved(to: backend)))
            let y = (a * b).sum()
            return (y, tape.gradients(of: y, withRespectTo: [a, b]))
        }
        #expect(y.backend === backend)
        #expect(gradients[0].backend == nil && gradients[1].backend === backend)
        for row in 0..<2 {
            for column in 0..<3 { #expect(abs(gradients[0].scalars[row * 3 + column] - device.scalars[column]) < 1e-6) }
        }
        for column in 0..<3 {
            #expect(abs(gradients[1].scalars[column] - (host.scalars[column] + host.scalars[3 + column])) < 1e-6)
        }
    }
}

extension TensorOnDeviceTests {
    /// Normal draws made on the device: the host's values within the device's rounding of log, cos and sin (one
    /// value past a multiple of four too), the stream's counter where the host's is, and a window's rows of a draw.
    @Test func normalDrawsOnTheDeviceAreTheHostsDraws() {
        for (shape, window) in [([7, 5], nil), ([6, 4], 2..<5)] as [([Int], Range<Int>?)] {
            var (host, device) = (RandomStream(seed: 11, name: "draws"), RandomStream(seed: 11, name: "draws"))
            if let window { (host, device) = (host.rows(window, of: 8), device.rows(window, of: 8)) }
            let expected = host.normal(shape: shape)
            let drawn = device.normal(shape: shape, on: backend)
            #expect(drawn.backend === backend && drawn.shape == shape)
            let worst = zip(drawn.scalars, expected.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst <= 4e-6, "\(shape): largest difference \(worst)")
            #expect(device.counter == host.counter)
        }
    }
}

extension TensorOnDeviceTests {
    /// The Gaussian latent's draw and KL to N(0, I): the host's values and gradients, with one kernel each way on
    /// the device instead of a launch per operator.
    @Test func theGaussianDrawAndKLAreOneKernelEachWay() throws {
        let (mean, logVariance) = (values([4, 6], seed: 20), values([4, 6], seed: 21, in: -3...1))
        let noise = values([4, 6], seed: 22, in: -2...2)
        expectAgreement("reparameterizedSample", [mean, logVariance]) { .reparameterizedSample(mean: $0[0], logVariance: $0[1], noise: noise) }
        expectAgreement("standardNormalKL", [mean, logVariance]) { .standardNormalKL(mean: $0[0], logVariance: $0[1]) }
        // A tracked ε takes the operators' path, which gives it its gradient.
        expectAgreement("reparameterizedSample, ε tracked", [mean, logVariance, noise]) {
            .reparameterizedSample(mean: $0[0], logVariance: $0[1], noise: $0[2])
        }

        let (counting, counted) = try emulatedCachingBackend()
        let tape = GradientTape()
        let gradients = tape.recording {
            let (m, v) = (tape.watch(mean.moved(to: counted)), tape.watch(logVariance.moved(to: counted)))
            let z = Tensor.reparameterizedSample(mean: m, logVariance: v, noise: noise.moved(to: counted))
            return tape.gradients(of: (z + Tensor.standardNormalKL(mean: m, logVariance: v)).sum(), withRespectTo: [m, v])
        }
        #expect(gradients.allSatisfy { $0.backend === counted })
        let launches = counting.launchesByKernel
        for kernel in ["vae_reparameterized_sample", "vae_reparameterized_sample_gradient", "vae_standard_normal_kl",
                       "vae_standard_normal_kl_gradient"] {
            #expect(launches[kernel] == 1, "\(kernel): \(launches[kernel] ?? 0) launches")
        }
        #expect(launches["vae_exp"] == nil && launches["vae_multiply"] == nil && launches["vae_square"] == nil, "\(launches)")
    }

    /// The Gaussian decoder's log-density with a fixed variance (a constant on the host) and its negation: the host's
    /// values and gradients (value and mean), with one kernel each way for the mean; a learned variance (on the
    /// device) and a broadcast one take the operators' path.
    @Test func theGaussianLogDensityOfAFixedVarianceIsOneKernelEachWay() throws {
        let (x, mean) = (values([3, 70], seed: 23, in: 0...1), values([3, 70], seed: 24, in: -1...2))
        let fixed = Tensor(Float(-2.3))
        for negated in [false, true] {
            expectAgreement("gaussianLogDensity, fixed variance, negated \(negated)", [x, mean]) {
                .gaussianLogDensity($0[0], mean: $0[1], logVariance: fixed, negated: negated)
            }
            expectAgreement("gaussianLogDensity, learned variance, negated \(negated)", [x, mean, Tensor(Float(0.4))]) {
                .gaussianLogDensity($0[0], mean: $0[1], logVariance: $0[2], negated: negated)
            }
        }
        expectAgreement("gaussianLogDensity, a variance per column", [x, mean, values([70], seed: 25)]) {
            .gaussianLogDensity($0[0], mean: $0[1], logVariance: $0[2])
        }
        expectAgreement("gaussianLogDensity, a constant mean (a prior's)", [mean]) {
            .gaussianLogDensity($0[0], mean: Tensor(Float(0.25)), logVariance: fixed)
        }

        let (counting, counted) = try emulatedCachingBackend()
        let (onDevice, meanOnDevice) = (x.moved(to: counted), mean.moved(to: counted))
        let (before, copies) = (counting.launchesByKernel, counting.copiesToDevice)
        let tape = GradientTape()
        let gradient = tape.recording {
            let m = tape.watch(meanOnDevice)
            return tape.gradients(of: Tensor.gaussianLogDensity(onDevice, mean: m, logVariance: fixed, negated: true).sum(), withRespectTo: [m])[0]
        }
        let launches = counting.launches(since: before)
        #expect(gradient.backend === counted && counting.copiesToDevice == copies, "\(counting.copiesToDevice - copies) copies to the device")
        // The sum and its gradient's expansion, the seed's fill, and one kernel each way for the density.
        #expect(launches == ["vae_gaussian_row_log_density": 1, "vae_gaussian_row_log_density_gradient": 1, "vae_sum_all": 1,
                             "vae_fill": 1, "vae_strided_copy": 1], "\(launches)")

        // N(0, I)'s log-density with its parameters as constants: the mean a fill there, nothing copied.
        let (copiesBefore, launchesBefore) = (counting.copiesToDevice, counting.launchesByKernel)
        let prior = tape.recording {
            let z = tape.watch(meanOnDevice)
            return tape.gradients(of: Tensor.gaussianLogDensity(z, mean: Tensor(0), logVariance: Tensor(0)).sum(), withRespectTo: [z])[0]
        }
        #expect(prior.backend === counted && counting.copiesToDevice == copiesBefore)
        #expect(counting.launches(since: launchesBefore)["vae_gaussian_row_log_density"] == 1)
    }

    /// A posterior's log-density (a mean and a log-variance per element, as an importance sample's log q(z|x)): the
    /// host's values and all three gradients, with one kernel each way instead of an operator's launch each.
    @Test func aPosteriorsLogDensityIsOneKernelEachWay() throws {
        let (z, mean, logVariance) = (values([6, 70], seed: 26, in: -2...2), values([6, 70], seed: 27), values([6, 70], seed: 28, in: -3...2))
        for negated in [false, true] {
            expectAgreement("gaussianLogDensity, a posterior's, negated \(negated)", [z, mean, logVariance]) {
                .gaussianLogDensity($0[0], mean: $0[1], logVariance: $0[2], negated: negated)
            }
        }
        let (counting, counted) = try countingBackend()
        let inputs = [z, mean, logVariance].map { $0.moved(to: counted) }
        let before = counting.launchesByKernel
        let tape = GradientTape()
        let gradients = tape.recording {
            let tracked = inputs.map { tape.watch($0) }
            return tape.gradients(of: Tensor.gaussianLogDensity(tracked[0], mean: tracked[1], logVariance: tracked[2]).sum(), withRespectTo: tracked)
        }
        #expect(gradients.allSatisfy { $0.backend === counted })
        let launches = counting.launches(since: before)
        // The sum and its gradient's expansion, the seed's fill, and one kernel each way for the density.
        #expect(launches == ["vae_gaussian_row_log_density": 1, "vae_gaussian_row_log_density_varying_gradient": 1,
                             "vae_sum_all": 1, "vae_fill": 1, "vae_strided_copy": 1], "\(launches)")
    }
}
