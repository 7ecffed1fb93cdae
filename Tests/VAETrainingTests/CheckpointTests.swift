import Foundation
import TestSupport
import Testing
import VAEFormats
import VAEModels
import VAEOptimizers
import VAETensor
@testable import VAETraining

extension ModelComputation {
    /// Saving and loading run directories; no dataset needed: models are built from configs and saved directly.
    @Suite struct CheckpointTests {
        static let inputShape = [1, 28, 28]

        /// A model whose weights come from `seed`'s "init" stream, plus an Adam that has taken one step on it.
        private func makeModel(seed: UInt64) throws -> (model: any VariationalAutoencoder, optimizer: any Optimizer) {
            var config = RunConfig.defaults
            config.experiment.seed = seed
            let model = try Factory.model(config, inputShape: Self.inputShape)
            let optimizer = try Factory.optimizer(config)
            var random = RandomStream(seed: seed, name: "test-gradients")
            optimizer.update(model.parameters, gradients: model.parameters.map { random.normal(shape: $0.shape) })
            return (model, optimizer)
        }

        private func state(model: String = "mlp", epoch: Int) -> CheckpointState {
            CheckpointState(model: model, inputShape: Self.inputShape, epoch: epoch, step: 1, optimizer: "adam",
                            learningRate: 0.001, bestTestLoss: 300.5,
                            random: ["shuffle": SavedStream(RandomStream(seed: 3, name: "shuffle"))])
        }

        /// A run directory whose config.yaml says seed 7 but whose weights come from seed 99, so a loader that
        /// silently kept freshly initialised weights would be caught.
        private func writeRun(modelName: String = "mlp", epoch: Int = 3) throws -> (directory: String, saved: any VariationalAutoencoder) {
            let directory = try makeTemporaryDirectory("checkpoint")
            var config = RunConfig.defaults
            config.experiment.seed = 7
            try RunDirectory.write(config.yaml(), to: directory + "/config.yaml")
            let (model, optimizer) = try makeModel(seed: 99)
            try Checkpoint.save(model: model, optimizer: optimizer, state: state(model: modelName, epoch: epoch), in: directory)
            return (directory, model)
        }

        private func fixedLatents() -> Tensor {
            var random = RandomStream(seed: 5, name: "latents")
            return random.normal(shape: [8, 20])
        }

        @Test func savedWeightsReloadAndDecodeIdentically() throws {
            let (directory, saved) = try writeRun()
            defer { removeDirectory(directory) }
            for file in [Checkpoint.weightsFile, Checkpoint.optimizerFile, Checkpoint.stateFile] {
                #expect(FileManager.default.fileExists(atPath: directory + "/" + file))
            }

            let run = try TrainedRun(directory: directory)
            var expectedState = state(epoch: 3)
            expectedState.weightsFile = "checkpoints/epoch-3/model.safetensors"
            expectedState.optimizerFile = "checkpoints/epoch-3/optimizer.safetensors"
            #expect(run.state == expectedState)
            #expect(run.config.experiment.seed == 7)
            let latents = fixedLatents()
            let reloaded = withoutGradients { run.model.decode(latents).mean.scalars }
            let original = withoutGradients { saved.decode(latents).mean.scalars }
            #expect(reloaded == original)
            var fresh = RunConfig.defaults
            fresh.experiment.seed = 7
            let freshModel = try Factory.model(fresh, inputShape: Self.inputShape)
            #expect(withoutGradients { freshModel.decode(latents).mean.scalars } != original,
                    "seed 7 and seed 99 weights must differ, or this test proves nothing")
            for (name, parameter) in run.model.namedParameters {
                let match = try #require(saved.namedParameters.first { $0.name == name })
                #expect(parameter.value.shape == match.parameter.value.shape)
                #expect(parameter.value.scalars == match.parameter.value.scalars, "\(name) differs after reload")
            }
        }

        @Test func optimizerMomentsRoundTrip() throws {
            let directory = try makeTemporaryDirectory("optimizer")
            defer { removeDirectory(directory) }
            let (model, optimizer) = try makeModel(seed: 4)
            try Checkpoint.save(model: model, optimizer: optimizer, state: state(epoch: 1), in: directory)
            let restored = try Factory.optimizer(RunConfig.defaults)
            try Checkpoint.loadOptimizer(restored, for: model, file: directory + "/optimizer.safetensors", step: optimizer.step)
            #expect(restored.step == 1)
            for slot in optimizer.slotNames {
                for index in model.parameters.indices {
                    let expected = try #require(optimizer.state(slot: slot, parameter: index))
                    #expect(restored.state(slot: slot, parameter: index)?.scalars == expected.scalars)
                }
            }
        }

