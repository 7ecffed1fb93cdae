import Foundation
import TestSupport
import Testing

/// `vae train`, then `vae eval` and `vae sample` on what it wrote: the commands as a user runs them.
@Suite(.serialized, .enabled(if: hasFashionMNIST, "needs Fashion-MNIST in \(fashionMNISTDirectory)"))
struct EndToEndTests {
    /// `--quiet` leaves standard error empty; `--log-format json` writes one JSON object per line on it, each
    /// epoch's with metrics.csv's columns.
    @Test func quietAndJSONProgress() throws {
        let workspace = try makeTemporaryDirectory("log-format")
        defer { removeDirectory(workspace) }
        let common = ["train", "--epochs", "2", "--train-limit", "500", "--test-limit", "100"]
        let quiet = try runVAE(common + ["--quiet", "--output", workspace + "/quiet"], in: workspace)
        #expect(quiet.status == 0 && quiet.standardError.isEmpty, "stderr: \(quiet.standardError)")
        #expect(quiet.outputLines.count == 1 && quiet.outputLines[0].hasPrefix("wrote \(workspace)/quiet/report.html"))

        let json = try runVAE(common + ["--log-format", "json", "--output", workspace + "/json"], in: workspace)
        #expect(json.status == 0, "stderr: \(json.standardError)")
        let objects = try json.errorLines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        #expect(objects.map { $0["event"] as? String } == ["start", "epoch", "epoch"], "\(json.standardError)")
        let rows = try String(contentsOfFile: workspace + "/json/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        for (object, row) in zip(objects.dropFirst(), rows) {
            let testLoss = try #require(Double(row.split(separator: ",")[2]))
            #expect(abs((object["test_loss"] as? Double ?? .nan) - testLoss) < 1e-5, "\(object) vs \(row)")
            #expect(object["images_per_second"] is Double && object["epoch"] as? Double == Double(row.prefix(1)))
        }
        let unknown = try runVAE(common + ["--log-format", "yaml"], in: workspace)
        #expect(unknown.status != 0 && unknown.standardError.contains("--log-format"), "\(unknown.standardError)")
    }

