import Foundation

/// A tiny IDX dataset written by the tests themselves (no download, loads in milliseconds): 28×28 images of a
/// bright square in one of four quadrants plus a deterministic speckle, with the quadrant as the label.
enum SyntheticData {
    static let side = 28

    /// Writes `train-*` and `t10k-*` IDX files (uncompressed) into `directory`, creating it.
    static func write(to directory: String, trainCount: Int = 256, testCount: Int = 64) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (stem, count, salt) in [("train", trainCount, UInt32(1)), ("t10k", testCount, UInt32(2))] {
            try Data(imageFile(count: count, salt: salt)).write(to: URL(fileURLWithPath: "\(directory)/\(stem)-images-idx3-ubyte"))
            try Data(labelFile(count: count)).write(to: URL(fileURLWithPath: "\(directory)/\(stem)-labels-idx1-ubyte"))
        }
    }

    static func bigEndian(_ value: Int) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) }
    }

    static func imageFile(count: Int, salt: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 8, 3] + bigEndian(count) + bigEndian(side) + bigEndian(side)
        var state: UInt32 = 2_463_534_242 &+ salt
        for index in 0..<count {
            let quadrant = index % 4
            for row in 0..<side {
                for column in 0..<side {
                    state ^= state << 13; state ^= state >> 17; state ^= state << 5   // xorshift32
                    let inside = (row / 14 == quadrant / 2) && (column / 14 == quadrant % 2)
                    bytes.append(inside ? UInt8(160 + state % 96) : UInt8(state % 40))
                }
            }
        }
        return bytes
    }

    static func labelFile(count: Int) -> [UInt8] {
        [0, 0, 8, 1] + bigEndian(count) + (0..<count).map { UInt8($0 % 4) }
    }
}

/// Little-endian Float32 bytes.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}

/// A safetensors file built by hand (the test target does not link VAEFormats): `tensors` in order, F32.
func safetensorsFile(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = [:]) -> [UInt8] {
    var entries: [String] = []
    var offset = 0
    for tensor in tensors {
        let size = tensor.values.count * 4
        entries.append("\"\(tensor.name)\":{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}")
        offset += size
    }
    if !metadata.isEmpty {
        entries.insert("\"__metadata__\":{" + metadata.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}", at: 0)
    }
    let header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    return withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + tensors.flatMap { littleEndianBytes($0.values) }
}

/// The tensors of the `mlp` model with hidden sizes `hidden` and latent size `latent` on 784 inputs, as PyTorch
/// names them, with small deterministic values.
func mlpTensors(hidden: Int = 400, latent: Int = 20, inputs: Int = 784) -> [(name: String, shape: [Int], values: [Float])] {
    let shapes: [(String, [Int])] = [
        ("encoder.layers.0.weight", [hidden, inputs]), ("encoder.layers.0.bias", [hidden]),
        ("mean.weight", [latent, hidden]), ("mean.bias", [latent]),
        ("logVariance.weight", [latent, hidden]), ("logVariance.bias", [latent]),
        ("decoder.layers.0.weight", [hidden, latent]), ("decoder.layers.0.bias", [hidden]),
        ("decoder.layers.1.weight", [inputs, hidden]), ("decoder.layers.1.bias", [inputs]),
    ]
    var state: UInt32 = 12345
    return shapes.map { name, shape in
        let count = shape.reduce(1, *)
        let values: [Float] = (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return (Float(state % 2001) / 1000 - 1) * 0.05
        }
        return (name, shape, values)
    }
}
