import Foundation
import Testing

/// `vae import`: a run directory from a safetensors file written elsewhere, then eval, sample and --resume on it.
@Suite(.serialized) struct InteropTests {
    /// The `mlp` model narrowed to 784-64-8, so files are small and training is quick.
    static let config = """
        model_params:
          name: mlp
          hidden_sizes: [64]
          latent_size: 8
        data_params:
          batch_size: 64
        trainer_params:
          picture_count: 4
        """

    struct Workspace {
        let path: String
        var data: String { path + "/data" }
        var config: String { path + "/small.yaml" }
        init(_ label: String) throws {
            path = try makeTemporaryDirectory(label)
            try SyntheticData.write(to: data)
            try InteropTests.config.write(toFile: config, atomically: true, encoding: .utf8)
        }
        func importing(_ weights: String, output: String = "run", extra: [String] = []) throws -> CommandResult {
            try runVAE(["import", weights, "--config", config, "--data", data, "--output", path + "/" + output] + extra, in: path)
        }
    }

    /// Imported weights are used as they are: eval, sample and a resumed epoch work on the imported run.
    private func expectUsable(_ workspace: Workspace, run: String) throws {
        let evaluation = try runVAE(["eval", run, "-k", "10", "--limit", "16", "--json"], in: workspace.path)
        #expect(evaluation.status == 0, "stderr: \(evaluation.standardError)")
        let sample = try runVAE(["sample", run, "--count", "4", "--output", workspace.path + "/samples.png"], in: workspace.path)
        #expect(sample.status == 0, "stderr: \(sample.standardError)")
        #expect(isPNG(workspace.path + "/samples.png"))
        let resume = try runVAE(["train", "--resume", run, "--epochs", "1"], in: workspace.path)
        #expect(resume.status == 0, "stderr: \(resume.standardError)")
        #expect(resume.outputLines.contains { $0.hasPrefix("epoch 1/1") }, "stdout: \(resume.standardOutput)")
        #expect(try metricsWithoutTimes(run).count == 1)
    }

    @Test func importsAFileBuiltWithTheSafetensorsLayout() throws {
        let workspace = try Workspace("import-swift")
        defer { removeDirectory(workspace.path) }
        let weights = workspace.path + "/weights.safetensors"
        let tensors = mlpTensors(hidden: 64, latent: 8)
        try Data(safetensorsFile(tensors.reversed(), metadata: ["format": "pt"])).write(to: URL(fileURLWithPath: weights))
        let result = try workspace.importing(weights)
        #expect(result.status == 0, "stderr: \(result.standardError)")
        #expect(result.standardOutput.contains("imported 10 tensors"), "stdout: \(result.standardOutput)")
        let run = workspace.path + "/run"
        // The run's weights hold exactly the imported values, in VAEKit's own file.
        let imported = try fileBytes(run + "/model.safetensors")
        for tensor in tensors {
            let needle = littleEndianBytes(Array(tensor.values.prefix(16)))
            #expect(imported.firstRange(of: needle) != nil, "\(tensor.name) values not found in the imported run")
        }
        try expectUsable(workspace, run: run)
    }

    /// A state dict saved by PyTorch itself (safetensors.torch.save_file), imported, then read back by Python's
    /// safetensors + numpy from the run directory: the same arrays, bit for bit.
    @Test(.enabled(if: pythonHas("torch, safetensors, numpy"), "python3 with torch, safetensors and numpy is not installed"))
    func importsAPyTorchStateDictAndPythonReadsItBack() throws {
        let workspace = try Workspace("import-torch")
        defer { removeDirectory(workspace.path) }
        let weights = workspace.path + "/torch.safetensors"
        let save = """
            import sys, torch
            from safetensors.torch import save_file
            torch.manual_seed(0)
            class MLP(torch.nn.Module):
                def __init__(self, sizes):
                    super().__init__()
                    self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
            class VAE(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.encoder = MLP([784, 64])
                    self.mean = torch.nn.Linear(64, 8)
                    self.log_variance = torch.nn.Linear(64, 8)
                    self.decoder = MLP([8, 64, 784])
            save_file(VAE().state_dict(), sys.argv[1], metadata={"format": "pt"})
            """
        let saved = try runPython(save, [weights])
        try #require(saved.status == 0, "python: \(saved.standardError)")
        let result = try workspace.importing(weights)
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let run = workspace.path + "/run"
        let compare = """
            import sys, numpy
            from safetensors.numpy import load_file
            original, imported = load_file(sys.argv[1]), load_file(sys.argv[2])
            assert sorted(original) == sorted(imported), (sorted(original), sorted(imported))
            for name in original:
                assert original[name].shape == imported[name].shape, name
                assert numpy.array_equal(original[name], imported[name]), name
            print("ok", len(original))
            """
        let compared = try runPython(compare, [weights, run + "/model.safetensors"])
        #expect(compared.status == 0, "python: \(compared.standardError)")
        #expect(compared.standardOutput.hasPrefix("ok 10"), "python: \(compared.standardOutput)")
        try expectUsable(workspace, run: run)
    }

    /// Each problem with the file gives one line naming the file, the tensor and what was expected.
    @Test func importErrorsNameTheTensor() throws {
        let workspace = try Workspace("import-errors")
        defer { removeDirectory(workspace.path) }
        let tensors = mlpTensors(hidden: 64, latent: 8)
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = workspace.path + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let missing = try file("missing.safetensors", safetensorsFile(tensors.filter { $0.name != "mean.bias" }))
        expectSingleErrorLine(try workspace.importing(missing), mentioning: [missing + ":", "no tensor 'mean.bias'"])

        var misShaped = tensors
        misShaped[2] = ("mean.weight", [8, 32], Array(misShaped[2].values.prefix(256)))
        let shaped = try file("shape.safetensors", safetensorsFile(misShaped))
        expectSingleErrorLine(try workspace.importing(shaped), mentioning: [shaped + ":", "'mean.weight'", "[8, 32]", "[8, 64]"])

        let extra = try file("extra.safetensors", safetensorsFile(tensors + [("decoder.layers.2.weight", [2], [1, 2])]))
        expectSingleErrorLine(try workspace.importing(extra), mentioning: [extra + ":", "unexpected tensor 'decoder.layers.2.weight'"])

        var poisoned = tensors
        poisoned[1].values[3] = .nan
        let nan = try file("nan.safetensors", safetensorsFile(poisoned))
        expectSingleErrorLine(try workspace.importing(nan), mentioning: [nan + ":", "'encoder.layers.0.bias'", "NaN"])

        expectSingleErrorLine(try workspace.importing(workspace.path + "/absent.safetensors"),
                              mentioning: [workspace.path + "/absent.safetensors: no such file"])
        expectSingleErrorLine(try workspace.importing(missing, extra: ["--input-shape", "1,28"]),
                              mentioning: ["--input-shape", "C,H,W", "'1,28'"])
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/run"), "a failed import must not leave a run")

        let good = try file("good.safetensors", safetensorsFile(tensors))
        #expect(try workspace.importing(good).status == 0)
        expectSingleErrorLine(try workspace.importing(good), mentioning: ["--output", "already holds a trained run"])
    }
}

/// Runs `python3 -c script arguments…`.
func runPython(_ script: String, _ arguments: [String]) throws -> (status: Int32, standardOutput: String, standardError: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read before waiting: a chatty interpreter (warnings) must not block on a full pipe.
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// True when `python3 -c "import <modules>"` succeeds.
func pythonHas(_ modules: String) -> Bool {
    (try? runPython("import \(modules)", []))?.status == 0
}
