import Foundation
import TestSupport
import Testing

/// One error line, `error: …`, naming every fragment, and a non-zero exit (shared by the CLI test suites).
func expectSingleErrorLine(_ result: CommandResult, mentioning fragments: [String],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0, "\(result.arguments) exited 0", sourceLocation: sourceLocation)
    #expect(result.errorLines.count == 1, "stderr: \(result.standardError)", sourceLocation: sourceLocation)
    let line = result.errorLines.first ?? ""
    #expect(line.hasPrefix("error: "), "stderr: \(result.standardError)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(line.contains(fragment), "'\(fragment)' missing from: \(line)", sourceLocation: sourceLocation)
    }
    // A crash (signal, Swift runtime trap) would not exit with 1 and would not print a single error line.
    #expect(result.status == 1 || result.status == 64, "exit status \(result.status)", sourceLocation: sourceLocation)
}

/// metrics.csv without the timing columns, one string per row.
func metricsWithoutTimes(_ run: String) throws -> [String] {
    let lines = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n").map(String.init)
    let header = try #require(lines.first).split(separator: ",").map(String.init)
    let timing = Set(["seconds", "images_per_second"])
    return lines.dropFirst().map { line in
        zip(header, line.split(separator: ",", omittingEmptySubsequences: false))
            .filter { !timing.contains($0.0) }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }
}

/// Reproducibility across processes, exact resume and crash safety, with the `vae` binary on a synthetic dataset.
@Suite(.serialized) struct ReliabilityTests {
    static let trainFlags = ["--batch-size", "64", "--seed", "3", "--threads", "2", "--binarize"]

    /// Same config, seed and threads in two processes: identical metrics.csv (all but the timing columns) and
    /// byte-identical weights. Then 2 epochs, a new process with `--resume --epochs 4`: the same again.
    @Test func separateProcessesAndAResumedRunGiveIdenticalResults() throws {
        let workspace = try makeTemporaryDirectory("reproducible")
        defer { removeDirectory(workspace) }
        let data = workspace + "/data"
        try SyntheticData.write(to: data)
        func train(_ output: String, epochs: Int) throws -> CommandResult {
            try runVAE(["train", "--data", data, "--epochs", String(epochs), "--output", workspace + "/" + output] + Self.trainFlags,
                       in: workspace)
        }
        for (name, epochs) in [("first", 4), ("second", 4), ("split", 2)] {
            let result = try train(name, epochs: epochs)
            try #require(result.status == 0, "stderr: \(result.standardError)")
        }
        let resume = try runVAE(["train", "--resume", workspace + "/split", "--epochs", "4"], in: workspace)
        try #require(resume.status == 0, "stderr: \(resume.standardError)")
        #expect(resume.outputLines.count == 1, "the result alone on stdout: \(resume.standardOutput)")
        #expect(resume.errorLines.filter { $0.hasPrefix("epoch ") }.map { String($0.prefix(9)) } == ["epoch 3/4", "epoch 4/4"],
                "stderr: \(resume.standardError)")

        let reference = try metricsWithoutTimes(workspace + "/first")
        #expect(reference.count == 4)
        #expect(try metricsWithoutTimes(workspace + "/second") == reference)
        #expect(try metricsWithoutTimes(workspace + "/split") == reference)
        let weights = try fileBytes(workspace + "/first/model.safetensors")
        #expect(try fileBytes(workspace + "/second/model.safetensors") == weights, "two processes, different weights")
        #expect(try fileBytes(workspace + "/split/model.safetensors") == weights, "resumed run, different weights")
        #expect(try fileBytes(workspace + "/split/optimizer.safetensors") == fileBytes(workspace + "/first/optimizer.safetensors"))
        #expect(try fileBytes(workspace + "/split/best/model.safetensors") == fileBytes(workspace + "/first/best/model.safetensors"))
        let evaluation = try runVAE(["eval", workspace + "/split/best", "-k", "0", "--limit", "8"], in: workspace)
        #expect(evaluation.status == 0, "best/ is a run directory of its own: \(evaluation.standardError)")

