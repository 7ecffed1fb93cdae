import Foundation
import TestSupport
import Testing

/// `vae plot RUN_DIR KIND` on a run that `vae train` wrote: each kind, `all`, `report`, and bad kinds.
@Suite(.serialized, .enabled(if: hasFashionMNIST, "needs Fashion-MNIST in \(fashionMNISTDirectory)"))
struct PlotCommandTests {
    /// Width and height from a PNG file's IHDR.
    private func pngSize(_ path: String) throws -> (Int, Int) {
        let bytes = try fileBytes(path)
        try #require(bytes.count > 24 && Array(bytes.prefix(8)) == pngSignature, "\(path) is not a PNG")
        func word(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    @Test func everyKindOnATrainedRun() throws {
        let workspace = try makeTemporaryDirectory("plot")
        defer { removeDirectory(workspace) }
        let run = workspace + "/run"
        let train = try runVAE(["train", "--epochs", "2", "--train-limit", "1000", "--test-limit", "300",
                                "--seed", "2", "--output", run], in: workspace)
        try #require(train.status == 0, "stderr: \(train.standardError)")
        // `vae train` already wrote every picture and the report.
        let names = ["samples.png", "reconstructions.png", "interpolation.png", "traversal.png", "manifold.png",
                     "scatter.svg", "losses.svg", "report.html"]
        for name in names { #expect(FileManager.default.fileExists(atPath: run + "/" + name), "train did not write \(name)") }
        let trained = try names.map { try fileBytes(run + "/" + $0) }

        // Each kind into its own file; with the run's seed they are the bytes `vae train` wrote.
        let kinds = ["samples", "reconstructions", "interpolation", "traversal", "manifold", "scatter", "losses"]
        for (kind, name) in zip(kinds, names) {
            let output = workspace + "/" + name
            let result = try runVAE(["plot", run, kind, "--output", output], in: workspace)
            #expect(result.status == 0, "\(kind): \(result.standardError)")
            #expect(result.standardError.isEmpty)
            #expect(result.standardOutput == "wrote \(output)\n")
            #expect(try fileBytes(output) == trained[names.firstIndex(of: name)!], "\(kind) differs from train's")
        }
        // 28×28 tiles with 2-pixel gaps: 64 samples in 8 columns, 20×20 manifold, 8 pairs × (10 steps + 2).
        #expect(try pngSize(run + "/samples.png") == (8 * 30 + 2, 8 * 30 + 2))
        #expect(try pngSize(run + "/manifold.png") == (20 * 30 + 2, 20 * 30 + 2))
        #expect(try pngSize(run + "/interpolation.png") == (12 * 30 + 2, 8 * 30 + 2))
        #expect(try pngSize(run + "/traversal.png") == (11 * 30 + 2, 8 * 30 + 2))

        // Default output: the kind's file in the run directory; --seed and --spherical change the picture.
        let reseeded = try runVAE(["plot", run, "interpolation", "--seed", "7", "--spherical"], in: workspace)
        #expect(reseeded.status == 0, "stderr: \(reseeded.standardError)")
        #expect(reseeded.standardOutput == "wrote \(run)/interpolation.png\n")
        #expect(try fileBytes(run + "/interpolation.png") != trained[2])
        let samples = try runVAE(["plot", run, "samples", "--count", "10", "--output", workspace + "/ten.png"], in: workspace)
        #expect(samples.status == 0)
        #expect(try pngSize(workspace + "/ten.png") == (4 * 30 + 2, 3 * 30 + 2))
        // --dimensions sets the traversal's rows (the default model has 20 latent dimensions).
        let twelve = try runVAE(["plot", run, "traversal", "--dimensions", "12", "--output", workspace + "/twelve.png"], in: workspace)
        #expect(twelve.status == 0, "stderr: \(twelve.standardError)")
        #expect(try pngSize(workspace + "/twelve.png") == (11 * 30 + 2, 12 * 30 + 2))
        let tooMany = try runVAE(["plot", run, "traversal", "--dimensions", "21"], in: workspace)
        #expect(tooMany.errorLines == ["error: --dimensions 21: \(run)'s model has 20 latent dimensions"], "stderr: \(tooMany.standardError)")

        // Post-hoc samplers: `plot samples --sampler gmm` draws what `sample --sampler gmm` draws (one saved fit).
        let gmmPlot = try runVAE(["plot", run, "samples", "--sampler", "gmm", "--count", "16", "--seed", "3",
                                  "--output", workspace + "/gmm-plot.png"], in: workspace)
        #expect(gmmPlot.status == 0, "stderr: \(gmmPlot.standardError)")
        #expect(gmmPlot.standardError.hasPrefix("fitted a 10-component Gaussian mixture (full covariances, 20 dimensions) to 1000 posterior means"))
        let gmmSample = try runVAE(["sample", run, "--sampler", "gmm", "--count", "16", "--seed", "3",
                                    "--output", workspace + "/gmm-sample.png"], in: workspace)
        #expect(gmmSample.standardOutput == "wrote \(workspace)/gmm-sample.png\n", "the saved mixture is reused")
        #expect(try fileBytes(workspace + "/gmm-plot.png") == fileBytes(workspace + "/gmm-sample.png"))
        let badSampler = try runVAE(["sample", run, "--sampler", "vamp", "--output", workspace + "/x.png"], in: workspace)
        #expect(badSampler.status != 0 && badSampler.standardError.contains("--sampler: expected one of normal, gmm, two-stage"))

        // `all` into another directory; `report` alone, including eval.json from `vae eval`.
        let all = try runVAE(["plot", run, "all", "--output", workspace + "/all"], in: workspace)
        #expect(all.status == 0, "stderr: \(all.standardError)")
        for name in names {
            #expect(FileManager.default.fileExists(atPath: workspace + "/all/" + name), "all did not write \(name)")
        }
        let evaluation = try runVAE(["eval", run, "-k", "20", "--limit", "100", "--json"], in: workspace)
        #expect(evaluation.status == 0, "stderr: \(evaluation.standardError)")
        #expect(FileManager.default.fileExists(atPath: run + "/eval.json"), "vae eval saves eval.json")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/eval.json"))) as? [String: Any]
        #expect(saved?["images"] as? Int == 100)
        let report = try runVAE(["plot", run, "report"], in: workspace)
        #expect(report.status == 0, "stderr: \(report.standardError)")
        #expect(report.standardOutput == "wrote \(run)/report.html\n")
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(html.contains("NLL (IWAE, k = 20)") && html.contains("<td>100</td>"))
        #expect(html.contains("--train-limit 1000"), "the command that made the run")
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 5)
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(html.contains("train_limit: 1000"))

        // Bad input: one line naming the problem and what was expected.
        let bad = try runVAE(["plot", run, "histogram"], in: workspace)
        #expect(bad.status != 0)
        #expect(bad.errorLines == ["error: KIND 'histogram' is not a picture; expected one of samples, reconstructions, interpolation, traversal, manifold, scatter, losses, all, report"],
                "stderr: \(bad.standardError)")
        let wrongSuffix = try runVAE(["plot", run, "scatter", "--output", workspace + "/scatter.png"], in: workspace)
        #expect(wrongSuffix.errorLines == ["error: --output must name a .svg file for scatter, got '\(workspace)/scatter.png'"])
        let missing = try runVAE(["plot", workspace + "/nothing", "samples"], in: workspace)
        #expect(missing.errorLines.count == 1 && missing.errorLines[0].contains("no such run directory"))
        let noData = try runVAE(["plot", run, "scatter", "--data", workspace + "/nothing"], in: workspace)
        #expect(noData.errorLines.count == 1 && noData.errorLines[0].contains(workspace + "/nothing"), "stderr: \(noData.standardError)")
    }
}
