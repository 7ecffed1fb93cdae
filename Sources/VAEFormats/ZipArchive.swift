import CZlib

/// A zip archive read whole from memory: the entries its central directory lists (ZIP64 sizes and offsets
/// included, as NumPy's `savez` writes them), each extracted on demand (stored or deflated) and checked against
/// its CRC-32. Enough for `.npz` files; no encryption, no multi-disk archives.
///
/// ```swift
/// let archive = try ZipArchive(bytes: try AtomicFile.read("dsprites.npz"), source: "dsprites.npz")
/// let images = try archive.extract("imgs.npy")
/// ```
public struct ZipArchive {
    /// One file of the archive as the central directory describes it.
    public struct Entry: Equatable, Sendable {
        public let name: String
        /// 0: stored, 8: deflated.
        public let method: Int
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    public let entries: [Entry]
    let bytes: [UInt8]
    let source: String

    public init(bytes: [UInt8], source: String) throws {
        self.bytes = bytes
        self.source = source
        let reader = ByteReader(bytes: bytes, source: source)
        // The end-of-central-directory record: its signature within the last 22 + 65535 bytes.
        guard let end = reader.lastSignature(0x0605_4b50, within: 22 + 0xFFFF) else {
            throw FormatError(source: source, "not a zip archive (no end-of-central-directory record; an .npz file is a zip of .npy files)")
        }
        var count = try reader.u16(at: end + 10)
        var directorySize = try reader.u32(at: end + 12)
        var directoryOffset = try reader.u32(at: end + 16)
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator 20 bytes before the record points at the ZIP64 end record.
            guard end >= 20, try reader.u32(at: end - 20) == 0x0706_4b50 else {
                throw FormatError(source: source, "zip: the end record says ZIP64 but there is no ZIP64 locator")
            }
            let record = try reader.u64(at: end - 20 + 8)
            guard try reader.u32(at: record) == 0x0606_4b50 else {
                throw FormatError(source: source, "zip: no ZIP64 end-of-central-directory record at offset \(record)")
            }
            count = try reader.u64(at: record + 32)
            directorySize = try reader.u64(at: record + 40)
            directoryOffset = try reader.u64(at: record + 48)
        }
        guard directoryOffset + directorySize <= bytes.count else {
            throw FormatError(source: source, "zip: the central directory (offset \(directoryOffset), \(directorySize) bytes) lies past the end of the file (\(bytes.count) bytes)")
        }
        var entries: [Entry] = []
        var position = directoryOffset
        for index in 0..<count {
            guard try reader.u32(at: position) == 0x0201_4b50 else {
                throw FormatError(source: source, "zip: central directory entry \(index) has no signature at offset \(position)")
            }
            let method = try reader.u16(at: position + 10)
            let crc = UInt32(try reader.u32(at: position + 16))
            var compressed = try reader.u32(at: position + 20)
            var uncompressed = try reader.u32(at: position + 24)
            let (nameLength, extraLength, commentLength) = (try reader.u16(at: position + 28), try reader.u16(at: position + 30),
                                                            try reader.u16(at: position + 32))
            var offset = try reader.u32(at: position + 42)
            let name = String(decoding: try reader.slice(at: position + 46, count: nameLength), as: UTF8.self)
            // The ZIP64 extra field holds, in this order, whichever of the three were saturated.
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let (id, size) = (try reader.u16(at: extra), try reader.u16(at: extra + 2))
                if id == 0x0001 {
                    var field = extra + 4
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try reader.u64(at: field); field += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try reader.u64(at: field); field += 8 }
                    if offset == 0xFFFF_FFFF { offset = try reader.u64(at: field) }
                }
                extra += 4 + size
            }
            entries.append(Entry(name: name, method: method, crc32: crc, compressedSize: compressed,
                                 uncompressedSize: uncompressed, localHeaderOffset: offset))
            position = extraEnd + commentLength
        }
        self.entries = entries
    }

    /// The bytes of entry `name`, inflated and checked against its CRC-32.
    public func extract(_ name: String) throws -> [UInt8] {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw FormatError(source: source, "no '\(name)' in the archive (it holds \(entries.map(\.name).joined(separator: ", ")))")
        }
        let label = "\(source) (\(name))"
        let reader = ByteReader(bytes: bytes, source: label)
        guard try reader.u32(at: entry.localHeaderOffset) == 0x0403_4b50 else {
            throw FormatError(source: label, "zip: no local header at offset \(entry.localHeaderOffset)")
        }
        let start = entry.localHeaderOffset + 30 + (try reader.u16(at: entry.localHeaderOffset + 26))
            + (try reader.u16(at: entry.localHeaderOffset + 28))
        let data = Array(try reader.slice(at: start, count: entry.compressedSize))
        let output: [UInt8]
        switch entry.method {
        case 0: output = data
        case 8: output = entry.uncompressedSize == 0 ? [] : try Gzip.inflateRaw(data, source: label, maximumOutputBytes: entry.uncompressedSize)
        default: throw FormatError(source: label, "zip: compression method \(entry.method) is not supported (stored or deflated)")
        }
        guard output.count == entry.uncompressedSize else {
            throw FormatError(source: label, "zip: \(output.count) bytes extracted, the directory says \(entry.uncompressedSize)")
        }
        let crc = output.withUnsafeBufferPointer { buffer -> UInt32 in
            var value: uLong = crc32(0, nil, 0)
            var done = 0
            while done < buffer.count {
                let chunk = min(buffer.count - done, 1 << 30)
                value = crc32(value, buffer.baseAddress! + done, uInt(chunk))
                done += chunk
            }
            return UInt32(value)
        }
        guard crc == entry.crc32 else {
            throw FormatError(source: label, "zip: CRC-32 mismatch (the entry is corrupt)")
        }
        return output
    }
}

/// Little-endian fields of a byte array, with bounds checks that name the source.
struct ByteReader {
    let bytes: [UInt8]
    let source: String

    func slice(at offset: Int, count: Int) throws -> ArraySlice<UInt8> {
        guard offset >= 0, count >= 0, offset <= bytes.count - count else {
            throw FormatError(source: source, "truncated: needs \(count) bytes at offset \(offset), the file has \(bytes.count)")
        }
        return bytes[offset..<(offset + count)]
    }

    func integer(at offset: Int, width: Int) throws -> Int {
        let field = try slice(at: offset, count: width)
        var value: UInt64 = 0
        for (shift, byte) in field.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        guard value <= UInt64(Int.max) else { throw FormatError(source: source, "a field at offset \(offset) is out of range") }
        return Int(value)
    }

    func u16(at offset: Int) throws -> Int { try integer(at: offset, width: 2) }
    func u32(at offset: Int) throws -> Int { try integer(at: offset, width: 4) }
    func u64(at offset: Int) throws -> Int { try integer(at: offset, width: 8) }

    /// The offset of the last occurrence of a 4-byte little-endian `signature` within the last `window` bytes.
    func lastSignature(_ signature: UInt32, within window: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        let lowest = max(0, bytes.count - window)
        for offset in stride(from: bytes.count - 4, through: lowest, by: -1) where (try? u32(at: offset)) == Int(signature) {
            return offset
        }
        return nil
    }
}
