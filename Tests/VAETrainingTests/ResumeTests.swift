import Foundation
import TestSupport
import Testing
import VAEFormats
import VAEModels
import VAETensor
@testable import VAETraining

extension ModelComputation {
    /// Exact resume and crash-safe checkpoints, through the library, on a tiny synthetic dataset.
    @Suite(.serialized) struct ResumeTests {
        /// Columns that measure time, the only ones allowed to differ between identical runs.
        static let timingColumns: Set<String> = ["seconds", "images_per_second"]

        /// A 256/64-image dataset of quadrant squares, written once per process.
        static let dataDirectory: String = {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("VAETrainingTests-synthetic-\(getpid())").path
            try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            func bigEndian(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
            for (stem, count) in [("train", 256), ("t10k", 64)] {
                var bytes: [UInt8] = [0, 0, 8, 3] + bigEndian(count) + bigEndian(28) + bigEndian(28)
                var random = RandomStream(seed: 1, name: stem)
                let speckle = random.uniform(count: count * 784)
                for index in 0..<(count * 784) {
                    let (image, pixel) = index.quotientAndRemainder(dividingBy: 784)
                    let quadrant = image % 4, row = pixel / 28, column = pixel % 28
                    let inside = row / 14 == quadrant / 2 && column / 14 == quadrant % 2
                    bytes.append(UInt8((inside ? 160 : 0) + Int(speckle[index] * 90)))
                }
                try! AtomicFile.write(bytes, to: "\(directory)/\(stem)-images-idx3-ubyte")
            }
            return directory
        }()

        /// The `mlp` config on the synthetic data, binarised so the binarization stream matters too.
        func config(epochs: Int) -> RunConfig {
            var config = RunConfig.defaults
            config.data.dataDirectory = Self.dataDirectory
            config.data.batchSize = 64
            config.data.binarize = true
            config.model[NetworkSettings.hiddenSizes] = [64]
            config.model[GaussianLatent.latentSize] = 8
            config.trainer.epochs = epochs
            config.trainer.threads = 2
            config.trainer.pictureCount = 4
            config.experiment.seed = 5
            return config
        }

        private func bytes(_ path: String) throws -> [UInt8] { try AtomicFile.read(path) }

        /// Trains 4 epochs in one go, and 2 then (in a fresh trainer, as after a restart) 2 more.
        @Test func resumedRunMatchesUninterruptedRun() throws {
            let straight = try trainRun(config(epochs: 4), label: "straight")
            defer { removeDirectory(straight.directory) }

            let split = try makeTemporaryDirectory("split")
            defer { removeDirectory(split) }
            try Trainer(config: config(epochs: 2)).run(in: split, report: { _ in })
            let resumed = try Trainer(config: config(epochs: 4))
            let state = try resumed.restore(from: split)
            #expect(state.epoch == 2 && resumed.epoch == 2)
            #expect(resumed.step == 8, "256 images in batches of 64 are 4 steps per epoch")
            var lines: [String] = []
            try resumed.run(in: split, report: { lines.append($0) })
            #expect(lines.count == 2 && lines.first?.hasPrefix("epoch 3/4") == true, "\(lines)")

            let (header, straightRows) = try readMetrics(straight.directory)
            let (_, splitRows) = try readMetrics(split)
            #expect(straightRows.map { $0["epoch"] } == ["1", "2", "3", "4"])
            #expect(splitRows.map { $0["epoch"] } == ["1", "2", "3", "4"])
            for (a, b) in zip(straightRows, splitRows) {
                for column in header where !Self.timingColumns.contains(column) {
                    #expect(a[column] == b[column], "epoch \(a["epoch"] ?? "?") \(column): \(a[column] ?? "-") vs \(b[column] ?? "-")")
                }
            }
            for file in ["model.safetensors", "optimizer.safetensors", "best/model.safetensors"] {
                #expect(try bytes(straight.directory + "/" + file) == bytes(split + "/" + file), "\(file) differs")
            }
            #expect(try Checkpoint.loadState(from: straight.directory) == Checkpoint.loadState(from: split))
            #expect(resumed.step == straight.trainer.step)
        }

        /// What a `kill -9` can leave: the next epoch's files written but not its pointer, a metrics row for an
        /// epoch that was never saved, temporary files. The previous checkpoint loads and resuming works.
        @Test func interruptedSaveKeepsThePreviousCheckpoint() throws {
            let directory = try makeTemporaryDirectory("interrupted")
            defer { removeDirectory(directory) }
            let first = try Trainer(config: config(epochs: 2))
            try first.run(in: directory, report: { _ in })
            let savedWeights = try bytes(directory + "/model.safetensors")

            // Epoch 3's save was cut short: a torn weights file, no optimizer file, checkpoint.json untouched.
            try FileManager.default.createDirectory(atPath: directory + "/checkpoints/epoch-3", withIntermediateDirectories: true)
            try AtomicFile.write(Array(savedWeights.prefix(1000)), to: directory + "/checkpoints/epoch-3/model.safetensors")
            try AtomicFile.write([1, 2, 3], to: directory + "/.checkpoint.json.tmp-99999")
            var metrics = try String(contentsOfFile: directory + "/metrics.csv", encoding: .utf8)
            metrics += "3,1.0,2.0,1.5,0.5,0.1,100.0,0.9,0.1\n"
            try RunDirectory.write(metrics, to: directory + "/metrics.csv")

            let run = try TrainedRun(directory: directory)
            #expect(run.state.epoch == 2)
            #expect(try bytes(directory + "/" + run.state.weightsFile) == savedWeights)

            let resumed = try Trainer(config: config(epochs: 3))
            try resumed.restore(from: directory)
            try resumed.run(in: directory, report: { _ in })
            let rows = try readMetrics(directory).rows
            #expect(rows.map { $0["epoch"] } == ["1", "2", "3"])
            #expect(rows.last?["train_loss"] != "1.000000", "the unsaved epoch-3 row must be replaced")
            #expect(try TrainedRun(directory: directory).state.epoch == 3)
            #expect(!FileManager.default.fileExists(atPath: directory + "/.checkpoint.json.tmp-99999"))

            let straight = try trainRun(config(epochs: 3), label: "interrupted-straight")
            defer { removeDirectory(straight.directory) }
            #expect(try bytes(straight.directory + "/model.safetensors") == bytes(directory + "/model.safetensors"))
        }

        /// `checkpoints/` keeps the last epoch and the best one, `best/` is a run of its own, and the top-level
        /// weights are the last epoch's.
        @Test func keepsLastAndBestCheckpoints() throws {
            let directory = try makeTemporaryDirectory("best")
            defer { removeDirectory(directory) }
            let settings = config(epochs: 3)
            try RunDirectory.write(settings.yaml(), to: directory + "/config.yaml")
            let model = try Factory.model(settings, inputShape: [1, 28, 28])
            let optimizer = try Factory.optimizer(settings)
            func save(epoch: Int, best: Int) throws {
                let weight = model.parameters[0]
                weight.value = Tensor(shape: weight.shape, scalars: [Float](repeating: Float(epoch), count: weight.value.count))
                let state = CheckpointState(model: "mlp", inputShape: [1, 28, 28], epoch: epoch, step: epoch, optimizer: "adam",
                                            learningRate: 0.001, bestTestLoss: 100 - Double(best), bestEpoch: best, random: [:])
                try Checkpoint.save(model: model, optimizer: optimizer, state: state, in: directory)
            }
            func epochFolders() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: directory + "/checkpoints").sorted()
            }
            try save(epoch: 1, best: 1)
            try save(epoch: 2, best: 1)
            #expect(try epochFolders() == ["epoch-1", "epoch-2"])
            #expect(try TrainedRun(directory: directory + "/best").state.epoch == 1)
            #expect(try TrainedRun(directory: directory + "/best").model.parameters[0].value.scalars.allSatisfy { $0 == 1 })
            #expect(try TrainedRun(directory: directory).model.parameters[0].value.scalars.allSatisfy { $0 == 2 })
            try save(epoch: 3, best: 1)
            #expect(try epochFolders() == ["epoch-1", "epoch-3"])
            try save(epoch: 4, best: 4)
            #expect(try epochFolders() == ["epoch-4"])
            #expect(try bytes(directory + "/best/model.safetensors") == bytes(directory + "/model.safetensors"))
            #expect(try TrainedRun(directory: directory + "/best").state.bestEpoch == 4)
            let weights = try SafeTensors.decode(try bytes(directory + "/model.safetensors"), source: "model").metadata
            #expect(weights["epoch"] == "4")
        }

        @Test func restoreRefusesACheckpointOfAnotherShape() throws {
            let directory = try makeTemporaryDirectory("other-model")
            defer { removeDirectory(directory) }
            try Trainer(config: config(epochs: 1)).run(in: directory, report: { _ in })
            var wider = config(epochs: 2)
            wider.model[NetworkSettings.hiddenSizes] = [32]
            let error = try #require(throws: FormatError.self) { try Trainer(config: wider).restore(from: directory) }
            #expect(error.message.contains("checkpoints/epoch-1/model.safetensors: 'encoder.layers.0.weight' has shape [64, 784], the model expects [32, 784]"),
                    "\(error.message)")
            let done = try #require(throws: TrainingError.self) { try Trainer(config: config(epochs: 1)).restore(from: directory) }
            #expect(done.description.contains("already trained 1 epochs"), "\(done.description)")
            let empty = try makeTemporaryDirectory("no-checkpoint")
            defer { removeDirectory(empty) }
            let missing = try #require(throws: TrainingError.self) { try Trainer(config: config(epochs: 2)).restore(from: empty) }
            #expect(missing.description.contains("no checkpoint to resume from"), "\(missing.description)")
        }
    }
}
