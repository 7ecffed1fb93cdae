import Foundation
import TestSupport
import Testing

/// Bad inputs from issue 6 beyond BadInputTests: each ends with one error line naming the file, key or flag and
/// what was expected, a usage exit status (never a signal or trap), and no run left behind.
@Suite(.serialized) struct MoreBadInputTests {
    /// The training images replaced by `bytes` as `train-images-idx3-ubyte.gz` (the raw file removed).
    @Test(arguments: [
        ("empty", [UInt8](), ["file is empty", "IDX"]),
        ("corrupt", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] + [UInt8](repeating: 0xFF, count: 40), ["corrupt gzip data"]),
        ("truncated", Array(gzipOfSyntheticImages().prefix(400)), ["gzip stream is truncated"]),
        ("trailing", gzipOfSyntheticImages() + [1, 2, 3], ["3 unexpected bytes after the end of the gzip stream"]),
    ])
    func badCompressedImages(label: String, bytes: [UInt8], fragments: [String]) throws {
        let workspace = try Workspace.withSyntheticData("gzip-\(label)")
        defer { workspace.remove() }
        let path = workspace.data + "/train-images-idx3-ubyte"
        try FileManager.default.removeItem(atPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path + ".gz"))
        expectSingleErrorLine(try workspace.train([]), mentioning: [path + ".gz:"] + fragments)
        workspace.expectNoRunLeftBehind()
    }

    @Test func labelCountDiffersFromImageCount() throws {
        let workspace = try Workspace.withSyntheticData("labels")
        defer { workspace.remove() }
        let path = workspace.data + "/t10k-labels-idx1-ubyte"
        try Data(SyntheticData.labelFile(count: 63)).write(to: URL(fileURLWithPath: path))
        expectSingleErrorLine(try workspace.train([]), mentioning: [path + ":", "expected 64 labels", "t10k-images-idx3-ubyte", "[63]"])
        workspace.expectNoRunLeftBehind()
    }

    @Test func testImagesOfAnotherSize() throws {
        let workspace = try Workspace.withSyntheticData("image-size")
        defer { workspace.remove() }
        var bytes: [UInt8] = [0, 0, 8, 3] + SyntheticData.bigEndian(4) + SyntheticData.bigEndian(14) + SyntheticData.bigEndian(14)
        bytes += [UInt8](repeating: 9, count: 4 * 14 * 14)
        try Data(bytes).write(to: URL(fileURLWithPath: workspace.data + "/t10k-images-idx3-ubyte"))
        try FileManager.default.removeItem(atPath: workspace.data + "/t10k-labels-idx1-ubyte")
        expectSingleErrorLine(try workspace.train([]), mentioning: [workspace.data + ":", "[1, 28, 28]", "[1, 14, 14]"])
        workspace.expectNoRunLeftBehind()
    }

    @Test(arguments: [
        ("data_params:\n  batch_size: many\nmodel_params:\n  name: mlp\n", ["data_params.batch_size", "line 2", "integer", "many"]),
        ("model_params:\n  name: mlp\n  hidden_sizes: 400\n", ["model_params.hidden_sizes", "line 3", "list"]),
        ("model_params:\n  name: mlp\ntrainer_params:\n  epochs: 0\n", ["trainer_params.epochs", "line 4", "from 1 to 100000", "got 0"]),
        ("model_params:\n  name: mlp\nexp_params:\n  learning_rate: -0.1\n", ["exp_params.learning_rate", "line 4", "-0.1"]),
        ("model_params:\n  name: mlp\ndata_params:\n  binarize: sometimes\n", ["data_params.binarize", "line 4", "sometimes"]),
        ("model_params: [mlp]\n", ["model_params", "mapping"]),
        ("model_params:\n  name: mlp\n  latent_size: 8\n  latent_size: 9\n", ["duplicate key 'model_params.latent_size'", "line 4"]),
        ("model_params:\n  name: [unclosed\n", ["invalid YAML", "line"]),
    ])
    func badConfigFile(yaml: String, fragments: [String]) throws {
        let workspace = try Workspace.withSyntheticData("yaml")
        defer { workspace.remove() }
        let file = workspace.path + "/bad.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        expectSingleErrorLine(try workspace.train(["--config", file]), mentioning: [file + ":"] + fragments)
        workspace.expectNoRunLeftBehind()
    }

    @Test(arguments: [
        (["train", "--batch-size", "0"], ["--batch-size", "positive integer", "got 0"]),
        (["train", "--threads", "0"], ["--threads", "positive integer", "got 0"]),
        (["train", "--learning-rate=-1"], ["--learning-rate", "positive number", "got -1"]),
        (["train", "--learning-rate", "nan"], ["--learning-rate", "positive number", "nan"]),
        (["train", "--train-limit=-5"], ["--train-limit", "0 or greater", "got -5"]),
        (["train", "--seed=-1"], ["--seed", "0 or greater", "got -1"]),
        (["train", "--epochs", "many"], ["--epochs", "many"]),
        (["eval", "RUN", "--limit=-1"], ["--limit", "0 or greater", "got -1"]),
        (["eval", "RUN", "-k=-2"], ["--importance-samples", "0 or greater", "got -2"]),
        (["sample", "RUN", "--count", "0", "--output", "x.png"], ["--count", "from 1 to 4096", "got 0"]),
        (["sample", "RUN", "--count", "5000", "--output", "x.png"], ["--count", "from 1 to 4096", "got 5000"]),
        (["sample", "RUN", "--output", "x.jpg"], ["--output", ".png", "x.jpg"]),
        (["import", "w.safetensors", "--output", "o", "--input-shape", "0,28,28"], ["--input-shape", "0,28,28"]),
    ])
    func flagOutOfRange(arguments: [String], fragments: [String]) throws {
        let workspace = try Workspace.withSyntheticData("flags")
        defer { workspace.remove() }
        let resolved = arguments.map { $0 == "RUN" ? workspace.run : $0 }
        let result = try runVAE(resolved + (arguments.first == "train" ? ["--data", workspace.data, "--output", workspace.run] : []),
                                in: workspace.path)
        expectSingleErrorLine(result, mentioning: fragments)
        workspace.expectNoRunLeftBehind()
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/x.png"))
    }

    /// A run whose weights file (the one checkpoint.json names) is replaced by a hostile safetensors file:
    /// `vae eval` names the file and the problem; nothing is allocated from the lying numbers.
    @Test(arguments: [
        ("short", [UInt8]([1, 2, 3]), ["too short"]),
        ("not JSON", headerOnly("{not json"), ["header is not valid JSON"]),
        ("oversized header", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B], ["header length", "exceeds the limit"]),
        ("header longer than file", [0x00, 0x10, 0, 0, 0, 0, 0, 0] + Array("{}".utf8), ["header length 4096 exceeds the 2 bytes"]),
        ("offsets beyond the file", headerOnly("{\"mean.weight\":{\"dtype\":\"F32\",\"shape\":[8,64],\"data_offsets\":[0,2048]}}"),
         ["\"mean.weight\"", "data_offsets [0, 2048] outside the data buffer of 0 bytes"]),
        ("shape against byte count", headerOnly("{\"mean.weight\":{\"dtype\":\"F32\",\"shape\":[100000000000,100000000],\"data_offsets\":[0,8]}}") + [UInt8](repeating: 0, count: 8),
         ["\"mean.weight\"", "overflows"]),
        ("shape against bytes", headerOnly("{\"mean.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}") + [UInt8](repeating: 0, count: 8),
         ["\"mean.bias\"", "needing 12 bytes", "hold 8"]),
        ("unsupported dtype", headerOnly("{\"mean.bias\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}") + [UInt8](repeating: 0, count: 8),
         ["\"mean.bias\"", "unsupported dtype I64"]),
    ])
    func hostileWeightsFile(label: String, bytes: [UInt8], fragments: [String]) throws {
        let workspace = try Workspace.withSyntheticData("hostile")
        defer { workspace.remove() }
        let weights = workspace.path + "/hostile.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: weights))
        // Through vae import (a file from elsewhere) …
        let imported = try runVAE(["import", weights, "--data", workspace.data, "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(imported, mentioning: [weights + ":"] + fragments)
        // … and through vae eval on a run whose checkpoint was overwritten.
        let good = workspace.path + "/good.safetensors"
        try Data(safetensorsFile(mlpTensors())).write(to: URL(fileURLWithPath: good))
        let made = try runVAE(["import", good, "--data", workspace.data, "--output", workspace.run], in: workspace.path)
        try #require(made.status == 0, "stderr: \(made.standardError)")
        let target = workspace.run + "/checkpoints/epoch-0/model.safetensors"
        try FileManager.default.removeItem(atPath: target)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        let evaluation = try runVAE(["eval", workspace.run, "-k", "0"], in: workspace.path)
        expectSingleErrorLine(evaluation, mentioning: [target + ":"] + fragments)
    }
}

/// A safetensors file that is only a header: length field and JSON text.
private func headerOnly(_ json: String) -> [UInt8] {
    let bytes = Array(json.utf8)
    return withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { Array($0) } + bytes
}

/// The synthetic training images, gzip-compressed by the system's gzip.
private func gzipOfSyntheticImages() -> [UInt8] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/images"
    try? Data(SyntheticData.imageFile(count: 16, salt: 1)).write(to: URL(fileURLWithPath: path))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-n", path]
    try? process.run()
    process.waitUntilExit()
    return (try? fileBytes(path + ".gz")) ?? []
}
