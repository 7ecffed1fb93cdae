import Foundation
import VAEFormats

/// The contents of an IDX file: dimension sizes and the unsigned bytes they index, row-major.
public struct IDXArray: Equatable {
    /// Sizes from outermost to innermost, e.g. `[10000, 28, 28]` for the MNIST test images.
    public let dimensions: [Int]
    /// `dimensions.reduce(1, *)` bytes.
    public let bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reads the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
///
/// Layout: two zero bytes, a type code (only `0x08`, unsigned byte, is supported), the number of dimensions,
/// each dimension as a big-endian `UInt32`, then the data.
///
/// ```swift
/// let path = try IDXReader.locate(stem: "t10k-images-idx3-ubyte", in: "/usr/share/datasets/fashion-mnist")
/// let images = try IDXReader.read(path: path)   // dimensions [10000, 28, 28]
/// ```
public enum IDXReader {
    /// The type code for unsigned bytes, the only element type MNIST uses.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads and decodes the IDX file at `path`, decompressing it first if it is gzip.
    /// - Throws: `FormatError`, e.g. `"<path>: no such file"` or one describing what is malformed.
    public static func read(path: String) throws -> IDXArray {
        try decode(try AtomicFile.read(path), source: path)
    }

    /// Decodes IDX bytes, decompressing them first if they start with the gzip magic.
    /// - Parameters:
    ///   - fileBytes: the file's contents, raw or gzip-compressed.
    ///   - source: the name used in error messages, usually the file path.
    public static func decode(_ fileBytes: [UInt8], source: String) throws -> IDXArray {
        func fail(_ problem: String) -> FormatError { FormatError(source: source, problem) }

        if fileBytes.isEmpty { throw fail("file is empty (0 bytes); expected an IDX file, raw or gzip-compressed") }
        let bytes = Gzip.isGzip(fileBytes) ? try Gzip.decompress(fileBytes, source: source) : fileBytes
        guard bytes.count >= 4 else {
            throw fail("file of \(bytes.count) bytes is too short for an IDX header (at least 4 bytes)")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw fail("not an IDX file: magic starts with \(hex(bytes[0])) \(hex(bytes[1])), expected 0x00 0x00")
        }
        guard bytes[2] == unsignedByteType else {
            throw fail("unsupported IDX type code \(hex(bytes[2])) (only 0x08, unsigned byte, is supported)")
        }
        let dimensionCount = Int(bytes[3])
        guard (1...4).contains(dimensionCount) else {
            throw fail("IDX dimension count \(dimensionCount) is outside 1...4")
        }
        let headerSize = 4 + 4 * dimensionCount
        guard bytes.count >= headerSize else {
            throw fail("header is truncated: \(dimensionCount) dimensions need \(headerSize) header bytes, "
                + "found \(bytes.count)")
        }
        let dimensions = (0..<dimensionCount).map { index in
            bytes[(4 + 4 * index)..<(8 + 4 * index)].reduce(0) { $0 << 8 | Int($1) }
        }
        var expected = 1
        for dimension in dimensions {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("dimensions \(dimensions) describe more bytes than can be addressed") }
            expected = product
        }
        let found = bytes.count - headerSize
        guard found >= expected else {
            throw fail("truncated: expected \(expected) data bytes for dims \(dimensions), found \(found)")
        }
        guard found == expected else {
            throw fail("\(found - expected) extra bytes: expected \(expected) data bytes for dims \(dimensions), "
                + "found \(found)")
        }
        return IDXArray(dimensions: dimensions, bytes: Array(bytes[headerSize...]))
    }

    /// Finds `stem` or `stem.gz` in `directory`, preferring the uncompressed file when both exist.
    ///
    /// For example, `stem` `"train-images-idx3-ubyte"` finds `train-images-idx3-ubyte.gz`.
    /// - Returns: the path of the file found.
    /// - Throws: `FormatError` naming the directory and both names tried.
    public static func locate(stem: String, in directory: String) throws -> String {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FormatError(source: directory, "no such directory (looking for \(stem) or \(stem).gz)")
        }
        for name in [stem, stem + ".gz"] where FileManager.default.fileExists(atPath: base + name) {
            return base + name
        }
        throw FormatError(source: directory, "neither \(stem) nor \(stem).gz found")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count == 1 ? "0" : "") + digits
    }
}
