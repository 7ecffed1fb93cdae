import CZlib

/// gzip (and zlib) compression over the system zlib.
///
/// ```swift
/// let packed = Gzip.compress(Array("hello".utf8))
/// let unpacked = try Gzip.decompress(packed, source: "greeting.gz")
/// ```
public enum Gzip {
    /// The largest output `decompress` produces unless told otherwise: 2 GiB.
    public static let defaultMaximumOutputBytes = 2 << 30

    /// Whether `data` starts with the gzip magic bytes `1f 8b`.
    public static func isGzip(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == 0x1f && data[1] == 0x8b
    }

    /// Inflates a gzip or zlib stream (the header is detected automatically).
    ///
    /// Concatenated gzip members, as written by `cat a.gz b.gz`, are decompressed one after the other.
    /// - Parameters:
    ///   - data: the compressed bytes.
    ///   - source: the name used in error messages, usually the file name.
    ///   - maximumOutputBytes: refuse to produce more than this many bytes (a guard against decompression bombs).
    /// - Throws: `FormatError` when the stream is empty, corrupt, truncated, followed by stray bytes, or too large.
    public static func decompress(
        _ data: [UInt8], source: String, maximumOutputBytes: Int = defaultMaximumOutputBytes
    ) throws -> [UInt8] {
        // windowBits 15 + 32: largest window, and accept either a gzip or a zlib header.
        try inflate(data, source: source, windowBits: 15 + 32, maximumOutputBytes: maximumOutputBytes)
    }

    /// Inflates a raw deflate stream (no header: a zip entry's data) of at most `maximumOutputBytes` bytes.
    public static func inflateRaw(_ data: [UInt8], source: String, maximumOutputBytes: Int) throws -> [UInt8] {
        try inflate(data, source: source, windowBits: -15, maximumOutputBytes: maximumOutputBytes)
    }

    private static func inflate(_ data: [UInt8], source: String, windowBits: Int32, maximumOutputBytes: Int) throws -> [UInt8] {
        if data.isEmpty { throw FormatError(source: source, "gzip stream is empty") }
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw FormatError(source: source, "cannot start zlib inflate (zlib status \(initStatus))")
        }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        var produced = 0
        var consumed = 0
        // Start near a typical compression ratio, then double: amortised linear growth.
        var capacity = min(max(data.count * 4, 1 << 16), max(maximumOutputBytes, 1))

        while true {
            if produced == output.count {
                if output.count >= maximumOutputBytes {
                    throw FormatError(source: source,
                        "gzip output exceeds the limit of \(maximumOutputBytes) bytes")
                }
                capacity = output.isEmpty ? capacity : min(output.count * 2, maximumOutputBytes)
                output.append(contentsOf: repeatElement(0, count: max(capacity - output.count, 1)))
            }
            // avail_in and avail_out are 32-bit: feed at most 1 GiB per call.
            let inputChunk = min(data.count - consumed, 1 << 30)
            let outputChunk = min(output.count - produced, 1 << 30)
            let status: Int32 = data.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                    stream.avail_in = UInt32(inputChunk)
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(outputChunk)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
            }
            consumed += inputChunk - Int(stream.avail_in)
            produced += outputChunk - Int(stream.avail_out)

            switch status {
            case Z_STREAM_END:
                let rest = data[consumed...]
                if rest.isEmpty {
                    output.removeSubrange(produced...)
                    return output
                }
                guard windowBits > 0, isGzip(Array(rest.prefix(2))) else {
                    throw FormatError(source: source,
                        "\(rest.count) unexpected bytes after the end of the gzip stream at offset \(consumed)")
                }
                inflateReset(&stream)  // next member of a concatenated gzip file
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grow it) or the input ran out.
                if produced == output.count { continue }
                throw truncated(source: source, produced: produced)
            case Z_NEED_DICT:
                throw FormatError(source: source, "corrupt gzip data (zlib stream needs a preset dictionary)")
            case Z_MEM_ERROR:
                throw FormatError(source: source, "out of memory while inflating gzip data")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw FormatError(source: source, "corrupt gzip data (zlib: \(reason))")
            }
            if consumed == data.count && produced < output.count {
                // All input consumed, room left in the output, and still no stream end.
                throw truncated(source: source, produced: produced)
            }
        }
    }

    private static func truncated(source: String, produced: Int) -> FormatError {
        FormatError(source: source, "gzip stream is truncated (ended after \(produced) bytes of output)")
    }

    /// Compresses `data` into a single gzip member.
    ///
    /// The output is deterministic: zlib writes a modification time of zero and no file name.
    /// - Parameters:
    ///   - data: the bytes to compress.
    ///   - level: 0 (store) to 9 (smallest); 6 is zlib's default.
    public static func compress(_ data: [UInt8], level: Int = 6) -> [UInt8] {
        precondition((0...9).contains(level), "gzip level must be in 0...9, got \(level)")
        var stream = z_stream()
        // windowBits 15 + 16: largest window, gzip wrapper.
        let initStatus = deflateInit2_(&stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "zlib deflateInit2 failed with status \(initStatus)")
        defer { deflateEnd(&stream) }

        // deflateBound covers the zlib wrapper; the gzip wrapper is 12 bytes longer.
        let bound = Int(deflateBound(&stream, UInt(data.count))) + 64
        var output = [UInt8](repeating: 0, count: bound)
        var consumed = 0
        var produced = 0
        while true {
            let inputChunk = min(data.count - consumed, 1 << 30)
            let outputChunk = min(output.count - produced, 1 << 30)
            let isLast = consumed + inputChunk == data.count
            let status: Int32 = data.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + consumed })
                    stream.avail_in = UInt32(inputChunk)
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(outputChunk)
                    return deflate(&stream, isLast ? Z_FINISH : Z_NO_FLUSH)
                }
            }
            consumed += inputChunk - Int(stream.avail_in)
            produced += outputChunk - Int(stream.avail_out)
            if status == Z_STREAM_END { break }
            precondition(status == Z_OK || status == Z_BUF_ERROR, "zlib deflate failed with status \(status)")
            if produced == output.count {
                output.append(contentsOf: repeatElement(0, count: output.count))
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}
