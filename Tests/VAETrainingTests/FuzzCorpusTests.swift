import Foundation
import Testing
import VAEData
import VAEFormats
import VAETensor
@testable import VAETraining

/// CI's share of the fuzzing in fuzz/: every seed in fuzz/corpus and a few thousand seeded mutations of them go
/// through the IDX, safetensors and config loaders, with the invariants of fuzz/Harness.swift. A loader may
/// reject an input, but only with its own one-line error; a trap would crash the test process.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fuzz/corpus").standardizedFileURL.path

    static func seeds(_ target: String) throws -> [[UInt8]] {
        let folder = corpus + "/" + target
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        return try names.map { try AtomicFile.read(folder + "/" + $0) }
    }

    /// Seeds, then mutants: bytes flipped, inserted, deleted, runs duplicated, the input cut short.
    static func inputs(_ target: String, mutants: Int) throws -> [[UInt8]] {
        let seeds = try seeds(target)
        #expect(seeds.count >= 4, "fuzz/corpus/\(target) is missing")
        var random = RandomStream(seed: 6, name: "fuzz-\(target)")
        var inputs = seeds
        for _ in 0..<mutants {
            var bytes = seeds[random.integer(below: seeds.count)]
            for _ in 0...random.integer(below: 4) {
                let position = bytes.isEmpty ? 0 : random.integer(below: bytes.count)
                switch random.integer(below: 5) {
                case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << random.integer(below: 8))
                case 1: bytes.insert(UInt8(random.integer(below: 256)), at: position)
                case 2 where !bytes.isEmpty: bytes.remove(at: position)
                case 3 where !bytes.isEmpty:
                    let end = min(bytes.count, position + 1 + random.integer(below: 16))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                default: bytes = Array(bytes.prefix(position))
                }
            }
            inputs.append(bytes)
        }
        return inputs
    }

    @Test func idxReader() throws {
        var accepted = 0
        for bytes in try Self.inputs("idx", mutants: 3000) {
            do {
                let array = try IDXReader.decode(bytes, source: "fuzz")
                #expect(array.bytes.count == array.dimensions.reduce(1, *))
                accepted += 1
            } catch let error as FormatError {
                #expect(error.message.hasPrefix("fuzz: ") && !error.message.contains("\n"), "\(error.message)")
            }
        }
        #expect(accepted >= 3, "the valid seeds must decode")
    }

    @Test func safeTensorsDecoder() throws {
        var accepted = 0
        for bytes in try Self.inputs("safetensors", mutants: 3000) {
            do {
                let (tensors, _) = try SafeTensors.decode(bytes, source: "fuzz")
                for tensor in tensors { #expect(tensor.values.count == tensor.shape.reduce(1, *)) }
                let again = try SafeTensors.decode(try SafeTensors.encode(tensors, metadata: []), source: "again").tensors
                #expect(again.map(\.name) == tensors.map(\.name) && again.map(\.shape) == tensors.map(\.shape))
                accepted += 1
            } catch let error as FormatError {
                #expect(error.message.hasPrefix("fuzz: ") && !error.message.contains("\n"), "\(error.message)")
            }
        }
        #expect(accepted >= 3, "the valid seeds must decode")
    }

    @Test func configParser() throws {
        var accepted = 0
        for bytes in try Self.inputs("config", mutants: 1500) {
            do {
                let config = try ConfigLoader.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz.yaml")
                #expect(try ConfigLoader.parse(config.yaml(), source: "again") == config, "round trip changed the config")
                accepted += 1
            } catch let error as ConfigError {
                #expect(error.message.hasPrefix("fuzz.yaml: ") && !error.message.contains("\n"), "\(error.message)")
            }
        }
        #expect(accepted >= 3, "the valid seeds must parse")
    }
}
