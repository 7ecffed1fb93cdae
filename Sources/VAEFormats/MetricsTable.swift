import Foundation

/// metrics.csv read back: one dictionary of numbers per epoch, by column name.
public struct MetricsTable {
    public let columns: [String]
    public let rows: [[String: Double]]

    /// Columns every metrics.csv has (the trainer writes more).
    public static let requiredColumns = ["epoch", "train_loss", "test_loss", "reconstruction", "kl"]

    /// Parses the CSV `text` that the trainer's metrics log writes; `source` names the file in errors.
    public init(csv text: String, source: String) throws {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first else {
            throw FormatError(source: source, "empty; expected a header with the columns \(Self.requiredColumns.joined(separator: ","))")
        }
        let columns = header.split(separator: ",").map(String.init)
        self.columns = columns
        for required in Self.requiredColumns where !columns.contains(required) {
            throw FormatError(source: source, "no column '\(required)' in the header \(header)")
        }
        rows = try lines.dropFirst().enumerated().map { offset, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == columns.count else {
                throw FormatError(source: source, "line \(offset + 2) has \(fields.count) fields, expected \(columns.count)")
            }
            var row: [String: Double] = [:]
            for (column, field) in zip(columns, fields) {
                guard let value = Double(field) else {
                    throw FormatError(source: source, "line \(offset + 2): expected a number in column \(column), got '\(field)'")
                }
                row[column] = value
            }
            return row
        }
    }

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError(source: path, "cannot read metrics (expected the metrics.csv that `vae train` writes)")
        }
        try self.init(csv: String(decoding: data, as: UTF8.self), source: path)
    }

    /// (epoch, value) for every row that has `column`.
    public func series(_ column: String) -> [(Double, Double)] {
        rows.compactMap { row in row[column].flatMap { value in row["epoch"].map { ($0, value) } } }
    }
}
