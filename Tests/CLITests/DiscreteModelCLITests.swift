import Foundation
import TestSupport
import Testing

/// The models with discrete latents through the binary, on the synthetic quadrant data: train, eval, sample.
@Suite(.serialized)
struct DiscreteModelCLITests {
    @Test func vqVAETrainsFitsItsPriorAndSamples() throws {
        let workspace = try makeTemporaryDirectory("vq-cli")
        defer { removeDirectory(workspace) }
        try SyntheticData.write(to: workspace + "/data")
        let config = """
        model_params:
          name: vq-vae
          hidden_sizes: [32, 64]
          codebook_size: 16
          code_size: 8
          prior_epochs: 2
        data_params:
          data_dir: \(workspace)/data
          batch_size: 32
        """
        try config.write(toFile: workspace + "/vq.yaml", atomically: true, encoding: .utf8)
        let run = workspace + "/run"
        let train = try runVAE(["train", "--config", workspace + "/vq.yaml", "--epochs", "1", "--output", run], in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        let epochLine = try #require(train.errorLines.first { $0.hasPrefix("epoch 1/1") })
        #expect(epochLine.contains("code_perplexity") && epochLine.contains("codes_used"))
        #expect(train.errorLines.filter { $0.hasPrefix("prior epoch ") }.count == 2, "stderr: \(train.standardError)")

        let sample = try runVAE(["sample", run, "--count", "16", "--output", workspace + "/samples.png"], in: workspace)
        #expect(sample.status == 0, "stderr: \(sample.standardError)")
        #expect(isPNG(workspace + "/samples.png"))
        let noOutput = try runVAE(["sample", run, "--count", "4"], in: workspace)
        expectSingleErrorLine(noOutput, mentioning: ["--output", "PNG file"])

        let evaluation = try runVAE(["eval", run, "-k", "10", "--json"], in: workspace)
        #expect(evaluation.status == 0, "stderr: \(evaluation.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(evaluation.standardOutput.utf8)) as? [String: Any])
        let diagnostics = try #require(report["diagnostics"] as? [String: Double])
        let perplexity = try #require(diagnostics["code_perplexity"])
        #expect(perplexity >= 1 && perplexity <= 16)
        // A point-mass posterior: every importance weight is the same, so the NLL estimate is the −ELBO.
        let (elbo, nll) = (try #require(report["negative_elbo"] as? Double), try #require(report["negative_log_likelihood"] as? Double))
        #expect(abs(elbo - nll) < 1e-3)
        // The fitted prior costs less than the uniform 49·log 16 nats per code map.
        #expect(try #require(report["kl"] as? Double) < 49 * Foundation.log(16.0))
    }

    @Test func categoricalVAETrainsAndSamplesOneHotCodes() throws {
        let workspace = try makeTemporaryDirectory("categorical-cli")
        defer { removeDirectory(workspace) }
        try SyntheticData.write(to: workspace + "/data")
        let run = workspace + "/run"
        let train = try runVAE(["train", "--config", "categorical-vae", "--data", workspace + "/data", "--epochs", "2",
                                "--output", run], in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        let sample = try runVAE(["sample", run, "--count", "9", "--output", workspace + "/samples.png"], in: workspace)
        #expect(sample.status == 0, "stderr: \(sample.standardError)")
        #expect(isPNG(workspace + "/samples.png"))
    }

    @Test(arguments: [
        ("model_params:\n  name: categorical-vae\n  categorical_size: 0\n", "model_params.categorical_size: categorical-vae needs at least one categorical variable"),
        ("model_params:\n  name: mlp\n  latent_size: 0\n", "model_params.latent_size: model 'mlp' needs a latent of at least 1 dimension"),
        ("model_params:\n  name: joint-vae\n  latent_size: 0\n  categorical_size: 1\n", "model_params.latent_size: model 'joint-vae' needs a latent of at least 1 dimension"),
        ("model_params:\n  name: categorical-vae\n  categorical_size: 2\n  temperature: 0.5\n  temperature_min: 1\n", "model_params.temperature_min: 1.0 is above the initial temperature 0.5"),
        ("model_params:\n  name: categorical-vae\n  categorical_size: 4096\n  categories: 4096\n", "model_params.categorical_size: 4096 variables × 4096 categories"),
        ("model_params:\n  name: vq-vae\n  hidden_sizes: [8, 8]\n  codebook_size: 65536\n", "model_params.codebook_size: 65536 entries × 49 positions"),
    ])
    func impossibleSettingsAreOneClearLine(_ yaml: String, _ expected: String) throws {
        let workspace = try makeTemporaryDirectory("discrete-bad")
        defer { removeDirectory(workspace) }
        try SyntheticData.write(to: workspace + "/data", trainCount: 16, testCount: 8)
        try (yaml + "data_params:\n  data_dir: \(workspace)/data\n").write(toFile: workspace + "/bad.yaml", atomically: true, encoding: .utf8)
        let result = try runVAE(["train", "--config", workspace + "/bad.yaml", "--output", workspace + "/run"], in: workspace)
        #expect(result.status != 0)
        #expect(result.standardError.contains(expected), "stderr: \(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/run/model.safetensors"))
    }
}
