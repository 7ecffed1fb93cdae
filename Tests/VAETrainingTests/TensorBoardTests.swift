import Foundation
import TestSupport
import Testing
import VAEFormats
import VAEModels
import VAETensor
@testable import VAETraining

/// Reads a run's event files with TensorBoard's own reader and prints what it holds as JSON: every scalar series
/// (step, value), the images' (step, width, height) and the histograms' (step, count).
private let readEvents = """
import json, sys
from tensorboard.backend.event_processing import event_accumulator as ea
acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0, ea.IMAGES: 0, ea.HISTOGRAMS: 0})
acc.Reload()
tags = acc.Tags()
print(json.dumps({
    "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]},
    "images": {t: [[e.step, e.width, e.height] for e in acc.Images(t)] for t in tags["images"]},
    "histograms": {t: [[e.step, e.histogram_value.num] for e in acc.Histograms(t)] for t in tags["histograms"]},
}))
"""

private struct Events: Decodable {
    var scalars: [String: [[Double]]]
    var images: [String: [[Int]]]
    var histograms: [String: [[Double]]]

    func steps(_ tag: String) -> [Int] { (scalars[tag] ?? []).map { Int($0[0]) } }
    func values(_ tag: String) -> [Double] { (scalars[tag] ?? []).map { $0[1] } }
}

extension ModelComputation {
    @Suite(.serialized) struct TensorBoardTests {
        /// The standard check value of CRC-32C, and a frame's layout.
        @Test func checksumAndFrameFollowTFRecord() {
            #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
            let frame = TensorBoardEvent.record([1, 2, 3])
            #expect(frame.count == 8 + 4 + 3 + 4)
            #expect(Array(frame[0..<8]) == [3, 0, 0, 0, 0, 0, 0, 0])
            #expect(Array(frame[12..<15]) == [1, 2, 3])
        }

        private func read(_ directory: String) throws -> Events {
            let result = try runPython(readEvents, [directory])
            #expect(result.status == 0, "\(result.standardError)")
            return try JSONDecoder().decode(Events.self, from: Data(result.standardOutput.utf8))
        }

        private func config(epochs: Int) -> RunConfig {
            var config = ResumeTests().config(epochs: epochs)
            config.trainer.pictureEvery = 1
            return config
        }

        /// TensorBoard's reader finds a value per step for each training term, the test terms of metrics.csv per
        /// epoch, the sample and reconstruction grids of every epoch, and the posterior-mean histograms.
        @Test(.enabled(if: pythonHas("tensorboard"), "pip install tensorboard to read the event files"))
        func tensorBoardReadsWhatMetricsCSVHolds() throws {
            let run = try trainRun(config(epochs: 2), label: "tensorboard")
            defer { removeDirectory(run.directory) }
            let events = try read(run.directory)
            let steps = run.trainer.step
            #expect(steps == 8)
            for tag in ["loss/train", "train/reconstruction", "train/kl", "train/learning_rate"] {
                #expect(events.steps(tag) == Array(1...steps), "\(tag)")
            }
            #expect(events.values("train/learning_rate").allSatisfy { abs($0 - 1e-3) < 1e-9 })
            let (_, rows) = try readMetrics(run.directory)
            #expect(events.steps("loss/test") == [4, 8])
            for (index, row) in rows.enumerated() {
                for (tag, column) in [("loss/test", "test_loss"), ("test/kl", "kl"), ("loss/train_epoch", "train_loss")] {
                    let expected = try number(row, column)
                    #expect(abs(events.values(tag)[index] - expected) <= 1e-5 * max(1, abs(expected)), "\(tag) epoch \(index + 1)")
                }
            }
            for tag in ["pictures/samples", "pictures/reconstructions"] {
                // Each epoch's pictures, and the final ones at the last step again.
                #expect(events.images[tag]?.map { $0[0] } == [4, 8], "\(tag): \(events.images[tag] ?? [])")
            }
            #expect(events.histograms.count == 8, "one per latent dimension")
            #expect(events.histograms["posterior_mean/dim_00"]?.map { $0[1] } == [64, 64], "the 64 test images, each epoch")
        }

        /// The KL warm-up's weight at each step's loss: step s (from 1) used weight (s − 1) / warmup_steps.
        @Test(.enabled(if: pythonHas("tensorboard"), "pip install tensorboard to read the event files"))
        func scheduleValuesAreLoggedPerStep() throws {
            var warmup = config(epochs: 1)
            warmup.model.name = "warmup-vae"
            warmup.model[WarmupObjective.stepsSetting] = 4
            let run = try trainRun(warmup, label: "tensorboard-schedule")
            defer { removeDirectory(run.directory) }
            let events = try read(run.directory)
            #expect(events.steps("schedule/kl_weight") == [1, 2, 3, 4])
            #expect(events.values("schedule/kl_weight") == [0, 0.25, 0.5, 0.75])
        }

        /// A run resumed from its epoch-1 checkpoint after the process died mid-epoch: what the dead process
        /// logged after the checkpoint is dropped by the reader, and every step appears once, with the resumed
        /// run's values. A file cut mid-record still reads up to the cut.
        @Test(.enabled(if: pythonHas("tensorboard"), "pip install tensorboard to read the event files"))
        func resumedRunLogsEachStepOnceAndACutFileStillReads() throws {
            let directory = try makeTemporaryDirectory("tensorboard-resume")
            defer { removeDirectory(directory) }
            try Trainer(config: config(epochs: 1)).run(in: directory, report: { _ in })
            // What an interrupted epoch 2 would have left: steps 5 and 6 logged, no checkpoint.
            let orphan = try TensorBoardEventFile(directory: directory)
            for step in [5, 6] { try orphan.write(TensorBoardEvent.scalars([("loss/train", 12345)], step: step, wallTime: 0)) }
            let resumed = try Trainer(config: config(epochs: 2))
            try resumed.restore(from: directory)
            try resumed.run(in: directory, report: { _ in })
            let events = try read(directory)
            #expect(events.steps("loss/train") == Array(1...8))
            #expect(!events.values("loss/train").contains(12345))

            let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("tfevents") }
            #expect(files.count == 3, "\(files)")
            let cut = try makeTemporaryDirectory("tensorboard-cut")
            defer { removeDirectory(cut) }
            let first = try #require(files.sorted().first)
            let bytes = try AtomicFile.read(directory + "/" + first)
            try AtomicFile.write(Array(bytes.dropLast(7)), to: cut + "/" + first)
            let truncated = try read(cut)
            #expect(truncated.steps("loss/train") == Array(1...4), "every record before the cut")
        }
    }
}
