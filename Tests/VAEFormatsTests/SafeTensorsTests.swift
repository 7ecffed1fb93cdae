import Foundation
import TestSupport
import Testing
import VAEFormats

/// Builds a safetensors file from a header written by hand and raw data bytes.
private func safetensorsFile(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + headerBytes + data
}

private func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}

/// Decodes `file` expecting a `FormatError`, and returns its message.
private func decodeError(_ file: [UInt8]) throws -> String {
    let error = try #require(throws: FormatError.self) { try SafeTensors.decode(file, source: "model.safetensors") }
    #expect(error.message.hasPrefix("model.safetensors: "))
    #expect(!error.message.contains("\n"))
    return error.message
}

@Suite struct SafeTensorsTests {
    let weight = SafeTensorEntry(name: "encoder.weight", shape: [2, 3], values: [1, -2, 3.5, 0, .pi, -0.25])
    let bias = SafeTensorEntry(name: "encoder.bias", shape: [2], values: [0.5, -1])
    let scalar = SafeTensorEntry(name: "step", shape: [], values: [42])
    let empty = SafeTensorEntry(name: "unused", shape: [0, 4], values: [])

    @Test func roundTripSortsByNameAndKeepsMetadata() throws {
        let bytes = try SafeTensors.encode([weight, scalar, empty, bias],
                                           metadata: [("format", "pt"), ("model", "mlp-vae")])
        let (tensors, metadata) = try SafeTensors.decode(bytes, source: "model.safetensors")
        #expect(tensors == [bias, weight, scalar, empty])
        #expect(metadata == ["format": "pt", "model": "mlp-vae"])
    }

    @Test func encodingIsByteExact() throws {
        let bytes = try SafeTensors.encode([weight, bias], metadata: [("format", "pt")])
        let header = #"{"__metadata__":{"format":"pt"},"#
            + #""encoder.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""encoder.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}"#
        let padding = String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let expected = safetensorsFile(header: header + padding, data: floatBytes(bias.values + weight.values))
        #expect(bytes == expected)
        #expect((bytes.count - 8 - 32) % 8 == 0)  // the data buffer starts 8-byte aligned
    }

    @Test func encodingIgnoresTheOrderOfTheInput() throws {
        let forward = try SafeTensors.encode([weight, bias, scalar])
        let backward = try SafeTensors.encode([scalar, bias, weight])
        #expect(forward == backward)
    }

    @Test func namesAndMetadataAreEscaped() throws {
        let odd = SafeTensorEntry(name: "quote\"back\\slash\nnewline\u{1}é", shape: [1], values: [7])
        let bytes = try SafeTensors.encode([odd], metadata: [("note", "tab\there \"quoted\"")])
        let (tensors, metadata) = try SafeTensors.decode(bytes, source: "odd.safetensors")
        #expect(tensors == [odd])
        #expect(metadata == ["note": "tab\there \"quoted\""])
    }

