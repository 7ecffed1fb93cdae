import Foundation
import TestSupport
import Testing
import VAEData
import VAEFormats

/// An IDX file of unsigned bytes with the given dimensions; `payload` defaults to the right number of bytes.
private func idxFile(dimensions: [Int], payload: [UInt8]? = nil, typeCode: UInt8 = 0x08) -> [UInt8] {
    var file: [UInt8] = [0, 0, typeCode, UInt8(dimensions.count)]
    for dimension in dimensions {
        file += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
    }
    if let payload { return file + payload }
    return file + (0..<dimensions.reduce(1, *)).map { UInt8($0 % 251) }
}

private func decodeError(_ bytes: [UInt8], source: String = "images.idx") throws -> String {
    let error = try #require(throws: FormatError.self) { try IDXReader.decode(bytes, source: source) }
    #expect(!error.message.contains("\n"))
    return error.message
}

@Suite struct IDXTests {
    @Test func rawAndGzipFilesDecodeAlike() throws {
        let raw = idxFile(dimensions: [3, 4, 5])
        let plain = try IDXReader.decode(raw, source: "raw.idx")
        #expect(plain.dimensions == [3, 4, 5])
        #expect(plain.bytes == (0..<60).map { UInt8($0) })
        #expect(try IDXReader.decode(Gzip.compress(raw), source: "packed.idx.gz") == plain)
    }

    @Test func readsFromDiskAndLocatesCompressedOrRawFiles() throws {
        let directory = try makeTemporaryDirectory("locate")
        defer { removeDirectory(directory) }
        let labels = idxFile(dimensions: [10], payload: (0..<10).map { UInt8($0) })
        try AtomicFile.write(Gzip.compress(labels), to: directory + "/labels-idx1-ubyte.gz")

        let compressedPath = try IDXReader.locate(stem: "labels-idx1-ubyte", in: directory)
        #expect(compressedPath == directory + "/labels-idx1-ubyte.gz")
        #expect(try IDXReader.read(path: compressedPath).bytes == Array(0..<10))

        // When both exist, the uncompressed file wins: it needs no inflating.
        try AtomicFile.write(labels, to: directory + "/labels-idx1-ubyte")
        #expect(try IDXReader.locate(stem: "labels-idx1-ubyte", in: directory + "/")
                == directory + "/labels-idx1-ubyte")

        let missing = try #require(throws: FormatError.self) { try IDXReader.locate(stem: "images", in: directory) }
        #expect(missing.message == "\(directory): neither images nor images.gz found")
        let noDirectory = try #require(throws: FormatError.self) {
            try IDXReader.locate(stem: "images", in: directory + "/absent")
        }
        #expect(noDirectory.message.contains("absent: no such directory"))
    }

    @Test func missingFileIsNamed() throws {
        let error = try #require(throws: FormatError.self) { try IDXReader.read(path: "/nonexistent/t10k-images") }
        #expect(error.message == "/nonexistent/t10k-images: no such file")
    }

    @Test func truncatedDataIsReportedWithCounts() throws {
        let file = idxFile(dimensions: [60000, 28, 28], payload: [UInt8](repeating: 0, count: 1000))
        #expect(try decodeError(file)
                == "images.idx: truncated: expected 47040000 data bytes for dims [60000, 28, 28], found 1000")
        // The same from a gzip file, whose source names the compressed file.
        #expect(try decodeError(Gzip.compress(file), source: "train.gz").hasPrefix("train.gz: truncated"))
    }

    @Test func extraBytesAreAnError() throws {
        let file = idxFile(dimensions: [2, 2]) + [7, 7, 7]
        #expect(try decodeError(file) == "images.idx: 3 extra bytes: expected 4 data bytes for dims [2, 2], found 7")
    }

    @Test func wrongMagicTypeAndDimensionCountAreErrors() throws {
        var badMagic = idxFile(dimensions: [2])
        badMagic[1] = 0x01
        #expect(try decodeError(badMagic).contains("not an IDX file: magic starts with 0x00 0x01"))
        #expect(try decodeError(idxFile(dimensions: [2], typeCode: 0x0d))
                == "images.idx: unsupported IDX type code 0x0d (only 0x08, unsigned byte, is supported)")
        #expect(try decodeError(idxFile(dimensions: [])).contains("dimension count 0 is outside 1...4"))
        #expect(try decodeError(idxFile(dimensions: [1, 1, 1, 1, 1])).contains("dimension count 5 is outside 1...4"))
    }

    @Test func shortFilesAreErrors() throws {
        #expect(try decodeError([0, 0]).contains("too short for an IDX header"))
        #expect(try decodeError([0, 0, 8, 3, 0, 0, 0, 1]).contains("header is truncated: 3 dimensions need 16"))
        #expect(try decodeError(Array(Gzip.compress(idxFile(dimensions: [9])).dropLast(4)))
                .contains("gzip stream is truncated"))
    }

    @Test func hugeDimensionsDoNotOverflow() throws {
        let file = idxFile(dimensions: [0xffff_ffff, 0xffff_ffff, 0xffff_ffff], payload: [])
        #expect(try decodeError(file).contains("more bytes than can be addressed"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: fashionMNISTDirectory),
                   "Fashion-MNIST is not installed at /usr/share/datasets/fashion-mnist"))
    func realFashionMNISTTestSet() throws {
        let images = try IDXReader.read(
            path: IDXReader.locate(stem: "t10k-images-idx3-ubyte", in: fashionMNISTDirectory))
        #expect(images.dimensions == [10000, 28, 28])
        #expect(images.bytes.count == 10000 * 28 * 28)
        #expect(images.bytes.contains { $0 > 0 })

        let labels = try IDXReader.read(
            path: IDXReader.locate(stem: "t10k-labels-idx1-ubyte", in: fashionMNISTDirectory))
        #expect(labels.dimensions == [10000])
        #expect(labels.bytes.allSatisfy { $0 <= 9 })
        // Fashion-MNIST's test set is balanced: 1000 of each class.
        var counts = [Int](repeating: 0, count: 10)
        for label in labels.bytes { counts[Int(label)] += 1 }
        #expect(counts == [Int](repeating: 1000, count: 10))
    }
}
