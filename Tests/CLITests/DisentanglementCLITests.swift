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
        for key in ["mutual_information_gap", "factor_vae_score", "beta_vae_score", "sap_score", "dci_disentanglement",
                    "dci_completeness", "dci_informativeness"] {
            let value = try #require(report[key], "\(key) missing: \(scores.standardOutput)")
            #expect((0...1).contains(value), "\(key) = \(value)")
        }
    }

    /// `--data FILE.npz` trains on the original file's rows (401 written by NumPy here: rows 0, 200 and 400 are the
    /// test set); the scores, which
    /// draw images by factor values, refuse a file that lacks combinations, naming it.
    @Test(.enabled(if: pythonHas("numpy"))) func trainsOnAnNpzFile() throws {
        let workspace = try makeTemporaryDirectory("dsprites-npz-cli")
        defer { removeDirectory(workspace) }
        let npz = workspace + "/small.npz"
        let python = """
            import sys, numpy as np
            rng = np.random.default_rng(0)
            imgs = (rng.random((401, 64, 64)) < 0.1).astype(np.uint8)
            classes = np.zeros((401, 6), dtype=np.int64)
            classes[:, 1] = np.arange(401) % 3
            classes[:, 3] = np.arange(401) % 40
            classes[:, 4] = np.arange(401) // 40
            np.savez_compressed(sys.argv[1], imgs=imgs, latents_classes=classes, latents_values=classes.astype(np.float64))
            """
        let written = try runPython(python, [npz])
        #expect(written.status == 0, "python: \(written.standardError)")
        let config = """
        model_params: {name: beta-vae, network: burgess, hidden_sizes: [8, 8, 8, 8], dense_sizes: [32], latent_size: 4}
        data_params: {dataset: dsprites, batch_size: 100}
        trainer_params: {epochs: 1, picture_count: 4}
        """
        try config.write(toFile: workspace + "/ds.yaml", atomically: true, encoding: .utf8)
        let run = workspace + "/run"
        let train = try runVAE(["train", "--config", workspace + "/ds.yaml", "--data", npz, "--output", run, "--quiet"], in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        let metrics = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 2, "one epoch: \(metrics)")
        let log = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        #expect(log.contains(npz))
        let scores = try runVAE(["disentanglement", run], in: workspace)
        #expect(scores.status != 0 && scores.errorLines.count == 1, "\(scores.standardError)")
        #expect(scores.standardError.contains(npz) && scores.standardError.contains("\(737_280 - 401) of the 737280 factor combinations are missing"),
                "\(scores.standardError)")
        let missing = try runVAE(["train", "--config", workspace + "/ds.yaml", "--data", workspace + "/none.npz", "--output", workspace + "/run2"],
                                 in: workspace)
        #expect(missing.status != 0 && missing.standardError.contains("none.npz: dSprites file not found"), "\(missing.standardError)")
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
