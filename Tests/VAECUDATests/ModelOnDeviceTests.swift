import Testing
import VAECUDA
import VAEModels
import VAENN
import VAEOptimizers
import VAETensor

/// Models of the registry, unchanged, with their parameters and batch on a ``CUDABackend`` (the emulated device):
/// the loss and every parameter's gradient as on the CPU.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct ModelOnDeviceTests {
    let backend: CUDABackend
    init() throws {
        backend = CUDABackend(ops: DeviceOps(device: EmulatedDevice(try KernelEmulator.shared.get()), blockSize: 64, maximumBlocks: 2))
    }

    func expectSameStep(_ specification: ModelSpecification, rows: Int) throws {
        var random = RandomStream(seed: 1, name: "init")
        let model = try ModelRegistry.make(specification, random: &random)
        var data = RandomStream(seed: 2, name: "x")
        let images = data.uniform(shape: [rows, specification.inputSize])
        func step(_ input: Tensor) -> (Tensor, [Tensor]) {
            let context = LossContext(noise: RandomStream(seed: 3, name: "noise"), step: 0)
            return model.valueWithGradients { model.loss(input, context: context).total }
        }
        let (cpuLoss, cpuGradients) = step(images)
        model.move(to: backend)
        #expect(model.parameters.allSatisfy { $0.value.backend === backend })
        let (loss, gradients) = step(images.moved(to: backend))
        #expect(loss.backend === backend, "\(specification.name): the loss is not on the device")
        #expect(abs(loss.scalar - cpuLoss.scalar) <= 1e-5 * max(1, abs(cpuLoss.scalar)), "\(specification.name): loss \(loss.scalar) vs \(cpuLoss.scalar)")
        for ((name, _), (device, cpu)) in zip(model.namedParameters, zip(gradients, cpuGradients)) {
            #expect(device.backend === backend, "\(name)'s gradient is not on the device")
            let worst = zip(device.scalars, cpu.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst <= 1e-5, "\(specification.name): \(name)'s gradient differs by \(worst)")
        }
        model.move(to: nil)
        #expect(model.parameters.allSatisfy { $0.value.backend == nil })
    }

    /// Three Adam steps of the MLP model on each: the weights and Adam's moments stay within rounding of the CPU's.
    @Test func adamStepsOnTheDeviceFollowTheCPU() throws {
        let specification = tinyMLP
        func train(on device: (any TensorBackend)?) throws -> (model: any VariationalAutoencoder, adam: Adam, losses: [Float]) {
            var random = RandomStream(seed: 1, name: "init")
            let model = try ModelRegistry.make(specification, random: &random)
            model.move(to: device)
            let adam = Adam(learningRate: 0.01)
            var data = RandomStream(seed: 2, name: "x")
            var losses: [Float] = []
            for step in 0..<3 {
                let images = data.uniform(shape: [6, specification.inputSize]).moved(to: device)
                let context = LossContext(noise: RandomStream(seed: 3, name: "noise").named("\(step)"), step: step)
                let (loss, gradients) = model.valueWithGradients { model.loss(images, context: context).total }
                adam.update(model.parameters, gradients: gradients)
                losses.append(loss.scalar)
            }
            return (model, adam, losses)
        }
        let (cpu, device) = (try train(on: nil), try train(on: backend))
        #expect(backend.failure == nil)
        for (step, (d, c)) in zip(device.losses, cpu.losses).enumerated() {
            #expect(abs(d - c) <= 1e-5 * max(1, abs(c)), "step \(step): loss \(d) vs \(c)")
        }
        for (index, ((name, parameter), cpuParameter)) in zip(device.model.namedParameters, cpu.model.parameters).enumerated() {
            #expect(parameter.value.backend === backend, "\(name) left the device")
            let pairs = [(parameter.value, cpuParameter.value, "weights")] + ["exp_avg", "exp_avg_sq"].map {
                (device.adam.state(slot: $0, parameter: index)!, cpu.adam.state(slot: $0, parameter: index)!, $0)
            }
            for (d, c, what) in pairs {
                let worst = zip(d.scalars, c.scalars).map { abs($0 - $1) / max(1e-3, abs($1)) }.max() ?? 0
                #expect(worst <= 1e-4, "\(name)'s \(what) differ by \(worst)")
            }
        }
    }

    /// Through the caching allocator, a step's temporaries are the blocks the step before it freed: once the first
    /// steps have filled the cache (and made Adam's moments), a step takes no new memory from the device.
    @Test func stepsAfterTheFirstReuseTheirMemory() throws {
        let (caching, cached) = try emulatedCachingBackend()
        var random = RandomStream(seed: 1, name: "init")
        let model = try ModelRegistry.make(tinyMLP, random: &random)
        model.move(to: cached)
        let adam = Adam()
        var allocations: [Int] = []
        for step in 0..<3 {
            var data = RandomStream(seed: 2, name: "x")
            let images = data.uniform(shape: [6, 16]).moved(to: cached)
            let context = LossContext(noise: RandomStream(seed: 3, name: "noise"), step: step)
            let (_, gradients) = model.valueWithGradients { model.loss(images, context: context).total }
            adam.update(model.parameters, gradients: gradients)
            allocations.append(caching.deviceAllocations)
        }
        #expect(allocations[2] == allocations[1], "the third step allocated: \(allocations)")
        // Three GEMMs per linear layer and step (forward, and the gradients of its input and weight), but the first
        // layer's: the data needs no gradient.
        let layers = model.parameters.filter { $0.shape.count == 2 }.count
        #expect(caching.gemms == 3 * (3 * layers - 1) && caching.launches > caching.gemms, "\(caching.gemms) GEMMs for \(layers) layers")
        // 2·m·n·k each: a layer's forward product and its two gradients are 2·rows·inputs·outputs each.
        let products = model.parameters.filter { $0.shape.count == 2 }.map { 2 * 6 * $0.shape[0] * $0.shape[1] }
        #expect(caching.gemmOperations == 3 * (3 * products.reduce(0, +) - products[0]), "\(caching.gemmOperations) GEMM operations")
        #expect(caching.workSummary.contains("\(caching.launches) kernel launches, \(caching.gemms) GEMMs ("))
        #expect(cached.failure == nil)
    }

    /// SGD with momentum and weight decay, and Adagrad: three steps of the MLP model on each, the weights and the
    /// optimiser's state within rounding of the CPU's, with nothing on host copies.
    @Test(arguments: ["sgd", "adagrad"]) func oneSlotOptimisersOnTheDevice(_ name: String) throws {
        let specification = tinyMLP
        let slot = name == "sgd" ? "momentum_buffer" : "sum"
        func train(on device: (any TensorBackend)?) throws -> (model: any VariationalAutoencoder, optimizer: MomentOptimizer) {
            var random = RandomStream(seed: 1, name: "init")
            let model = try ModelRegistry.make(specification, random: &random)
            model.move(to: device)
            let optimizer: MomentOptimizer & Optimizer = name == "sgd" ? SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 0.01)
                : Adagrad(learningRate: 0.05, weightDecay: 0.01)
            var data = RandomStream(seed: 2, name: "x")
            for step in 0..<3 {
                let images = data.uniform(shape: [6, specification.inputSize]).moved(to: device)
                let context = LossContext(noise: RandomStream(seed: 3, name: "noise").named("\(step)"), step: step)
                let (_, gradients) = model.valueWithGradients { model.loss(images, context: context).total }
                optimizer.update(model.parameters, gradients: gradients)
            }
            return (model, optimizer)
        }
        let before = backend.hostFallbacks
        let (cpu, device) = (try train(on: nil), try train(on: backend))
        #expect(backend.failure == nil && backend.hostFallbacks == before, "\(backend.hostFallbacks)")
        for (index, ((parameterName, parameter), cpuParameter)) in zip(device.model.namedParameters, cpu.model.parameters).enumerated() {
            #expect(parameter.value.backend === backend, "\(parameterName) left the device")
            for (d, c, what) in [(parameter.value, cpuParameter.value, "weights"),
                                 (device.optimizer.state(slot: slot, parameter: index)!, cpu.optimizer.state(slot: slot, parameter: index)!, slot)] {
                let worst = zip(d.scalars, c.scalars).map { abs($0 - $1) / max(1e-3, abs($1)) }.max() ?? 0
                #expect(worst <= 1e-4, "\(name): \(parameterName)'s \(what) differ by \(worst)")
            }
        }
    }

    /// Gradient clipping (the text models clip at 5) stays on the device: the norm read back once, the scaling there.
    @Test func clippingGradientsOnTheDevice() {
        var stream = RandomStream(seed: 7, name: "gradients")
        let host = [stream.uniform(shape: [3, 4], in: -2...2), stream.uniform(shape: [5], in: -2...2), stream.uniform(shape: [2, 2], in: -2...2)]
        let before = backend.hostFallbacks
        for maxNorm: Float in [2, 100] {
            var (cpu, device) = (host, host.map { $0.moved(to: backend) })
            let (cpuNorm, deviceNorm) = (clipGradientNorm(&cpu, maxNorm: maxNorm), clipGradientNorm(&device, maxNorm: maxNorm))
            #expect(abs(deviceNorm - cpuNorm) <= 1e-6 * cpuNorm, "norm \(deviceNorm) vs \(cpuNorm)")
            for (d, c) in zip(device, cpu) {
                #expect(d.backend === backend)
                #expect(zip(d.scalars, c.scalars).allSatisfy { abs($0 - $1) <= 1e-6 }, "clipped at \(maxNorm)")
            }
        }
        #expect(backend.hostFallbacks == before, "ran on the host: \(backend.hostFallbacks)")
    }

    @Test func theGaussianMLPModel() throws {
        try expectSameStep(tinyMLP, rows: 6)
    }

    /// The Keras-style conv model: strided convolutions down, transposed convolutions up.
    @Test func theConvModel() throws {
        try expectSameStep(ModelSpecification(name: "conv", inputShape: [1, 8, 8], settings: ["hidden_sizes": [4, 6], "latent_size": 2, "dense_size": 8]),
                           rows: 3)
        #expect(backend.hostFallbacks.isEmpty, "ran on the host: \(backend.hostFallbacks)")
    }
}
