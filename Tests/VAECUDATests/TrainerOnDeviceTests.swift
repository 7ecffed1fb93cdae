import Foundation
import Testing
import TestSupport
import VAECUDA
import VAEModels
import VAETensor
import VAETraining

/// `Trainer` with a ``CUDABackend`` (the emulated device), as `vae train --device cuda` runs it: the same epoch
/// losses as on the CPU, and a run directory whose checkpoint and pictures are written from the device's values.
@Suite(.serialized, .enabled(if: emulatorAvailable && hasFashionMNIST, "needs a C++ compiler and Fashion-MNIST"))
struct TrainerOnDeviceTests {
    /// The default `mlp` run, small: 256 training and 64 test images, latent size 2, 4 pictures, one thread.
    static func smallRun(batchSize: Int, epochs: Int, hidden: Int) -> RunConfig {
        var config = RunConfig.defaults
        (config.data.trainLimit, config.data.testLimit, config.data.batchSize) = (256, 64, batchSize)
        (config.trainer.epochs, config.trainer.threads, config.trainer.pictureCount) = (epochs, 1, 4)
        config.model[NetworkSettings.hiddenSizes] = [hidden]
        config.model[GaussianLatent.latentSize] = 2
        return config
    }

    @Test func anEpochOnTheDeviceMatchesTheCPU() throws {
        var config = Self.smallRun(batchSize: 64, epochs: 1, hidden: 32)
        config.experiment.seed = 7

        func train(on backend: CUDABackend?) throws -> (metrics: EpochMetrics, directory: String, trainer: Trainer) {
            let directory = try makeTemporaryDirectory("device-trainer")
            let trainer = try Trainer(config: config)
            trainer.backend = backend
            var metrics: EpochMetrics?
            try trainer.run(in: directory, report: { _ in }, epochMetrics: { metrics = $0 })
            return (metrics!, directory, trainer)
        }
        // Through the caching allocator, as `vae train --device cuda` runs.
        let (caching, backend) = try emulatedCachingBackend()
        let cpu = try train(on: nil)
        let device = try train(on: backend)
        defer { removeDirectory(cpu.directory); removeDirectory(device.directory) }
        #expect(backend.failure == nil)
        #expect(caching.reuses > caching.deviceAllocations, "\(caching.reuses) reuses, \(caching.deviceAllocations) allocations")
        #expect(device.trainer.model.parameters.allSatisfy { $0.value.backend === backend })
        for (name, d, c) in [("train", device.metrics.trainLoss, cpu.metrics.trainLoss), ("test", device.metrics.testLoss, cpu.metrics.testLoss),
                             ("kl", device.metrics.kl, cpu.metrics.kl)] {
            #expect(abs(d - c) <= 1e-4 * max(1, abs(c)), "\(name) loss \(d) on the device, \(c) on the CPU")
        }
        // The importance-weighted NLL of the trained models (`vae eval --device cuda`): the same estimate, all on the device.
        let images = device.trainer.testImages.slice(0..<16)
        func nll(_ trainer: Trainer) -> Double {
            var noise = RandomStream(seed: 9, name: "importance")
            return Evaluator(model: trainer.model, labels: [], batchSize: 64, threads: 1).negativeLogLikelihood(images, samples: 40, noise: &noise)
        }
        let fallbacks = backend.hostFallbacks
        let (deviceNLL, cpuNLL) = (nll(device.trainer), nll(cpu.trainer))
        #expect(abs(deviceNLL - cpuNLL) <= 1e-4 * abs(cpuNLL), "NLL \(deviceNLL) on the device, \(cpuNLL) on the CPU")
        #expect(backend.hostFallbacks == fallbacks, "the NLL ran ops on the host: \(backend.hostFallbacks)")
        for file in ["model.safetensors", "optimizer.safetensors", "checkpoint.json", "samples.png", "reconstructions.png"] {
            #expect(FileManager.default.fileExists(atPath: device.directory + "/" + file), "\(file) was not written")
        }
    }

