import Foundation
import TestSupport
import Testing

/// Bad input ends with a non-zero exit, one line on stderr that names what is wrong and what was expected, and no
/// half-made run directory.
@Suite(.serialized) struct BadInputTests {
    // MARK: - vae train

    @Test func missingDataDirectory() throws {
        let workspace = try Workspace("no-data")
        defer { workspace.remove() }
        let result = try runVAE(["train", "--data", "/nonexistent", "--epochs", "1", "--output", workspace.run],
                                in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["/nonexistent", "not found", "--data", "IDX"])
        workspace.expectNoRunLeftBehind()
    }

    /// A raw file that is shorter than its header promises; the raw file is preferred over the intact `.gz` beside
    /// it, so this is what training reads.
    @Test func truncatedTrainingImages() throws {
        let workspace = try Workspace("truncated")
        defer { workspace.remove() }
        let data = try dataDirectory(in: workspace)
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]   // 60000 × 28 × 28
        try Data(header + [UInt8](repeating: 7, count: 1000)).write(to: URL(fileURLWithPath: data + "/train-images-idx3-ubyte"))
        let result = try runVAE(["train", "--data", data, "--epochs", "1", "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(result, mentioning: [data + "/train-images-idx3-ubyte:", "truncated", "47040000", "1000"])
        workspace.expectNoRunLeftBehind()
    }

    @Test func trainingImagesThatAreNotIDX() throws {
        let workspace = try Workspace("not-idx")
        defer { workspace.remove() }
        let data = try dataDirectory(in: workspace)
        try Data("P5 28 28 255\nnot an idx file at all".utf8)
            .write(to: URL(fileURLWithPath: data + "/train-images-idx3-ubyte"))
        let result = try runVAE(["train", "--data", data, "--epochs", "1", "--output", workspace.run], in: workspace.path)
        // 'P' is 0x50, '5' is 0x35.
        expectSingleErrorLine(result, mentioning: [data + "/train-images-idx3-ubyte:", "not an IDX file", "0x50 0x35",
                                                "expected 0x00 0x00"])
        workspace.expectNoRunLeftBehind()
    }

    @Test func unknownConfigName() throws {
        let workspace = try Workspace("config-name")
        defer { workspace.remove() }
        let result = try runVAE(["train", "--config", "nosuchconfig", "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["'nosuchconfig'", "built-in", "mlp", "no such file"])
        workspace.expectNoRunLeftBehind()
    }

    @Test func configFileWithUnknownKey() throws {
        let workspace = try Workspace("config-key")
        defer { workspace.remove() }
        let file = workspace.path + "/typo.yaml"
        try "model_params:\n  name: mlp\n  laten_size: 8\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runVAE(["train", "--config", file, "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(result, mentioning: [file + ":", "unknown key 'model_params.laten_size'", "line 3",
                                                "did you mean 'latent_size'?"])
        workspace.expectNoRunLeftBehind()
    }

    @Test(arguments: ["0", "-3"]) func nonPositiveEpochs(_ epochs: String) throws {
        let workspace = try Workspace("epochs")
        defer { workspace.remove() }
        // `--epochs=-3` keeps the value attached; `--epochs -3` is the next test.
        let result = try runVAE(["train", "--epochs=\(epochs)", "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["--epochs", "positive integer", "got \(epochs)"])
        workspace.expectNoRunLeftBehind()
    }

    /// ArgumentParser reads `-3` after `--epochs` as another option, so the flag is named but its value is
    /// reported missing.
    @Test func negativeEpochsAsSeparateWord() throws {
        let workspace = try Workspace("epochs-separate")
        defer { workspace.remove() }
        let result = try runVAE(["train", "--epochs", "-3", "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["--epochs"])
        workspace.expectNoRunLeftBehind()
    }

    @Test
    func negativeEpochsAsSeparateWordIsReportedAsNotPositive() throws {
        let workspace = try Workspace("epochs-separate-value")
        defer { workspace.remove() }
        let result = try runVAE(["train", "--epochs", "-3", "--output", workspace.run], in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["--epochs", "positive integer", "got -3"])
    }

    /// A run that fails in its first epoch must not take the user's existing `--output` folder with it.
    @Test(.enabled(if: hasFashionMNIST))
    func failedFirstEpochKeepsExistingOutputDirectory() throws {
        let workspace = try Workspace("existing-output")
        defer { workspace.remove() }
        try FileManager.default.createDirectory(atPath: workspace.run, withIntermediateDirectories: true)
        try "mine".write(toFile: workspace.run + "/notes.txt", atomically: true, encoding: .utf8)
        // Adam with step size 10 overflows the log-variance within a few steps: the trainer stops on a
        // non-finite loss.
        let result = try runVAE(["train", "--epochs", "1", "--train-limit", "2000", "--test-limit", "100",
                                 "--learning-rate", "10", "--output", workspace.run, "--quiet"], in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["training stopped", "--learning-rate"])
        #expect(FileManager.default.fileExists(atPath: workspace.run + "/notes.txt"))
        workspace.expectNoRunLeftBehind()
    }

    // MARK: - vae eval, vae sample

    @Test func evaluateMissingRunDirectory() throws {
        let workspace = try Workspace("eval-missing")
        defer { workspace.remove() }
        let result = try runVAE(["eval", "/nonexistent"], in: workspace.path)
        expectSingleErrorLine(result, mentioning: ["/nonexistent", "no such run directory"])
    }

    @Test func evaluateDirectoryThatIsNotARun() throws {
        let workspace = try Workspace("eval-not-run")
        defer { workspace.remove() }
        try "not a run".write(toFile: workspace.path + "/notes.txt", atomically: true, encoding: .utf8)
        let result = try runVAE(["eval", workspace.path], in: workspace.path)
        expectSingleErrorLine(result, mentioning: [workspace.path + ":", "not a VAEKit run directory", "config.yaml",
                                                "checkpoint.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path) == ["notes.txt"])
    }

    /// --output is optional (a text run prints sentences); without a run the directory is what is wrong. An image
    /// run without --output is DiscreteModelCLITests' vq-vae run.
    @Test func sampleWithoutOutputOrRun() throws {
        let workspace = try Workspace("sample-no-output")
        defer { workspace.remove() }
        let result = try runVAE(["sample", workspace.path, "--count", "4"], in: workspace.path)
        expectSingleErrorLine(result, mentioning: [workspace.path + ":", "not a VAEKit run directory"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path).isEmpty)
    }

    // MARK: - Helpers

    /// `workspace/data` with links to the real label and test files (when present), so only the file a test
    /// breaks is wrong.
    private func dataDirectory(in workspace: Workspace) throws -> String {
        let data = workspace.data
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz"] where FileManager.default.fileExists(atPath: fashionMNISTDirectory + "/" + name) {
            try FileManager.default.createSymbolicLink(atPath: data + "/" + name,
                                                       withDestinationPath: fashionMNISTDirectory + "/" + name)
        }
        return data
    }
}