    @Test func trainEvaluateAndSample() throws {
        let workspace = try makeTemporaryDirectory("end-to-end")
        defer { removeDirectory(workspace) }
        let run = workspace + "/run"

        // MARK: train
        let train = try runVAE(["train", "--epochs", "1", "--train-limit", "2000", "--test-limit", "500",
                                "--output", run], in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        #expect(train.outputLines == ["wrote \(run)/report.html (metrics.csv, model.safetensors and the pictures beside it)"],
                "the result alone on stdout; progress on stderr: \(train.standardOutput)")
        let epochLines = train.errorLines.filter { $0.hasPrefix("epoch ") }
        #expect(epochLines.count == 1, "stderr: \(train.standardError)")
        #expect(epochLines.first?.contains("epoch 1/1") == true)
        #expect(epochLines.first?.contains("images/s") == true)

        for file in ["config.yaml", "metrics.csv", "model.safetensors", "optimizer.safetensors", "checkpoint.json",
                     "environment.json", "samples.png", "reconstructions.png"] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + file), "missing \(file)")
        }
        #expect(isPNG(run + "/samples.png"))
        #expect(isPNG(run + "/reconstructions.png"))

        let metrics = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(metrics.first?.hasPrefix("epoch,train_loss,test_loss,reconstruction,kl,seconds") == true)
        #expect(metrics.count == 2, "one header and one row per epoch: \(metrics)")
        if metrics.count == 2 {
            let row = metrics[1].split(separator: ",").map(String.init)
            #expect(row.first == "1")
            #expect(row.count == metrics[0].split(separator: ",").count)
            // test_loss = reconstruction + kl, each a finite positive number of nats.
            let values = row.dropFirst().compactMap(Double.init)
            #expect(values.count == row.count - 1 && values.allSatisfy { $0.isFinite })
            if values.count >= 4 { #expect(abs(values[1] - (values[2] + values[3])) < 0.01) }
        }

        let checkpoint = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.json")))
                as? [String: Any])
        #expect(checkpoint["epoch"] as? Int == 1)
        #expect(checkpoint["model"] as? String == "mlp")
        #expect(checkpoint["inputShape"] as? [Int] == [1, 28, 28])
        let environment = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: run + "/environment.json"))) as? [String: Any]
        #expect((environment?["command"] as? String)?.contains("--train-limit 2000") == true)
        let config = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        #expect(config.contains("epochs: 1"))
        #expect(config.contains("train_limit: 2000"))
        #expect(config.contains("test_limit: 500"))

        // MARK: eval, JSON
        let evaluation = try runVAE([
            "eval", run, "--importance-samples", "50", "--limit", "200", "--json"], in: workspace)
        #expect(evaluation.status == 0, "stderr: \(evaluation.standardError)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(evaluation.standardOutput.utf8)) as? [String: Any],
            "not JSON: \(evaluation.standardOutput)")
        let negativeELBO = try #require(report["negative_elbo"] as? Double)
        let negativeLogLikelihood = try #require(report["negative_log_likelihood"] as? Double)
        #expect(negativeELBO.isFinite && negativeLogLikelihood.isFinite)
        // Passes of 150 decoder rows (3 images' 50 samples each) draw the same noise: the same NLL up to rounding.
        let chunked = try runVAE(["eval", run, "--importance-samples", "50", "--limit", "200", "--json", "--chunk", "150"], in: workspace)
        let chunkedReport = try #require(try JSONSerialization.jsonObject(with: Data(chunked.standardOutput.utf8)) as? [String: Any])
        let chunkedNLL = try #require(chunkedReport["negative_log_likelihood"] as? Double)
        #expect(abs(chunkedNLL - negativeLogLikelihood) < 1e-4 * negativeLogLikelihood, "--chunk 150: \(chunkedNLL) vs \(negativeLogLikelihood)")
        // An untrained model scores ~540 nats on Fashion-MNIST and a perfect one is bounded below by the entropy of
        // the grey levels read as Bernoulli probabilities (~190); one epoch lands in between.
        #expect((100...600).contains(negativeELBO), "−ELBO \(negativeELBO)")
        #expect((100...600).contains(negativeLogLikelihood), "NLL \(negativeLogLikelihood)")
        // The k = 50 importance-weighted bound is tighter than the ELBO, so in expectation NLL ≤ −ELBO (the gap is
        // ~20 nats after one epoch). Both are estimates: the one-sample −ELBO of an image varies by a few nats between
        // draws of z, so its mean over 200 images has a standard error well under 1 nat; 2 nats of slack is more
        // than 3 standard errors.
        #expect(negativeLogLikelihood <= negativeELBO + 2, "NLL \(negativeLogLikelihood), −ELBO \(negativeELBO)")
        #expect(report["images"] as? Int == 200)
        #expect(report["importance_samples"] as? Int == 50)
        let activeUnits = try #require(report["active_units"] as? Int)
        #expect((0...20).contains(activeUnits))
        let klPerDimension = try #require(report["kl_per_dimension"] as? [Double])
        #expect(klPerDimension.count == 20)
        #expect(klPerDimension.allSatisfy { $0 >= 0 && $0.isFinite })

        // MARK: eval, text
        let text = try runVAE(["eval", run, "-k", "10", "--limit", "100"], in: workspace)
        #expect(text.status == 0, "stderr: \(text.standardError)")
        #expect(text.outputLines.contains { $0.contains("-ELBO") }, "stdout: \(text.standardOutput)")
        #expect(text.outputLines.contains { $0.contains("NLL") }, "stdout: \(text.standardOutput)")

        // MARK: sample
        let first = workspace + "/first.png", second = workspace + "/second.png", other = workspace + "/other.png"
        for (seed, output) in [("3", first), ("3", second), ("4", other)] {
            let sample = try runVAE(["sample", run, "--count", "16", "--seed", seed, "--output", output], in: workspace)
            #expect(sample.status == 0, "stderr: \(sample.standardError)")
            #expect(isPNG(output))
        }
        let firstBytes = try fileBytes(first)
        #expect(firstBytes == (try fileBytes(second)), "the same seed must give the same picture")
        #expect(firstBytes != (try fileBytes(other)), "another seed must give another picture")
    }

    /// Weights are stored under PyTorch-style names and shapes, so Python's safetensors reads them as they are.
    @Test(.enabled(if: pythonCanImport("safetensors, numpy"), "python3 with safetensors and numpy is not installed"))
    func weightsLoadInPythonSafetensors() throws {
        let workspace = try makeTemporaryDirectory("python")
        defer { removeDirectory(workspace) }
        let run = try trainSmallRun(in: workspace)
        let script = """
            import sys
            from safetensors.numpy import load_file
            tensors = load_file(sys.argv[1])
            weight = tensors["encoder.layers.0.weight"]
            assert weight.shape == (400, 784), weight.shape
            assert str(weight.dtype) == "float32", weight.dtype
            print("ok", len(tensors))
            """
        let result = try runProcess("/usr/bin/env", ["python3", "-c", script, run + "/model.safetensors"])
        #expect(result.status == 0, "python: \(result.standardError)")
        #expect(result.standardOutput.hasPrefix("ok"))
    }

    /// The same check with nothing but Python's standard library and numpy (no safetensors package): the file
    /// layout itself (little-endian header length, JSON header, raw F32 data) is what other tools rely on.
    @Test(.enabled(if: pythonCanImport("numpy, json, struct"), "python3 with numpy is not installed"))
    func weightsParseWithPlainPython() throws {
        let workspace = try makeTemporaryDirectory("python-plain")
        defer { removeDirectory(workspace) }
        let run = try trainSmallRun(in: workspace)
        let script = """
            import json, struct, sys
            import numpy as np
            data = open(sys.argv[1], "rb").read()
            (length,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8:8 + length])
            entry = header["encoder.layers.0.weight"]
            assert entry["dtype"] == "F32" and entry["shape"] == [400, 784], entry
            begin, end = entry["data_offsets"]
            weight = np.frombuffer(data[8 + length + begin:8 + length + end], dtype="<f4").reshape(400, 784)
            assert np.isfinite(weight).all() and weight.std() > 0
            assert header["__metadata__"]["epoch"] == "1", header["__metadata__"]
            print("ok")
            """
        let result = try runProcess("/usr/bin/env", ["python3", "-c", script, run + "/model.safetensors"])
        #expect(result.status == 0, "python: \(result.standardError)")
        #expect(result.standardOutput.hasPrefix("ok"))
    }
}

/// A one-epoch run on 500 images, enough for files with real names and shapes.
private func trainSmallRun(in workspace: String) throws -> String {
    let run = workspace + "/run"
    let train = try runVAE(["train", "--epochs", "1", "--train-limit", "500", "--test-limit", "100", "--output", run],
                           in: workspace)
    try #require(train.status == 0, "stderr: \(train.standardError)")
    return run
}

/// Runs any program, for the Python checks.
private func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, standardOutput: String, standardError: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // The scripts print a few lines at most, far below a pipe's buffer, so reading after exit cannot block.
    process.waitUntilExit()
    return (process.terminationStatus,
            String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

/// True when `python3 -c "import <modules>"` succeeds.
private func pythonCanImport(_ modules: String) -> Bool {
    (try? runProcess("/usr/bin/env", ["python3", "-c", "import \(modules)"]))?.status == 0
}
