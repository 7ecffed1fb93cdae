import Foundation
import Testing
import TestSupport
import VAEData
import VAEModels
import VAETensor
@testable import VAETraining

/// A dataset that is not images: vectors of 6 values, two factors each, no pictures. Stands for the text and
/// dSprites datasets to come: the trainer, checkpoints and evaluation must take it without knowing its type.
private struct FactorVectors: Dataset {
    let count: Int
    let source = "factor-vectors"
    var exampleShape: [Int] { [6] }
    var pictureShape: [Int]? { nil }
    var labels: [Int] { [] }
    var classNames: [String] { [] }
    var factorNames: [String] { ["a", "b"] }
    var factors: [Int] { (0..<count).flatMap { [$0 % 3, $0 % 2] } }
    var valueRange: ClosedRange<Float>? { 0...1 }

    /// Example i: the two factors, one-hot over 3 and 2 values, plus a constant.
    func batch(_ indices: some Collection<Int>, augmentation: inout BatchAugmentation) -> Tensor {
        let rows = indices.flatMap { index -> [Float] in
            var row = [Float](repeating: 0, count: 6)
            row[index % 3] = 1
            row[3 + index % 2] = 1
            row[5] = 1
            return row
        }
        return Tensor(shape: [indices.count, 6], scalars: rows)
    }
}

extension ModelComputation {
    @Suite struct DatasetProtocolTests {
        @Test func trainerTakesAnyDataset() throws {
            var config = RunConfig.defaults
            config.model[NetworkSettings.hiddenSizes] = [8]
            config.model[GaussianLatent.latentSize] = 2
            config.trainer.epochs = 2
            let trainer = try Trainer(config: config, train: FactorVectors(count: 240), test: FactorVectors(count: 60))
            let directory = try makeTemporaryDirectory("factor-vectors")
            defer { removeDirectory(directory) }
            var lines: [String] = []
            try trainer.run(in: directory, report: { lines.append($0) })
            #expect(lines.count == 2)
            let (_, rows) = try readMetrics(directory)
            let losses = try rows.map { try number($0, "test_loss") }
            #expect(losses[1] < losses[0], "the test loss falls: \(losses)")
            // The checkpoint reloads with the example shape, and no image pictures were drawn.
            let run = try TrainedRun(directory: directory)
            #expect(run.state.inputShape == [6])
            #expect(!FileManager.default.fileExists(atPath: directory + "/samples.png"))
        }

        @Test func testExamplesOfAnotherShapeAreAClearError() throws {
            let images = ImageDataset(images: .zeros([4, 6]), labels: [], imageShape: [1, 2, 3], source: "images")
            let error = #expect(throws: TrainingError.self) {
                try Trainer(config: .defaults, train: FactorVectors(count: 8), test: images)
            }
            #expect(error?.description == "images: test examples are [1, 2, 3] but training examples (factor-vectors) are [6]")
        }
    }
}
