import TestSupport
import Testing
import VAEFormats

@Suite struct GzipTests {
    @Test(arguments: [0, 1, 100, 70_000, 1 << 20])
    func roundTripOfRandomBytes(count: Int) throws {
        var generator = TestBytes(seed: UInt64(count))
        let original = generator.bytes(count)
        let packed = Gzip.compress(original)
        #expect(Gzip.isGzip(packed))
        #expect(try Gzip.decompress(packed, source: "random.gz") == original)
    }

    @Test func roundTripOfHighlyCompressibleDataGrowsTheBuffer() throws {
        // 8 MiB of zeros compresses about 1000:1, far beyond the initial output guess.
        let original = [UInt8](repeating: 0, count: 8 << 20)
        let packed = Gzip.compress(original, level: 9)
        #expect(packed.count < 20_000)
        #expect(try Gzip.decompress(packed, source: "zeros.gz") == original)
    }

    @Test func compressionIsDeterministicWithAZeroTimestamp() {
        let data = Array("the same input gives the same bytes".utf8)
        let first = Gzip.compress(data)
        #expect(first == Gzip.compress(data))
        #expect(Array(first.prefix(8)) == [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])
    }

    @Test func concatenatedMembersAreJoined() throws {
        let first = Array("first member, ".utf8)
        let second = Array("second member".utf8)
        let joined = Gzip.compress(first) + Gzip.compress(second, level: 1)
        #expect(try Gzip.decompress(joined, source: "joined.gz") == first + second)
    }

    @Test func zlibStreamsAreAcceptedToo() throws {
        // A zlib header (78 01), one final stored block holding "hello", and its Adler-32.
        let stream: [UInt8] = [0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff] + Array("hello".utf8)
            + [0x06, 0x2c, 0x02, 0x15]
        #expect(!Gzip.isGzip(stream))
        #expect(try Gzip.decompress(stream, source: "hello.z") == Array("hello".utf8))
    }

    @Test func isGzipChecksTheMagic() {
        #expect(Gzip.isGzip([0x1f, 0x8b]))
        #expect(!Gzip.isGzip([0x1f]))
        #expect(!Gzip.isGzip([0x00, 0x00, 0x08, 0x03]))
    }

    @Test func truncatedStreamIsReportedWithTheOutputSoFar() throws {
        var generator = TestBytes(seed: 7)
        let packed = Gzip.compress(generator.bytes(50_000))
        for cut in [11, packed.count / 2, packed.count - 1] {
            let error = try #require(throws: FormatError.self) {
                try Gzip.decompress(Array(packed.prefix(cut)), source: "t10k-images-idx3-ubyte.gz")
            }
            #expect(error.message.hasPrefix("t10k-images-idx3-ubyte.gz: gzip stream is truncated (ended after "))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func corruptBlockTypeIsReportedWithZlibsReason() throws {
        var packed = Gzip.compress(Array("some text to compress".utf8))
        packed[10] = 0xff  // first deflate byte: BTYPE 11 is reserved
        let error = try #require(throws: FormatError.self) { try Gzip.decompress(packed, source: "bad.gz") }
        #expect(error.message == "bad.gz: corrupt gzip data (zlib: invalid block type)")
    }

    @Test func corruptChecksumIsReported() throws {
        var packed = Gzip.compress(Array("checksummed text".utf8))
        packed[packed.count - 8] ^= 0xff  // first byte of the CRC-32 trailer
        let error = try #require(throws: FormatError.self) { try Gzip.decompress(packed, source: "crc.gz") }
        #expect(error.message == "crc.gz: corrupt gzip data (zlib: incorrect data check)")
    }

    @Test func emptyInputAndTrailingGarbageAreErrors() throws {
        let empty = try #require(throws: FormatError.self) { try Gzip.decompress([], source: "empty.gz") }
        #expect(empty.message == "empty.gz: gzip stream is empty")
        let packed = Gzip.compress([1, 2, 3]) + [0x00, 0x01, 0x02]
        let trailing = try #require(throws: FormatError.self) { try Gzip.decompress(packed, source: "tail.gz") }
        #expect(trailing.message.contains("3 unexpected bytes after the end of the gzip stream"))
    }

    @Test func outputLimitStopsDecompressionBombs() throws {
        let packed = Gzip.compress([UInt8](repeating: 0, count: 1 << 20))
        let error = try #require(throws: FormatError.self) {
            try Gzip.decompress(packed, source: "bomb.gz", maximumOutputBytes: 100_000)
        }
        #expect(error.message == "bomb.gz: gzip output exceeds the limit of 100000 bytes")
        // Exactly at the limit is fine.
        #expect(try Gzip.decompress(packed, source: "bomb.gz", maximumOutputBytes: 1 << 20).count == 1 << 20)
    }
}