        @Test func weightsFromAnotherEpochAreRejected() throws {
            let (directory, _) = try writeRun(epoch: 3)
            defer { removeDirectory(directory) }
            let (model, _) = try makeModel(seed: 1)
            let error = try #require(throws: FormatError.self) {
                try Checkpoint.loadWeights(into: model, file: directory + "/model.safetensors", expectedEpoch: 4)
            }
            #expect(error.message.contains(directory + "/model.safetensors"), "\(error.message)")
            #expect(error.message.contains("epoch 3"), "\(error.message)")
            #expect(error.message.contains("says 4"), "\(error.message)")
            try Checkpoint.loadWeights(into: model, file: directory + "/model.safetensors", expectedEpoch: 3)
        }

        /// Rewrites model.safetensors from the saved model's tensors after `change`, then loads it.
        private func loadFailure(_ change: (inout [SafeTensorEntry]) -> Void) throws -> String {
            let (directory, saved) = try writeRun()
            defer { removeDirectory(directory) }
            var entries = saved.stateDictionary.map { SafeTensorEntry(name: $0.name, shape: $0.value.shape, values: $0.value.scalars) }
            change(&entries)
            try AtomicFile.write(try SafeTensors.encode(entries, metadata: [("epoch", "3")]), to: directory + "/model.safetensors")
            let (model, _) = try makeModel(seed: 1)
            let error = try #require(throws: FormatError.self) {
                try Checkpoint.loadWeights(into: model, file: directory + "/model.safetensors", expectedEpoch: 3)
            }
            #expect(error.message.hasPrefix(directory + "/model.safetensors: "), "\(error.message)")
            #expect(!error.message.contains("\n"))
            return error.message
        }

        @Test func missingTensorIsNamed() throws {
            let message = try loadFailure { entries in entries.removeAll { $0.name == "decoder.layers.1.bias" } }
            #expect(message.contains("no tensor 'decoder.layers.1.bias'"), "\(message)")
        }

        @Test func wrongShapeIsNamed() throws {
            let message = try loadFailure { entries in
                let index = entries.firstIndex { $0.name == "encoder.layers.0.weight" }!
                #expect(entries[index].shape == [400, 784])
                entries[index].shape = [784, 400]
            }
            #expect(message.contains("'encoder.layers.0.weight'"), "\(message)")
            #expect(message.contains("[784, 400]") && message.contains("[400, 784]"), "\(message)")
        }

        @Test func unexpectedTensorIsNamed() throws {
            let message = try loadFailure { entries in
                entries.append(SafeTensorEntry(name: "decoder.layers.2.weight", shape: [2], values: [1, 2]))
            }
            #expect(message.contains("unexpected tensor 'decoder.layers.2.weight'"), "\(message)")
        }

        @Test func checkpointForAnotherModelIsRejected() throws {
            let (directory, _) = try writeRun(modelName: "conv")
            defer { removeDirectory(directory) }
            let error = try #require(throws: TrainingError.self) { try TrainedRun(directory: directory) }
            #expect(error.description.contains(directory), "\(error.description)")
            #expect(error.description.contains("'conv'") && error.description.contains("'mlp'"), "\(error.description)")
        }

        @Test func directoryWithoutCheckpointIsNotARun() throws {
            let directory = try makeTemporaryDirectory("not-a-run")
            defer { removeDirectory(directory) }
            try RunDirectory.write(RunConfig.defaults.yaml(), to: directory + "/config.yaml")
            let error = try #require(throws: TrainingError.self) { try TrainedRun(directory: directory) }
            #expect(error.description.contains("checkpoint.json"), "\(error.description)")
            let missing = try #require(throws: TrainingError.self) { try TrainedRun(directory: directory + "/absent") }
            #expect(missing.description.contains(directory + "/absent"), "\(missing.description)")
        }

        @Test func corruptCheckpointJSONNamesTheFile() throws {
            let (directory, _) = try writeRun()
            defer { removeDirectory(directory) }
            try RunDirectory.write("{\"format\": \"vaekit-checkpoint-1\"", to: directory + "/checkpoint.json")
            let error = try #require(throws: FormatError.self) { try TrainedRun(directory: directory) }
            #expect(error.message.hasPrefix(directory + "/checkpoint.json: not a VAEKit checkpoint"), "\(error.message)")
        }
    }
}