        // Another seed: the comparison above can fail.
        let other = try runVAE(["train", "--data", data, "--epochs", "1", "--output", workspace + "/other", "--batch-size", "64",
                                "--seed", "4", "--threads", "2", "--binarize"], in: workspace)
        try #require(other.status == 0, "stderr: \(other.standardError)")
        #expect(try metricsWithoutTimes(workspace + "/other").first != reference.first)
    }

    @Test func resumeRefusesWhatItCannotContinue() throws {
        let (workspace, data, run) = try trainedRun("resume-refusals", epochs: 2, ["--batch-size", "128"])
        defer { removeDirectory(workspace) }
        let before = try fileBytes(run + "/model.safetensors")

        expectSingleErrorLine(try runVAE(["train", "--resume", run, "--epochs", "2"], in: workspace),
                              mentioning: ["--epochs 2", run, "already completed 2 epochs", "greater than 2"])
        expectSingleErrorLine(try runVAE(["train", "--resume", run], in: workspace),
                              mentioning: ["--epochs 2", "already completed 2 epochs"])
        expectSingleErrorLine(try runVAE(["train", "--resume", run, "--epochs", "3", "--seed", "1"], in: workspace),
                              mentioning: ["--seed cannot be used with --resume", "config.yaml", "--epochs and --learning-rate"])
        expectSingleErrorLine(try runVAE(["train", "--resume", run, "--epochs", "3", "--output", workspace + "/x"], in: workspace),
                              mentioning: ["--output cannot be used with --resume"])
        expectSingleErrorLine(try runVAE(["train", "--resume", run, "--epochs", "3", "--batch-size", "7"], in: workspace),
                              mentioning: ["--batch-size cannot be used with --resume"])
        expectSingleErrorLine(try runVAE(["train", "--resume", workspace + "/absent", "--epochs", "3"], in: workspace),
                              mentioning: ["--resume \(workspace)/absent", "no such run directory"])
        expectSingleErrorLine(try runVAE(["train", "--resume", data, "--epochs", "3"], in: workspace),
                              mentioning: ["--resume \(data)", "no checkpoint to resume from", "checkpoint.json"])
        #expect(try fileBytes(run + "/model.safetensors") == before, "a refused resume must not touch the run")
        #expect(try metricsWithoutTimes(run).count == 2)

        // A config.yaml from another model (wider hidden layer) over these weights.
        let config = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        try config.replacingOccurrences(of: "hidden_sizes: [400]", with: "hidden_sizes: [300]")
            .write(toFile: run + "/config.yaml", atomically: true, encoding: .utf8)
        expectSingleErrorLine(try runVAE(["train", "--resume", run, "--epochs", "3"], in: workspace),
                              mentioning: ["checkpoints/epoch-2/model.safetensors", "'encoder.layers.0.weight'",
                                           "[400, 784]", "[300, 784]"])
        expectSingleErrorLine(try runVAE(["eval", run, "-k", "0"], in: workspace),
                              mentioning: ["model.safetensors", "'encoder.layers.0.weight'", "[400, 784]", "[300, 784]"])
    }

    /// A non-finite loss stops the run with one line naming the step and the advice; the last checkpoint stays,
    /// config.yaml keeps the settings it was trained with, and `--resume` continues from it.
    @Test func nonFiniteLossKeepsTheCheckpointAndResumeContinues() throws {
        let (workspace, _, run) = try trainedRun("non-finite", epochs: 1)
        defer { removeDirectory(workspace) }
        let weights = try fileBytes(run + "/model.safetensors")
        let config = try fileBytes(run + "/config.yaml")

        // Adam with step size 10 overflows the log-variance within a few steps.
        let diverging = try runVAE(["train", "--resume", run, "--epochs", "3", "--learning-rate", "10", "--quiet"], in: workspace)
        expectSingleErrorLine(diverging, mentioning: ["training stopped at step", "(epoch 2)", "the last good checkpoint (epoch 1) is kept",
                                                      "--learning-rate", "vae train --resume \(run)"])
        #expect(try fileBytes(run + "/model.safetensors") == weights)
        #expect(try fileBytes(run + "/config.yaml") == config, "config.yaml must describe the checkpoint, not the failed attempt")
        #expect(try metricsWithoutTimes(run).count == 1)

        let resumed = try runVAE(["train", "--resume", run, "--epochs", "2", "--learning-rate", "0.0005"], in: workspace)
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        #expect(try metricsWithoutTimes(run).count == 2)
        #expect(try String(contentsOfFile: run + "/config.yaml", encoding: .utf8).contains("learning_rate: 0.0005"))
    }

    /// A workspace (its path, its synthetic `data` and its `run`) holding a run trained for `epochs` with `extra`.
    private func trainedRun(_ label: String, epochs: Int, _ extra: [String] = []) throws
        -> (workspace: String, data: String, run: String) {
        let workspace = try Workspace.withSyntheticData(label)
        let train = try workspace.train(extra, epochs: epochs)
        if train.status != 0 { workspace.remove() }
        try #require(train.status == 0, "stderr: \(train.standardError)")
        return (workspace.path, workspace.data, workspace.run)
    }

    /// `vae train` killed with SIGKILL at random moments, many of them during a save (epochs of 256 images take a
    /// few milliseconds, so saves are a large part of the run). After each kill, the checkpoint (when an epoch
    /// finished) loads with `vae eval` and `--resume` continues it. fuzz/kill.sh runs the long version.
    @Test func killedTrainingLeavesALoadableCheckpoint() throws {
        let workspace = try makeTemporaryDirectory("kill")
        defer { removeDirectory(workspace) }
        let data = workspace + "/data"
        try SyntheticData.write(to: data)
        let executable = try #require(vaeExecutable)
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15   // fixed, so a failure names a reproducible trial
        func nextDelay() -> useconds_t {
            random ^= random << 13; random ^= random >> 7; random ^= random << 17
            return useconds_t(150_000 + random % 1_100_000)
        }
        var trialsWithCheckpoint = 0, interruptedSaves = 0
        for trial in 0..<10 {
            let run = "\(workspace)/run-\(trial)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["train", "--data", data, "--epochs", "1000", "--batch-size", "128", "--output", run]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(nextDelay())
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "trial \(trial): the run ended before it was killed")

            guard FileManager.default.fileExists(atPath: run + "/checkpoint.json") else { continue }
            trialsWithCheckpoint += 1
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.json"))) as? [String: Any])
            let epoch = try #require(state["epoch"] as? Int)
            // Inside a save: metrics.csv already has the next epoch's row (it is written just before the save),
            // the next epoch's folder exists, or a temporary file was left.
            let logged = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n").last?.prefix { $0 != "," }
            let contents = (try? FileManager.default.subpathsOfDirectory(atPath: run)) ?? []
            if logged.map(String.init) != String(epoch) || contents.contains(where: { $0.contains(".tmp-") })
                || FileManager.default.fileExists(atPath: "\(run)/checkpoints/epoch-\(epoch + 1)") {
                interruptedSaves += 1
            }
            let evaluation = try runVAE(["eval", run, "-k", "0", "--limit", "8"], in: workspace)
            #expect(evaluation.status == 0, "trial \(trial): the checkpoint does not load: \(evaluation.standardError)")
            let resume = try runVAE(["train", "--resume", run, "--epochs", String(epoch + 1)], in: workspace)
            #expect(resume.status == 0, "trial \(trial): resume after epoch \(epoch) failed: \(resume.standardError)")
            #expect(try metricsWithoutTimes(run).map { $0.prefix(while: { $0 != "," }) } == (1...(epoch + 1)).map { "epoch=\($0)" },
                    "trial \(trial): metrics.csv rows after resume")
        }
        #expect(trialsWithCheckpoint >= 5, "too few kills after the first epoch to test anything: \(trialsWithCheckpoint)")
        print("kill test: 10 kills, \(trialsWithCheckpoint) after a checkpoint, \(interruptedSaves) left an interrupted save behind")
    }
}
