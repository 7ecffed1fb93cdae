import Foundation
import TestSupport
import Testing
import VAETensor
@testable import VAETraining

@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
struct NonFiniteGuardTests {
    /// One thread (one tape) and two (a data-parallel step of two shards).
    @Test(arguments: [1, 2])
    func nonFiniteLossStopsTrainingAndKeepsTheLastCheckpoint(threads: Int) throws {
        var config = RunConfig.defaults
        config.data.trainLimit = 512
        config.data.testLimit = 200
        config.trainer.epochs = 2
        config.trainer.threads = threads
        let directory = try makeTemporaryDirectory("nan-guard")
        defer { removeDirectory(directory) }

        let trainer = try Trainer(config: config)
        var savedWeights: Data?
        let error = #expect(throws: TrainingError.self) {
            try trainer.run(in: directory, report: { _ in
                // After epoch 1 is saved, poison one weight: epoch 2's first step must stop the run.
                savedWeights = FileManager.default.contents(atPath: directory + "/model.safetensors")
                let weight = trainer.model.parameters[0]
                var values = weight.value.scalars
                values[0] = .nan
                weight.value = Tensor(shape: weight.shape, scalars: values)
            })
        }
        let message = try #require(error).description
        #expect(message.contains("step \(trainer.step + 1)"))
        #expect(message.contains("epoch 2"))
        #expect(message.contains("nan"))
        #expect(message.contains("--learning-rate"))
        #expect(!message.contains("\n"))

        // The epoch-1 checkpoint is untouched and loads.
        #expect(FileManager.default.contents(atPath: directory + "/model.safetensors") == savedWeights)
        let state = try Checkpoint.loadState(from: directory)
        #expect(state.epoch == 1)
        let run = try TrainedRun(directory: directory)
        #expect(run.model.parameters[0].value.isFinite)
    }
}