    @Test func encoderRejectsInconsistentInput() {
        #expect(throws: FormatError.self) { try SafeTensors.encode([weight, weight]) }
        #expect(throws: FormatError.self) {
            try SafeTensors.encode([SafeTensorEntry(name: "w", shape: [2, 2], values: [1, 2, 3])])
        }
        #expect(throws: FormatError.self) {
            try SafeTensors.encode([SafeTensorEntry(name: "w", shape: [-1], values: [])])
        }
        #expect(throws: FormatError.self) {
            try SafeTensors.encode([SafeTensorEntry(name: "__metadata__", shape: [1], values: [1])])
        }
    }

    @Test func otherFloatTypesAreConverted() throws {
        let doubles = [1.5, -2.25].flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 2^-24 (smallest subnormal) = 0x0001. BF16: 1.0 = 0x3f80, -0.5 = 0xbf00.
        let halves: [UInt8] = [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]
        let brains: [UInt8] = [0x80, 0x3f, 0x00, 0xbf]
        let header = #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"#
            + #""c":{"dtype":"BF16","shape":[2],"data_offsets":[22,26]}}"#
        let (tensors, _) = try SafeTensors.decode(safetensorsFile(header: header, data: doubles + halves + brains),
                                                  source: "mixed.safetensors")
        #expect(tensors.map(\.values) == [[1.5, -2.25], [1, -2, 0x1p-24], [1, -0.5]])
    }

    @Test func tooShortOrOversizedHeaderLengths() throws {
        #expect(try decodeError([1, 2, 3]).contains("too short"))
        let beyondFile = safetensorsFile(header: "{}", data: [], declaredLength: 1000)
        #expect(try decodeError(beyondFile).contains("header length 1000 exceeds the 2 bytes"))
        let huge = safetensorsFile(header: "{}", data: [], declaredLength: UInt64.max)
        #expect(try decodeError(huge).contains("exceeds the limit of 100000000 bytes"))
    }

    @Test(arguments: ["not json", "[1, 2]", "\"text\"", "{\"a\": "])
    func headerMustBeAJSONObject(header: String) throws {
        let message = try decodeError(safetensorsFile(header: header, data: []))
        #expect(message.contains("not valid JSON") || message.contains("not a JSON object"))
    }

    @Test func hostileTensorDescriptionsNameTheTensor() throws {
        let cases: [(header: String, dataCount: Int, expected: String)] = [
            (#"{"w":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#, 4,
             #"tensor "w" has unsupported dtype I32"#),
            (#"{"w":{"dtype":"F32","shape":[-1, 2],"data_offsets":[0,4]}}"#, 4,
             #"tensor "w" has a shape with negative entries [-1, 2]"#),
            (#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, 4,
             #"tensor "w" has shape [4294967296, 4294967296] whose size overflows"#),
            (#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, 4,
             #"tensor "w" has a shape with non-integer entries"#),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, 4,
             #"tensor "w" has no "data_offsets" pair"#),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4,
             #"tensor "w" has data_offsets [4, 0] outside the data buffer of 4 bytes"#),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, 4,
             #"tensor "w" has data_offsets [0, 8] outside the data buffer of 4 bytes"#),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, 4,
             #"outside the data buffer"#),
            (#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, 20,
             #"tensor "w" has shape [2, 3] of F32 needing 24 bytes, but data_offsets [0, 20] hold 20"#),
            (#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, 4, #"tensor "w" has no "dtype" string"#),
            (#"{"w":[1,2]}"#, 0, #"tensor "w" is not described by a JSON object"#),
            (#"{"__metadata__":{"k":1}}"#, 0, #"metadata value for "k" is not a string"#),
            (#"{"__metadata__":[1]}"#, 0, #""__metadata__" is not a JSON object"#),
        ]
        for (header, dataCount, expected) in cases {
            let file = safetensorsFile(header: header, data: [UInt8](repeating: 0, count: dataCount))
            let message = try decodeError(file)
            #expect(message.contains(expected), "header \(header)")
        }
    }

    @Test func tensorsMustTileTheDataBuffer() throws {
        let overlap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(try decodeError(safetensorsFile(header: overlap, data: .init(repeating: 0, count: 8)))
                == #"model.safetensors: tensor "b" bytes 4..<8 overlap tensor "a""#)
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
            + #""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        #expect(try decodeError(safetensorsFile(header: gap, data: .init(repeating: 0, count: 12)))
                .contains(#"bytes 4..<8 before tensor "b" belong to no tensor"#))
        let tail = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        #expect(try decodeError(safetensorsFile(header: tail, data: .init(repeating: 0, count: 6)))
                .contains("bytes 4..<6 at the end belong to no tensor"))
    }

    @Test func mutatedFilesNeverCrash() throws {
        let valid = try SafeTensors.encode([weight, bias, scalar], metadata: [("format", "pt")])
        var generator = TestBytes(seed: 2024)
        for _ in 0..<2000 {
            var mutated = valid
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let index = Int(generator.next() % UInt64(mutated.count))
                mutated[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 4 == 0 { mutated.removeLast(Int(generator.next() % UInt64(mutated.count))) }
            // Either a file whose every tensor holds as many values as its shape says, or one error line that names
            // the file.
            do {
                let (tensors, _) = try SafeTensors.decode(mutated, source: "fuzz.safetensors")
                for tensor in tensors {
                    #expect(tensor.values.count == tensor.shape.reduce(1, *), "\(tensor.name): \(tensor.shape)")
                }
            } catch let error as FormatError {
                #expect(error.message.hasPrefix("fuzz.safetensors"), "\(error.message)")
                #expect(!error.message.contains("\n"), "\(error.message)")
            } catch {
                Issue.record("a mutated file raised \(type(of: error)), not a FormatError: \(error)")
            }
        }
    }

    @Test(.enabled(if: pythonHas("safetensors.numpy"), "python3 with safetensors and numpy is not installed"))
    func pythonReadsOurFile() throws {
        let directory = try makeTemporaryDirectory("python-safetensors")
        defer { removeDirectory(directory) }
        let path = directory + "/model.safetensors"
        try AtomicFile.write(try SafeTensors.encode([weight, bias], metadata: [("format", "np")]), to: path)
        let check = """
            import sys, numpy, safetensors.numpy
            tensors = safetensors.numpy.load_file(sys.argv[1])
            assert sorted(tensors) == ["encoder.bias", "encoder.weight"]
            assert tensors["encoder.weight"].dtype == numpy.float32
            assert tensors["encoder.weight"].shape == (2, 3)
            assert tensors["encoder.weight"][1, 2] == numpy.float32(-0.25)
            assert list(tensors["encoder.bias"]) == [0.5, -1.0]
            """
        let result = try runPython(check, [path])
        #expect(result.status == 0, "python: \(result.standardError)")
    }
}
