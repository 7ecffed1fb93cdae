import Foundation
import VAEFormats

/// One epoch's numbers: a row of metrics.csv.
public struct EpochMetrics: Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var testLoss: Double
    /// Test-set reconstruction term and KL (test_loss = reconstruction + kl).
    public var reconstruction: Double
    public var kl: Double
    public var seconds: Double
    public var imagesPerSecond: Double
    public var trainReconstruction: Double
    public var trainKL: Double

    public static let header = "epoch,train_loss,test_loss,reconstruction,kl,seconds,images_per_second,train_reconstruction,train_kl"

    /// The values of ``header``'s columns, in its order (for JSON: `vae train --log-format json`).
    public var csvFields: [Double] {
        [Double(epoch), trainLoss, testLoss, reconstruction, kl, seconds, imagesPerSecond, trainReconstruction, trainKL]
    }

    /// Losses to 6 decimals; times are the only fields that differ between identical reruns.
    public var csvRow: String {
        func f(_ value: Double) -> String { String(format: "%.6f", value) }
        return "\(epoch),\(f(trainLoss)),\(f(testLoss)),\(f(reconstruction)),\(f(kl)),\(String(format: "%.3f", seconds)),\(String(format: "%.1f", imagesPerSecond)),\(f(trainReconstruction)),\(f(trainKL))"
    }
}

/// metrics.csv, rewritten atomically after every epoch so it is never half-written.
public struct MetricsLog {
    public let path: String
    public private(set) var rows: [String]

    public init(path: String, existingRows: [String] = []) {
        self.path = path
        self.rows = existingRows
    }

    /// The data rows of an existing metrics.csv for epochs 1…`epoch`, to continue it on resume; rows of later
    /// epochs (written before a save that was interrupted) are dropped. A missing file has no rows.
    /// - Throws: `TrainingError` naming the file when its header is not ``EpochMetrics/header`` or a row
    ///   does not start with an epoch number.
    public static func rows(in path: String, throughEpoch epoch: Int) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = String(decoding: try AtomicFile.read(path, maximumBytes: 64 << 20), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == EpochMetrics.header else {
            throw TrainingError("\(path): expected the header '\(EpochMetrics.header)', found '\(lines.first ?? "")'")
        }
        var rows: [String] = []
        for (index, line) in lines.dropFirst().enumerated() {
            guard let rowEpoch = line.split(separator: ",").first.flatMap({ Int($0) }) else {
                throw TrainingError("\(path): line \(index + 2) does not start with an epoch number: '\(line.prefix(60))'")
            }
            if rowEpoch <= epoch { rows.append(line) }
        }
        return rows
    }

    public mutating func append(_ metrics: EpochMetrics) throws {
        rows.append(metrics.csvRow)
        try AtomicFile.write(Array(([EpochMetrics.header] + rows).joined(separator: "\n").appending("\n").utf8), to: path)
    }
}
