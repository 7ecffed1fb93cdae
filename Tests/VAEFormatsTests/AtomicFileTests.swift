import Foundation
import TestSupport
import Testing
import VAEFormats

@Suite struct AtomicFileTests {
    @Test func writeThenReadAndOverwriteLeavesNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory("atomic-write")
        defer { removeDirectory(directory) }
        let path = directory + "/checkpoint.bin"
        var generator = TestBytes(seed: 3)
        let first = generator.bytes(100_000)
        try AtomicFile.write(first, to: path)
        #expect(try AtomicFile.read(path) == first)

        let second = Array("shorter replacement".utf8)
        try AtomicFile.write(second, to: path)
        #expect(try AtomicFile.read(path) == second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["checkpoint.bin"])

        try AtomicFile.write([], to: path)
        #expect(try AtomicFile.read(path) == [])
    }

    @Test func missingFileHasAPlainMessage() throws {
        let error = try #require(throws: FormatError.self) { try AtomicFile.read("/nonexistent/dir/file.bin") }
        #expect(error.message == "/nonexistent/dir/file.bin: no such file")
    }

    @Test func writingIntoAMissingDirectoryNamesThePath() throws {
        let error = try #require(throws: FormatError.self) {
            try AtomicFile.write([1, 2, 3], to: "/nonexistent/dir/file.bin")
        }
        #expect(error.message == "/nonexistent/dir/file.bin: directory does not exist")
    }

    @Test func readingADirectoryOrATooLargeFileIsAnError() throws {
        let directory = try makeTemporaryDirectory("atomic-read")
        defer { removeDirectory(directory) }
        let directoryError = try #require(throws: FormatError.self) { try AtomicFile.read(directory) }
        #expect(directoryError.message == "\(directory): is a directory")

        let path = directory + "/big.bin"
        try AtomicFile.write([UInt8](repeating: 9, count: 1000), to: path)
        let sizeError = try #require(throws: FormatError.self) { try AtomicFile.read(path, maximumBytes: 999) }
        #expect(sizeError.message == "\(path): file of 1000 bytes exceeds the limit of 999 bytes")
    }
}
