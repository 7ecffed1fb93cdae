import Foundation
import Testing
import TestSupport
import VAEFormats
import VAETensor
@testable import VAEData

/// The original dSprites `.npz` reader, on small files NumPy writes (`savez` stored and `savez_compressed`
/// deflated, both with NumPy's ZIP64 local headers), with the arrays the original holds.
@Suite(.enabled(if: pythonHas("numpy"), "python3 with numpy is not installed"))
struct DSpritesArchiveTests {
    /// Nine rows: the procedural images of nine factor combinations (any 0/1 pictures would do), so the file's
    /// pixels and factors can be compared with what went in.
    static let rows: [[Int]] = (0..<9).map { DSprites.factorValues(of: $0 * 81_917) }

    /// Writes `name` with NumPy from raw bytes; `script` may alter the arrays (`imgs`, `classes`) before saving.
    static func write(_ name: String, in directory: String, compressed: Bool, script: String = "") throws -> String {
        let images = DSprites.images(rows).scalars.map { UInt8($0) }
        let raw = directory + "/\(name).raw"
        try Data(images).write(to: URL(fileURLWithPath: raw))
        let classes = rows.map { "[0, " + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ")
        let path = directory + "/\(name).npz"
        let python = """
            import sys, numpy as np
            imgs = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(-1, 64, 64)
            classes = np.array([\(classes)], dtype=np.int64)
            values = classes.astype(np.float64) / 10
            \(script)
            save = np.savez_compressed if sys.argv[3] == "1" else np.savez
            save(sys.argv[2], imgs=imgs, latents_classes=classes, latents_values=values)
            """
        let result = try runPython(python, [raw, path, compressed ? "1" : "0"])
        #expect(result.status == 0, "python: \(result.standardError)")
        return path
    }

    @Test func readsWhatNumPyWrote() throws {
        let directory = try makeTemporaryDirectory("dsprites-npz")
        defer { removeDirectory(directory) }
        for compressed in [false, true] {
            let path = try Self.write("small-\(compressed)", in: directory, compressed: compressed)
            let archive = try DSpritesArchive(contentsOf: path)
            #expect(archive.count == 9)
            #expect(archive.factors == Self.rows.flatMap { $0 })
            #expect(archive.images(rows: Array(0..<9)).scalars == DSprites.images(Self.rows).scalars)
            #expect(archive.images(factors: [Self.rows[4]]).scalars == DSprites.images([Self.rows[4]]).scalars)
            #expect(archive.missingCombinations == DSprites.total - 9)
            // Split as the procedural set: row 0 is the test set (every 200th), rows 1…8 the training set.
            let (train, test) = (DSprites(split: .train, archive: archive), DSprites(split: .test, archive: archive))
            #expect(test.indices == [0] && train.indices == Array(1..<9))
            #expect(train.factors == Self.rows[1...].flatMap { $0 } && train.labels == Self.rows[1...].map { $0[0] })
            #expect(train.batch([2, 0]).scalars == DSprites.images([Self.rows[3], Self.rows[1]]).scalars)
            #expect(train.source == "\(path) (train)")
        }
    }

    /// Files that are not what the reader expects get one line naming the file and what was expected.
    @Test func badFilesAreNamed() throws {
        let directory = try makeTemporaryDirectory("dsprites-npz-bad")
        defer { removeDirectory(directory) }
        let cases: [(script: String, message: String)] = [
            ("imgs = imgs[:, :32, :32]", "imgs must be [n, 64, 64] bytes (uint8 or bool), got [9, 32, 32]"),
            ("classes = classes[:, 1:]", "latents_classes must be [9, 6]"),
            ("classes[3, 2] = 6", "latents_classes row 3: scale class 6, expected 0…5"),
            ("classes[0, 0] = 1", "latents_classes row 0: colour class 1, expected 0"),
            ("imgs = (imgs * 255).astype(np.uint8)", "imgs must hold 0 and 1 only"),
        ]
        for (index, (script, message)) in cases.enumerated() {
            let path = try Self.write("bad\(index)", in: directory, compressed: true, script: script)
            do {
                _ = try DSpritesArchive(contentsOf: path)
                Issue.record("\(script): accepted")
            } catch let error as FormatError {
                #expect(error.message.hasPrefix("\(path): \(message)"), "\(error.message)")
            }
        }
        // A corrupted stored file fails its CRC check; a file that is not a zip says so.
        let stored = try Self.write("stored", in: directory, compressed: false)
        var bytes = try AtomicFile.read(stored)
        let imagesStart = bytes.count / 4
        bytes[imagesStart] ^= 1
        try AtomicFile.write(bytes, to: stored)
        do {
            _ = try DSpritesArchive(contentsOf: stored)
            Issue.record("a corrupted file was accepted")
        } catch let error as FormatError {
            #expect(error.message == "\(stored) (imgs.npy): zip: CRC-32 mismatch (the entry is corrupt)", "\(error.message)")
        }
        try AtomicFile.write(Array("not a zip".utf8), to: directory + "/plain.npz")
        do {
            _ = try DSpritesArchive(contentsOf: directory + "/plain.npz")
            Issue.record("a text file was read as a zip")
        } catch let error as FormatError {
            #expect(error.message.hasPrefix(directory + "/plain.npz: not a zip archive"))
        }
    }
}