    /// The importance-weighted NLL's blocks (here one image of 10 samples each, 70 blocks) come back from the device
    /// up to `Evaluator.boundsPerCopy` at a time, not one copy per block (each copy waits for the device's queue), and
    /// give the CPU's estimate.
    @Test func theNLLsBlocksComeBackTogether() throws {
        let (caching, backend) = try emulatedCachingBackend()
        var random = RandomStream(seed: 1, name: "init")
        let model = try ModelRegistry.make(tinyMLP, random: &random)
        var pixels = RandomStream(seed: 2, name: "images")
        let images = pixels.uniform(shape: [70, 16], in: 0...1)
        func nll(_ images: Tensor) -> Double {
            var noise = RandomStream(seed: 9, name: "importance")
            return Evaluator(model: model, labels: [], batchSize: 64, threads: 1).negativeLogLikelihood(images, samples: 10, noise: &noise, chunk: 10)
        }
        let cpu = nll(images)
        model.move(to: backend)
        let before = caching.copiesToHost
        let device = nll(images.moved(to: backend))
        #expect(caching.copiesToHost - before == 2, "\(caching.copiesToHost - before) copies back for 70 blocks")
        #expect(abs(device - cpu) <= 1e-4 * abs(cpu), "NLL \(device) on the device, \(cpu) on the CPU")
    }

    /// A batch's loss, its terms and whether every gradient is finite come back in one copy (a copy waits for the
    /// device), and nothing is copied to it (the tape's seed is set there), the values as the CPU's; a non-finite
    /// gradient is still found, by index.
    @Test func aBatchCopiesBackOnceAndStillFindsANonFiniteGradient() throws {
        let (caching, backend) = try emulatedCachingBackend()
        func model(on device: CUDABackend?) throws -> any VariationalAutoencoder {
            var random = RandomStream(seed: 1, name: "init")
            let model = try ModelRegistry.make(tinyMLP, random: &random)
            if let device { model.move(to: device) }
            return model
        }
        var data = RandomStream(seed: 2, name: "x")
        let images = data.uniform(shape: [6, 16])
        func batch(_ model: any VariationalAutoencoder, _ input: Tensor) -> BatchGradients {
            var noise = RandomStream(seed: 3, name: "noise")
            return BatchGradients(model: model, input: input, labels: nil, noise: &noise, step: 0, shards: 1)
        }
        let (cpuModel, deviceModel) = (try model(on: nil), try model(on: backend))
        let cpu = batch(cpuModel, images)
        let input = images.moved(to: backend)
        let (copies, uploads) = (caching.copiesToHost, caching.copiesToDevice)
        let device = batch(deviceModel, input)
        #expect(caching.copiesToHost - copies == 1, "\(caching.copiesToHost - copies) copies back for one batch")
        #expect(caching.copiesToDevice == uploads, "\(caching.copiesToDevice - uploads) copies to the device for one batch")
        #expect(abs(device.loss - cpu.loss) <= 1e-5 * max(1, abs(cpu.loss)), "loss \(device.loss) vs \(cpu.loss)")
        #expect(device.terms.map(\.name) == cpu.terms.map(\.name))
        for ((name, d), (_, c)) in zip(device.terms, cpu.terms) { #expect(abs(d - c) <= 1e-5 * max(1, abs(c)), "\(name): \(d) vs \(c)") }
        #expect(device.nonFiniteGradient == nil && cpu.nonFiniteGradient == nil)

        // A weight of ∞ in the decoder's last layer: its gradient (and those after it) are not finite on both.
        let parameters = deviceModel.parameters
        let last = parameters.lastIndex { $0.shape.count == 2 }!
        for model in [cpuModel, deviceModel] {
            let parameter = model.parameters[last]
            var poisoned = parameter.value.scalars
            poisoned[0] = .infinity
            parameter.value = Tensor(shape: parameter.shape, scalars: poisoned)
        }
        let (cpuBad, deviceBad) = (batch(cpuModel, images), batch(deviceModel, input))
        #expect(cpuBad.nonFiniteGradient != nil && deviceBad.nonFiniteGradient == cpuBad.nonFiniteGradient,
                "first non-finite gradient \(String(describing: deviceBad.nonFiniteGradient)) on the device, \(String(describing: cpuBad.nonFiniteGradient)) on the CPU")
        #expect(backend.failure == nil)
    }
}

