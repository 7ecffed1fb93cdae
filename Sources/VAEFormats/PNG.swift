import CZlib

/// A minimal PNG writer: 8-bit greyscale or RGB, no interlacing, no filtering.
///
/// Compression is zlib's `compress2` and chunk checksums are zlib's `crc32`; only the PNG framing is ours.
///
/// ```swift
/// let png = try PNGEncoder.encode(width: 28, height: 28, channels: 1, pixels: digit)
/// try AtomicFile.write(png, to: "digit.png")
/// ```
public enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    /// Encodes row-major, interleaved 8-bit pixels as a PNG file.
    /// - Parameters:
    ///   - width: pixels per row, 1 or more.
    ///   - height: number of rows, 1 or more.
    ///   - channels: 1 for greyscale, 3 for RGB.
    ///   - pixels: `width * height * channels` bytes, rows top to bottom.
    ///   - level: zlib compression level, 0...9.
    /// - Throws: `FormatError` when the sizes are invalid or do not match `pixels.count`.
    public static func encode(
        width: Int, height: Int, channels: Int, pixels: [UInt8], level: Int = 6
    ) throws -> [UInt8] {
        let source = "PNG encoder"
        guard channels == 1 || channels == 3 else {
            throw FormatError(source: source, "channels must be 1 (grey) or 3 (RGB), got \(channels)")
        }
        // PNG stores sizes as 31-bit unsigned integers and forbids zero.
        guard (1...Int(Int32.max)).contains(width), (1...Int(Int32.max)).contains(height) else {
            throw FormatError(source: source, "width and height must be in 1...\(Int32.max), got \(width)×\(height)")
        }
        guard (0...9).contains(level) else {
            throw FormatError(source: source, "compression level must be in 0...9, got \(level)")
        }
        let (rowBytes, rowOverflow) = width.multipliedReportingOverflow(by: channels)
        let (expected, overflow) = rowBytes.multipliedReportingOverflow(by: height)
        guard !rowOverflow, !overflow, pixels.count == expected else {
            throw FormatError(source: source,
                "pixels has \(pixels.count) bytes, expected \(width)×\(height)×\(channels) = \(expected)")
        }

        // Each scanline is prefixed by its filter type; 0 means "None".
        var scanlines = [UInt8]()
        scanlines.reserveCapacity(height * (rowBytes + 1))
        for row in 0..<height {
            scanlines.append(0)
            scanlines.append(contentsOf: pixels[(row * rowBytes)..<((row + 1) * rowBytes)])
        }
        let compressed = try deflateZlib(scanlines, level: level, source: source)

        var header = [UInt8]()
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]  // bit depth, colour type, compression, filter, interlace

        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", compressed, to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// The CRC-32 PNG stores after each chunk: over the chunk type and data, not the length.
    public static func chunkCRC(type: String, data: [UInt8]) -> UInt32 {
        let typeBytes = Array(type.utf8)
        var crc = crc32(0, nil, 0)
        crc = typeBytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
        crc = data.withUnsafeBufferPointer { buffer in
            buffer.isEmpty ? crc : crc32(crc, buffer.baseAddress, UInt32(buffer.count))
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &file)
        file += Array(type.utf8)
        file += data
        appendBigEndian(chunkCRC(type: type, data: data), to: &file)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    /// One-shot zlib-wrapped deflate, as PNG's IDAT requires.
    private static func deflateZlib(_ data: [UInt8], level: Int, source: String) throws -> [UInt8] {
        guard data.count <= Int(UInt32.max) else {
            throw FormatError(source: source, "image of \(data.count) bytes is too large for one IDAT chunk")
        }
        var outputSize = compressBound(UInt(data.count))
        var output = [UInt8](repeating: 0, count: Int(outputSize))
        let status = output.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &outputSize, input.baseAddress, UInt(input.count), Int32(level))
            }
        }
        guard status == Z_OK else {
            throw FormatError(source: source, "zlib compress2 failed with status \(status)")
        }
        output.removeSubrange(Int(outputSize)...)
        guard output.count <= Int(Int32.max) else {
            throw FormatError(source: source, "compressed image of \(output.count) bytes exceeds PNG's chunk limit")
        }
        return output
    }
}
