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

    public mutating func append(_ metrics: EpochMetrics) throws {
        rows.append(metrics.csvRow)
        try AtomicFile.write(Array(([EpochMetrics.header] + rows).joined(separator: "\n").appending("\n").utf8), to: path)
    }
}
