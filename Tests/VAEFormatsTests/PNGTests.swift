import Testing
import VAEFormats

/// One PNG chunk as parsed by the tests.
private struct Chunk {
    let type: String
    let data: [UInt8]
    let storedCRC: UInt32
}

private func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.reduce(0) { $0 << 8 | UInt32($1) }
}

/// Splits a PNG file into chunks, checking that the lengths add up exactly.
private func parseChunks(_ file: [UInt8]) throws -> [Chunk] {
    try #require(Array(file.prefix(8)) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    var chunks = [Chunk]()
    var position = 8
    while position < file.count {
        try #require(position + 12 <= file.count)
        let length = Int(bigEndian(file[position..<(position + 4)]))
        try #require(position + 12 + length <= file.count)
        let type = String(decoding: file[(position + 4)..<(position + 8)], as: UTF8.self)
        let data = Array(file[(position + 8)..<(position + 8 + length)])
        let crc = bigEndian(file[(position + 8 + length)..<(position + 12 + length)])
        chunks.append(Chunk(type: type, data: data, storedCRC: crc))
        position += 12 + length
    }
    return chunks
}

/// Bitwise CRC-32 (polynomial 0xEDB88320), independent of zlib, to check the encoder's checksums.
private func referenceCRC(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
    }
    return ~crc
}

@Suite struct PNGTests {
    @Test func referenceCRCMatchesTheKnownCheckValue() {
        #expect(referenceCRC(Array("123456789".utf8)) == 0xcbf4_3926)
        #expect(PNGEncoder.chunkCRC(type: "IEND", data: []) == 0xae42_6082)  // every PNG ends with these bytes
    }

    @Test(arguments: [1, 3])
    func structureChecksumsAndPixelsSurvive(channels: Int) throws {
        let width = 5, height = 3
        let pixels = (0..<(width * height * channels)).map { UInt8(($0 * 37) % 256) }
        let file = try PNGEncoder.encode(width: width, height: height, channels: channels, pixels: pixels)
        let chunks = try parseChunks(file)

        #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        for chunk in chunks {
            #expect(chunk.storedCRC == referenceCRC(Array(chunk.type.utf8) + chunk.data), "CRC of \(chunk.type)")
        }
        let header = chunks[0].data
        #expect(header.count == 13)
        #expect(bigEndian(header[0..<4]) == UInt32(width))
        #expect(bigEndian(header[4..<8]) == UInt32(height))
        #expect(Array(header[8...]) == [8, channels == 1 ? 0 : 2, 0, 0, 0])
        #expect(chunks[2].data.isEmpty)

        // IDAT is a zlib stream of scanlines, each starting with filter type 0.
        let scanlines = try Gzip.decompress(chunks[1].data, source: "IDAT")
        let rowBytes = width * channels
        #expect(scanlines.count == height * (rowBytes + 1))
        for row in 0..<height {
            let start = row * (rowBytes + 1)
            #expect(scanlines[start] == 0)
            #expect(Array(scanlines[(start + 1)...(start + rowBytes)])
                    == Array(pixels[(row * rowBytes)..<((row + 1) * rowBytes)]))
        }
    }

    @Test func encodingIsDeterministic() throws {
        let pixels = [UInt8](repeating: 128, count: 28 * 28)
        #expect(try PNGEncoder.encode(width: 28, height: 28, channels: 1, pixels: pixels)
                == PNGEncoder.encode(width: 28, height: 28, channels: 1, pixels: pixels))
    }

    @Test func wrongPixelCountIsAnError() throws {
        let error = try #require(throws: FormatError.self) {
            try PNGEncoder.encode(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 10))
        }
        #expect(error.message == "PNG encoder: pixels has 10 bytes, expected 2×2×3 = 12")
    }

    @Test func invalidChannelsAndSizesAreErrors() {
        #expect(throws: FormatError.self) { try PNGEncoder.encode(width: 1, height: 1, channels: 2, pixels: [0, 0]) }
        #expect(throws: FormatError.self) { try PNGEncoder.encode(width: 0, height: 1, channels: 1, pixels: []) }
        #expect(throws: FormatError.self) { try PNGEncoder.encode(width: 1, height: -1, channels: 1, pixels: []) }
    }
}