extension TrainerOnDeviceTests {
    /// The training examples go to the device once: an epoch after the first copies there only its order, not one
    /// batch per step; and the losses are the CPU's (the batches are the same rows, binarised and mirrored by the
    /// same draws).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func trainingExamplesStayOnTheDevice(flipping: Bool, binarizing: Bool) throws {
        var config = Self.smallRun(batchSize: 32, epochs: 2, hidden: 16)
        (config.data.horizontalFlip, config.data.binarize) = (flipping, binarizing)
        let (caching, backend) = try emulatedCachingBackend()
        var losses: [[Double]] = [[], []]
        var copiesAfterEpoch: [Int] = []
        for (index, device) in [nil, backend].enumerated() {
            let directory = try makeTemporaryDirectory("device-examples")
            defer { removeDirectory(directory) }
            let trainer = try Trainer(config: config)
            trainer.backend = device
            try trainer.run(in: directory, report: { _ in }, epochMetrics: { metrics in
                losses[index].append(metrics.trainLoss)
                if device != nil { copiesAfterEpoch.append(caching.copiesToDevice) }
            })
        }
        #expect(backend.failure == nil)
        for (d, c) in zip(losses[1], losses[0]) { #expect(abs(d - c) <= 1e-4 * abs(c), "train loss \(d) on the device, \(c) on the CPU") }
        // Epoch 2: only its order, where a copy per batch was 8, and the test −ELBO's host images were copied 3 times.
        #expect(copiesAfterEpoch.count == 2 && copiesAfterEpoch[1] - copiesAfterEpoch[0] == 1, "copies to the device after each epoch: \(copiesAfterEpoch)")
    }
}

extension TrainerOnDeviceTests {
    /// The examples (256 training and 64 test images: 1 MB) go to the device when a quarter of its free memory holds
    /// them: with 8 MB free an epoch after the first copies its order alone; with 2 MB each batch is copied.
    @Test func theExamplesStayWhenAQuarterOfTheFreeMemoryHoldsThem() throws {
        final class Limited: ForwardingDevice {
            let free: Int
            init(_ base: EmulatedDevice, free: Int) {
                self.free = free
                super.init(base)
            }
            override var name: String { "limited" }
            override var availableBytes: Int? { free }
        }
        let config = Self.smallRun(batchSize: 32, epochs: 2, hidden: 16)
        var copiesInSecondEpoch: [Int] = [], kept: [Bool?] = []
        for free in [8 << 20, 2 << 20] {
            let caching = CachingDevice(Limited(EmulatedDevice(try KernelEmulator.shared.get()), free: free))
            #expect(caching.availableBytes == free)
            let backend = CUDABackend(ops: DeviceOps(device: caching, blockSize: 64, maximumBlocks: 2))
            let directory = try makeTemporaryDirectory("device-limited")
            defer { removeDirectory(directory) }
            let trainer = try Trainer(config: config)
            trainer.backend = backend
            var copies: [Int] = []
            try trainer.run(in: directory, report: { _ in }, epochMetrics: { _ in copies.append(caching.copiesToDevice) })
            #expect(backend.failure == nil)
            copiesInSecondEpoch.append(copies[1] - copies[0])
            kept.append(trainer.examplesKeptOnDevice)
        }
        #expect(copiesInSecondEpoch[0] == 1 && copiesInSecondEpoch[1] >= 8, "copies to the device in epoch 2: \(copiesInSecondEpoch)")
        #expect(kept == [true, false])
        #expect(try Trainer(config: config).examplesKeptOnDevice == nil, "on the CPU")
    }
}

/// `vae bench --device cuda`'s GEMM peak: products on the device (one to warm up, 10 timed), each pass ended by
/// reading back one sum, the operands copied there once.
@Test(.enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
func theDevicePeakTimesProductsOnTheDevice() throws {
    let (caching, backend) = try emulatedCachingBackend()
    let rate = Benchmark.devicePeakGFLOPs(backend, side: 40)
    #expect(rate > 0 && rate.isFinite)
    #expect(backend.failure == nil)
    #expect((caching.gemms, caching.copiesToDevice, caching.copiesToHost) == (11, 2, 2))
}
