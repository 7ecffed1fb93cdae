import Foundation

/// TensorBoard's event files, written directly: each record is a TFRecord frame (little-endian UInt64 length,
/// masked CRC-32C of the length, the bytes, masked CRC-32C of the bytes) around an `Event` protocol buffer
/// (tensorboard/compat/proto/event.proto and summary.proto). Only the fields VAEKit writes are encoded:
///
/// - `Event`: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5, session_log = 7.
/// - `Summary`: value = 1 (repeated `Summary.Value`: tag = 1, simple_value = 2 (float), image = 4, histo = 5).
/// - `Summary.Image`: height = 1, width = 2, colorspace = 3 (1 grey, 3 RGB, 4 RGBA), encoded_image_string = 4 (PNG).
/// - `HistogramProto`: min = 1, max = 2, num = 3, sum = 4, sum_squares = 5, bucket_limit = 6 and bucket = 7 (packed).
/// - `SessionLog`: status = 1 (START = 1): a reader drops the events of a step at or after a START's step that it
///   read before it, so a resumed run's file replaces what the interrupted run wrote after its last checkpoint.
public enum TensorBoardEvent {
    /// The first record of every file: `file_version: "brain.Event:2"`.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtobufMessage()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        return event.bytes
    }

    /// Scalars `(tag, value)` at `step`.
    public static func scalars(_ values: [(tag: String, value: Float)], step: Int, wallTime: Double) -> [UInt8] {
        summary(values.map { tag, value in
            var entry = ProtobufMessage()
            entry.string(1, tag)
            entry.float(2, value)
            return entry
        }, step: step, wallTime: wallTime)
    }

    /// A PNG image (its size and colour type read from its IHDR chunk).
    public static func image(tag: String, png: [UInt8], step: Int, wallTime: Double) throws -> [UInt8] {
        guard png.count >= 26, Array(png[12..<16]) == Array("IHDR".utf8) else {
            throw FormatError(message: "TensorBoard image '\(tag)': not a PNG (no IHDR chunk)")
        }
        func bigEndian(_ offset: Int) -> Int { png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        // PNG colour types: 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA.
        let colorspace = [0: 1, 2: 3, 4: 2, 6: 4][Int(png[25])] ?? 3
        var image = ProtobufMessage()
        image.varint(1, UInt64(bigEndian(20)))
        image.varint(2, UInt64(bigEndian(16)))
        image.varint(3, UInt64(colorspace))
        image.bytes(4, png)
        var entry = ProtobufMessage()
        entry.string(1, tag)
        entry.message(4, image)
        return summary([entry], step: step, wallTime: wallTime)
    }

    /// A histogram of `values` over `buckets` equal-width buckets between their minimum and maximum.
    public static func histogram(tag: String, values: [Double], buckets: Int = 30, step: Int, wallTime: Double) -> [UInt8] {
        let low = values.min() ?? 0, high = values.max() ?? 0
        let width = high > low ? (high - low) / Double(buckets) : 1
        var counts = [Double](repeating: 0, count: buckets)
        for value in values { counts[min(buckets - 1, Int((value - low) / width))] += 1 }
        var histogram = ProtobufMessage()
        histogram.double(1, low)
        histogram.double(2, high)
        histogram.double(3, Double(values.count))
        histogram.double(4, values.reduce(0, +))
        histogram.double(5, values.reduce(0) { $0 + $1 * $1 })
        histogram.packedDoubles(6, (1...buckets).map { low + Double($0) * width })
        histogram.packedDoubles(7, counts)
        var entry = ProtobufMessage()
        entry.string(1, tag)
        entry.message(5, histogram)
        return summary([entry], step: step, wallTime: wallTime)
    }

    /// `session_log { status: START }` at `step`.
    public static func sessionStart(step: Int, wallTime: Double) -> [UInt8] {
        var log = ProtobufMessage()
        log.varint(1, 1)
        var event = header(step: step, wallTime: wallTime)
        event.message(7, log)
        return event.bytes
    }

    private static func header(step: Int, wallTime: Double) -> ProtobufMessage {
        var event = ProtobufMessage()
        event.double(1, wallTime)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        return event
    }

    private static func summary(_ entries: [ProtobufMessage], step: Int, wallTime: Double) -> [UInt8] {
        var summary = ProtobufMessage()
        for entry in entries { summary.message(1, entry) }
        var event = header(step: step, wallTime: wallTime)
        event.message(5, summary)
        return event.bytes
    }

    /// The TFRecord frame around `data`.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        length += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        return length + data + withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
    }
}

/// The protocol-buffer wire format, for writing: fields appended in order.
public struct ProtobufMessage {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    private mutating func key(_ field: Int, _ wireType: UInt8) { appendVarint(UInt64(field) << 3 | UInt64(wireType)) }

    private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        appendVarint(value)
    }

    public mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    public mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        appendVarint(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    public mutating func message(_ field: Int, _ value: ProtobufMessage) { bytes(field, value.bytes) }

    public mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        bytes(field, values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }
}

/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78), the checksum of TFRecord frames, and its masked form
/// ((crc >> 15 | crc << 17) + 0xA282EAD8) that the frames store.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { byte in
        (0..<8).reduce(UInt32(byte)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }

    public static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// An event file being written: `events.out.tfevents.<seconds>.<host>` in a run directory (a new file per process,
/// as TensorFlow's writers make, so a resumed run adds one beside the first). Each record is written with one
/// `write`, so a killed process leaves every earlier record whole.
public final class TensorBoardEventFile {
    public let path: String
    private let handle: FileHandle

    public init(directory: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        var path = directory + "/events.out.tfevents.\(Int(wallTime)).\(host.isEmpty ? "localhost" : host)"
        var suffix = 1
        while FileManager.default.fileExists(atPath: path) {
            path = directory + "/events.out.tfevents.\(Int(wallTime)).\(host.isEmpty ? "localhost" : host).\(suffix)"
            suffix += 1
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw FormatError(message: "\(path): cannot create the TensorBoard event file")
        }
        self.path = path
        self.handle = handle
        try write(TensorBoardEvent.fileVersion(wallTime: wallTime))
    }

    deinit { try? handle.close() }

    /// Appends one event (an encoded `Event` message) in its frame.
    public func write(_ event: [UInt8]) throws {
        do {
            try handle.write(contentsOf: TensorBoardEvent.record(event))
        } catch {
            throw FormatError(message: "\(path): cannot write the TensorBoard event (\(error.localizedDescription))")
        }
    }
}
