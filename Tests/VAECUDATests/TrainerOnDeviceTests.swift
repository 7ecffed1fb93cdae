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
    @Test func anEpochOnTheDeviceMatchesTheCPU() throws {
        var config = RunConfig.defaults
        (config.data.trainLimit, config.data.testLimit, config.data.batchSize) = (256, 64, 64)
        (config.trainer.epochs, config.trainer.threads, config.trainer.pictureCount) = (1, 1, 4)
        config.model[NetworkSettings.hiddenSizes] = [32]
        config.model[GaussianLatent.latentSize] = 2
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
        let caching = CachingDevice(EmulatedDevice(try KernelEmulator.shared.get()))
        let backend = CUDABackend(ops: DeviceOps(device: caching, blockSize: 64, maximumBlocks: 2))
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
}
