import Foundation
import TestSupport
import Testing
import VAEModels
import VAETensor
@testable import VAETraining

extension ModelComputation {
    /// The built-in configs of the objective variants, trained through the library on real Fashion-MNIST.
    @Suite(.serialized, .enabled(if: hasFashionMNIST, "needs Fashion-MNIST in /usr/share/datasets/fashion-mnist"))
    struct VariantTrainingTests {
        /// Each shipped config (iwae/miwae with fewer samples, to stay fast) on 2000 training images for 2 epochs.
        /// The test −ELBO (500 dynamically binarised or grey test images, fixed noise) of the untrained model is
        /// ~540 nats; after 2 epochs it must have fallen by at least `margin` nats, and the checkpoint must reload
        /// to the same test −ELBO.
        @Test(arguments: [("beta-vae", 100.0), ("iwae", 100.0), ("miwae", 100.0), ("cvae", 100.0),
                          ("categorical-vae", 100.0), ("joint-vae", 100.0), ("vq-vae", 100.0)])
        func builtInConfigTrainsAndReloads(_ name: String, _ margin: Double) throws {
            var config = try ConfigLoader.load(name)
            config.data.trainLimit = 2000
            config.data.testLimit = 500
            config.trainer.epochs = 2
            config.trainer.pictureCount = 16
            // Fewer importance samples and prior epochs, for the models that have them.
            let caps = ["importance_samples": 5, "importance_groups": 2, "prior_epochs": 1]
            for declaration in config.model.declarations ?? [] {
                guard let cap = caps[declaration.key], case .integer(let value) = config.model.settings.value(of: declaration)
                else { continue }
                config.model.settings[declaration.key] = .integer(min(value, cap))
            }
            let untrained = try Trainer(config: config)
            var noise = RandomStream(seed: 0, name: "evaluation")
            let before = Evaluator(model: untrained.model, labels: untrained.test.labels).negativeELBO(untrained.testImages, noise: &noise).total

            let run = try trainRun(config, label: "variant-\(name)")
            defer { removeDirectory(run.directory) }
            let rows = try readMetrics(run.directory).rows
            try #require(rows.count == 2)
            let after = try number(rows[1], "test_loss")
            #expect(after < before - margin, "\(name): test −ELBO \(before) → \(after)")

            let reloaded = try TrainedRun(directory: run.directory)
            #expect(reloaded.model.specification == run.trainer.model.specification)
            var first = RandomStream(seed: 0, name: "evaluation"), second = first
            let labels = run.trainer.test.labels
            let original = Evaluator(model: run.trainer.model, labels: labels).negativeELBO(run.trainer.testImages, noise: &first)
            let restored = Evaluator(model: reloaded.model, labels: labels).negativeELBO(run.trainer.testImages, noise: &second)
            #expect(original.total == restored.total)

            if let vq = reloaded.model as? VQVAE {
                // The prior was fitted after the last epoch and saved with it: one epoch of fitting on 2000 maps
                // (16 steps) must already bring the code cost 10 nats below uniform (49·log 512 ≈ 305.7).
                #expect(vq.isPriorFitted)
                #expect(restored.kl < 49 * Foundation.log(512.0) - 10, "−log p(codes) \(restored.kl)")
                #expect(run.lines.contains { $0.hasPrefix("prior epoch 1/1") })
                #expect(run.lines.contains { $0.contains("code_perplexity") })
            }
        }
    }
}
