import Foundation
import Testing
import TestSupport
import VAEFormats
import VAEDistributions
@testable import VAEModels
import VAEOptimizers
import VAETensor
@testable import VAETraining

extension ModelComputation {
    /// FactorVAE through the trainer's auxiliary hook: the discriminator learns, its weights and Adam moments are
    /// saved as `discriminator.…`, and a resumed run equals an uninterrupted one bit for bit.
    @Suite(.serialized) struct FactorVAETrainingTests {
        func config(epochs: Int) -> RunConfig {
            var config = ResumeTests().config(epochs: epochs)
            config.model.name = "factor-vae"
            config.model[FactorObjective.discriminatorSizes] = [32, 32]
            config.model[FactorObjective.gammaSetting] = 6
            return config
        }

        @Test func permutationShufflesEachDimensionSeparately() {
            var random = RandomStream(seed: 1, name: "codes")
            let codes = random.normal(shape: [50, 3])
            let permuted = FactorDiscriminator.permutingDimensions(codes, random: &random)
            for column in 0..<3 {
                let original = (0..<50).map { codes.scalars[$0 * 3 + column] }
                let shuffled = (0..<50).map { permuted.scalars[$0 * 3 + column] }
                #expect(original.sorted() == shuffled.sorted() && original != shuffled)
            }
        }

        @Test func discriminatorLearnsAndResumeIsExact() throws {
            let whole = try trainRun(config(epochs: 2), label: "factor-whole")
            defer { removeDirectory(whole.directory) }
            let model = try #require(whole.trainer.model as? ComposedVAE)
            let discriminator = try #require((model.objective as? FactorObjective)?.discriminator)
            #expect(!model.namedParameters.contains { $0.name.hasPrefix("discriminator.") })
            #expect(model.namedStates.contains { $0.name == "discriminator.layers.0.weight" })

            // The hook trained the discriminator: its weights moved from their initial values.
            let fresh = try #require(try Factory.model(whole.trainer.config, inputShape: [1, 28, 28]) as? ComposedVAE)
            let initial = try #require((fresh.objective as? FactorObjective)?.discriminator)
            #expect(zip(discriminator.parameters, initial.parameters).allSatisfy { $0.value.scalars != $1.value.scalars })
            // With its own Adam (1e-4, β = (0.5, 0.9)), 1000 steps on codes whose 8 dimensions are one projection of
            // the image (total correlation as high as it gets) lower its loss by more than 0.2 nats: it learns
            // to tell q(z) from the dimension-wise permutation.
            var projection = RandomStream(seed: 4, name: "projection")
            let direction = projection.normal(shape: [784, 1]) * 0.05
            discriminator.attach { input in
                DiagonalNormal(mean: input.matmul(direction) * Tensor.ones([1, 8]), logVariance: Tensor.zeros([input.shape[0], 8]) - 6)
            }
            func discriminatorLoss() -> Float {
                withoutGradients { discriminator.loss(whole.trainer.testImages, context: LossContext(noise: RandomStream(seed: 3, name: "check"))).scalar }
            }
            let before = discriminatorLoss()
            let settings = try #require(discriminator.optimizerSettings)
            #expect(settings == AuxiliaryOptimizerSettings(learningRate: 1e-4, beta1: 0.5, beta2: 0.9))
            let adam = Adam(learningRate: Float(settings.learningRate), beta1: Float(settings.beta1), beta2: Float(settings.beta2))
            for step in 0..<1000 {
                let context = LossContext(noise: RandomStream(seed: UInt64(step), name: "discriminator-steps"))
                let (_, gradients) = discriminator.valueWithGradients { discriminator.loss(whole.trainer.testImages, context: context) }
                adam.update(discriminator.parameters, gradients: gradients)
            }
            let after = discriminatorLoss()
            #expect(after < before - 0.2, "discriminator loss \(before) → \(after)")

            let split = try makeTemporaryDirectory("factor-split")
            defer { removeDirectory(split) }
            try Trainer(config: config(epochs: 1)).run(in: split, report: { _ in })
            let resumed = try Trainer(config: config(epochs: 2))
            try resumed.restore(from: split)
            try resumed.run(in: split, report: { _ in })
            for file in ["model.safetensors", "optimizer.safetensors"] {
                #expect(try AtomicFile.read(whole.directory + "/" + file) == AtomicFile.read(split + "/" + file), "\(file) differs")
            }
            let moments = try SafeTensors.decode(try AtomicFile.read(split + "/optimizer.safetensors"), source: "optimizer").tensors
            #expect(moments.contains { $0.name == "exp_avg.discriminator.layers.0.weight" })
        }
    }
}
