import Foundation
import TestSupport
import Testing
@testable import VAETraining

/// Every suite that computes with a model runs inside this one, one test at a time: the BLAS thread count is
/// process-wide (each Trainer sets it), and training tests sharing two cores would only slow each other down.
/// `concurrentTrainersMatchSequentialOnes` checks on purpose that concurrent trainers stay independent.
@Suite(.serialized) enum ModelComputation {}

/// The default `mlp` config on a slice of Fashion-MNIST.
func smallConfig(trainLimit: Int, testLimit: Int, epochs: Int, seed: UInt64) -> RunConfig {
    var config = RunConfig.defaults
    config.data.trainLimit = trainLimit
    config.data.testLimit = testLimit
    config.trainer.epochs = epochs
    config.trainer.threads = 2
    config.trainer.pictureCount = 16
    config.experiment.seed = seed
    return config
}

/// Trains `config` into a new directory; returns the trainer,
/// the directory and the epoch lines reported.
func trainRun(_ config: RunConfig, label: String) throws -> (trainer: Trainer, directory: String, lines: [String]) {
    let directory = try makeTemporaryDirectory(label)
    do {
        let trainer = try Trainer(config: config)
        var lines: [String] = []
        try trainer.run(in: directory, report: { lines.append($0) })
        return (trainer, directory, lines)
    } catch {
        removeDirectory(directory)
        throw error
    }
}

/// metrics.csv as its header and one dictionary per row, column name → text.
func readMetrics(_ directory: String) throws -> (header: [String], rows: [[String: String]]) {
    let lines = try String(contentsOfFile: directory + "/metrics.csv", encoding: .utf8)
        .split(separator: "\n").map(String.init)
    let header = try #require(lines.first).split(separator: ",").map(String.init)
    let rows = lines.dropFirst().map { line -> [String: String] in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == header.count, "row \(line) does not match header \(header)")
        return Dictionary(uniqueKeysWithValues: zip(header, fields))
    }
    return (header, rows)
}

func number(_ row: [String: String], _ column: String) throws -> Double {
    try #require(row[column].flatMap(Double.init), "column \(column) missing or not a number in \(row)")
}
