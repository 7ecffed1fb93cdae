import Foundation
import Testing
import TestSupport

/// A workspace as the CLI tests use it: the working directory of each command, `data` for training files and
/// `run` as the `--output` a command is given.
extension Workspace {
    var data: String { path + "/data" }
    var run: String { path + "/run" }

    /// A workspace whose `data` holds the synthetic IDX files (``SyntheticData``).
    static func withSyntheticData(_ label: String) throws -> Workspace {
        let workspace = try Workspace(label)
        try SyntheticData.write(to: workspace.data)
        return workspace
    }

    /// `vae train --data data --epochs epochs --output run` with `extra` flags, in this workspace.
    func train(_ extra: [String] = [], epochs: Int = 1) throws -> CommandResult {
        try runVAE(["train", "--data", data, "--epochs", String(epochs), "--output", run] + extra, in: path)
    }

    /// Nothing that looks like a run was left: neither the `--output` directory (or it holds no checkpoint, metrics
    /// or weights) nor a default `runs/` folder in the working directory.
    func expectNoRunLeftBehind(sourceLocation: SourceLocation = #_sourceLocation) {
        let manager = FileManager.default
        if manager.fileExists(atPath: run) {
            for file in ["checkpoint.json", "metrics.csv", "model.safetensors"] {
                #expect(!manager.fileExists(atPath: run + "/" + file), "\(file) left behind",
                        sourceLocation: sourceLocation)
            }
        }
        #expect(!manager.fileExists(atPath: path + "/runs"), "a default run directory was created",
                sourceLocation: sourceLocation)
    }
}
