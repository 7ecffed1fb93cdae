import Foundation
import TestSupport
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

    /// A workspace with the synthetic data and the small config (`small.yaml`).
    private func makeWorkspace(_ label: String) throws -> Workspace {
        let workspace = try Workspace.withSyntheticData(label)
        try InteropTests.config.write(toFile: workspace.config, atomically: true, encoding: .utf8)
        return workspace
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
        #expect(resume.errorLines.contains { $0.hasPrefix("epoch 1/1") }, "stderr: \(resume.standardError)")
        #expect(try metricsWithoutTimes(run).count == 1)
    }

    @Test func importsAFileBuiltWithTheSafetensorsLayout() throws {
        let workspace = try makeWorkspace("import-swift")
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
        let workspace = try makeWorkspace("import-torch")
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
        let workspace = try makeWorkspace("import-errors")
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

extension Workspace {
    fileprivate var config: String { path + "/small.yaml" }

    /// `vae import weights` with the small config and the synthetic data into `output` (a name in the workspace).
    fileprivate func importing(_ weights: String, output: String = "run", extra: [String] = []) throws -> CommandResult {
        try runVAE(["import", weights, "--config", config, "--data", data, "--output", path + "/" + output] + extra, in: path)
    }
}
