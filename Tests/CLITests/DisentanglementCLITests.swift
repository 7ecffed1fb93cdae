import Foundation
import TestSupport
import Testing

/// dSprites and the disentanglement models through the binary: train β-TCVAE on the burgess network for a few
/// steps on made images, then `vae disentanglement --json`; a run on other data is refused with its dataset named.
@Suite(.serialized)
struct DisentanglementCLITests {
    @Test func betaTCVAEOnDSpritesThenScores() throws {
        let workspace = try makeTemporaryDirectory("dsprites-cli")
        defer { removeDirectory(workspace) }
        let config = """
        model_params: {name: beta-tcvae, network: burgess, hidden_sizes: [8, 8, 8, 8], dense_sizes: [32], latent_size: 4}
        data_params: {dataset: dsprites, batch_size: 32, train_limit: 128, test_limit: 32}
        trainer_params: {epochs: 1, picture_count: 4}
        """
        try config.write(toFile: workspace + "/ds.yaml", atomically: true, encoding: .utf8)
        let run = workspace + "/run"
        let train = try runVAE(["train", "--config", workspace + "/ds.yaml", "--output", run, "--quiet"], in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        let configYAML = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        #expect(configYAML.contains("dataset_size: 128"), "the trainer fills in β-TCVAE's N")

        let scores = try runVAE(["disentanglement", run, "--points", "300", "--votes", "20", "--json"], in: workspace)
        #expect(scores.status == 0, "stderr: \(scores.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(scores.standardOutput.utf8)) as? [String: Double])
        for key in ["mutual_information_gap", "factor_vae_score", "beta_vae_score"] {
            let value = try #require(report[key], "\(key) missing: \(scores.standardOutput)")
            #expect((0...1).contains(value), "\(key) = \(value)")
        }
    }

    @Test(.enabled(if: hasFashionMNIST)) func aRunWithoutFactorsIsRefused() throws {
        let workspace = try makeTemporaryDirectory("dsprites-refused")
        defer { removeDirectory(workspace) }
        let run = workspace + "/run"
        let train = try runVAE(["train", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--output", run, "--quiet"],
                               in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        let scores = try runVAE(["disentanglement", run], in: workspace)
        #expect(scores.status != 0 && scores.errorLines.count == 1)
        #expect(scores.standardError.contains("data_params.dataset: dsprites") && scores.standardError.contains("fashion-mnist"))
    }
}
