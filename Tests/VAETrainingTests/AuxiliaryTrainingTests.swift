import Foundation
import Testing
import TestSupport
import VAEDistributions
import VAEModels
import VAENN
import VAETensor
@testable import VAETraining

/// The default `mlp` with a logistic discriminator beside it that learns to tell posterior means from prior draws:
/// a stand-in for FactorVAE's, through the ``AuxiliaryTraining`` hook. The model's loss does not use it, so the
/// model must train exactly as the plain `mlp` does.
private final class DiscriminatedMLP: Module, VariationalAutoencoder, AuxiliaryTraining {
    let base: any VariationalAutoencoder
    let discriminator: Linear

    init(config: RunConfig, inputShape: [Int]) throws {
        base = try Factory.model(config, inputShape: inputShape)
        var random = RandomStream(seed: config.experiment.seed, name: "discriminator-init")
        discriminator = Linear(inputSize: 2 * base.latentSize, outputSize: 1, random: &random)
        super.init()
    }

    override var namedParameters: [(name: String, parameter: Parameter)] {
        super.namedParameters.filter { !$0.name.hasPrefix("discriminator.") }
    }

    var specification: ModelSpecification { base.specification }
    var latentSize: Int { base.latentSize }
    var lossSplitsOverRows: Bool { base.lossSplitsOverRows }
    func decode(_ latent: Tensor) -> any Likelihood { base.decode(latent) }
    func loss(_ input: Tensor, context: LossContext) -> LossTerms { base.loss(input, context: context) }
    func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        base.negativeELBO(input, noise: &noise)
    }
    func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        base.logImportanceWeights(input, samples: samples, noise: &noise)
    }
    func latentSummary(_ input: Tensor) -> LatentSummary { base.latentSummary(input) }
    func samplePrior(count: Int, random: inout RandomStream) -> Tensor { base.samplePrior(count: count, random: &random) }

    var auxiliaryTraining: (any AuxiliaryTraining)? { self }
    var name: String { "discriminator" }
    var module: Module { discriminator }

    /// Logistic loss on (z, z²): posterior means are class 1, prior draws class 0 (the means spread less).
    func loss(_ input: Tensor, context: LossContext) -> Tensor {
        func logit(_ z: Tensor) -> Tensor { discriminator(Tensor.concatenate([z, z * z], alongAxis: 1)) }
        let codes = withoutGradients { base.latentSummary(input).code }
        let prior = base.samplePrior(count: input.shape[0], random: &context.noise)
        return (-logit(codes)).softplus().mean() + logit(prior).softplus().mean()
    }

    func discriminatorLoss(_ input: Tensor) -> Float {
        let context = LossContext(noise: RandomStream(seed: 9, name: "check"))
        return withoutGradients { loss(input, context: context).scalar }
    }
}

extension ModelComputation {
    @Suite struct AuxiliaryTrainingTests {
        static func config(epochs: Int) -> RunConfig {
            var config = smallConfig(trainLimit: 1024, testLimit: 256, epochs: epochs, seed: 4)
            config.data.batchSize = 32
            config.experiment.learningRate = 0.01
            config.model[NetworkSettings.hiddenSizes] = [32]
            config.model[GaussianLatent.latentSize] = 4
            return config
        }

        static func trainer(epochs: Int, auxiliary: Bool) throws -> Trainer {
            let config = config(epochs: epochs)
            let (train, test) = try Factory.datasets(config)
            let model = auxiliary ? try DiscriminatedMLP(config: config, inputShape: train.exampleShape) : nil
            return try Trainer(config: config, train: train, test: test, model: model)
        }

        @Test(.enabled(if: hasFashionMNIST)) func secondOptimiserTrainsTheAuxiliaryWeightsOnly() throws {
            let plain = try Self.trainer(epochs: 2, auxiliary: false)
            let discriminated = try Self.trainer(epochs: 2, auxiliary: true)
            let model = try #require(discriminated.model as? DiscriminatedMLP)
            let initial = model.discriminator.parameters.map(\.value)
            for (trainer, label) in [(plain, "plain"), (discriminated, "discriminated")] {
                let directory = try makeTemporaryDirectory("auxiliary-\(label)")
                defer { removeDirectory(directory) }
                try trainer.run(in: directory, report: { _ in })
            }
            // The model's weights are exactly the plain run's: its optimiser never saw the discriminator.
            #expect(model.parameters.map(\.value.scalars) == plain.model.parameters.map(\.value.scalars))
            // The discriminator learned: on the trained model's test codes it beats its initial weights.
            let trained = model.discriminator.parameters.map(\.value)
            #expect(trained.map(\.scalars) != initial.map(\.scalars))
            let trainedLoss = model.discriminatorLoss(discriminated.testImages)
            for (parameter, value) in zip(model.discriminator.parameters, initial) { parameter.value = value }
            let initialLoss = model.discriminatorLoss(discriminated.testImages)
            #expect(trainedLoss < initialLoss - 0.05, "discriminator loss \(initialLoss) → \(trainedLoss)")
        }

        @Test(.enabled(if: hasFashionMNIST)) func resumeRestoresTheAuxiliaryOptimiser() throws {
            let whole = try Self.trainer(epochs: 2, auxiliary: true)
            let wholeDirectory = try makeTemporaryDirectory("auxiliary-whole")
            defer { removeDirectory(wholeDirectory) }
            try whole.run(in: wholeDirectory, report: { _ in })

            let directory = try makeTemporaryDirectory("auxiliary-resumed")
            defer { removeDirectory(directory) }
            try Self.trainer(epochs: 1, auxiliary: true).run(in: directory, report: { _ in })
            let resumed = try Self.trainer(epochs: 2, auxiliary: true)
            try resumed.restore(from: directory)
            try resumed.run(in: directory, report: { _ in })
            let (a, b) = try (#require(whole.model as? DiscriminatedMLP), #require(resumed.model as? DiscriminatedMLP))
            #expect(a.discriminator.weight.value.scalars == b.discriminator.weight.value.scalars)
            #expect(a.discriminator.bias!.value.scalars == b.discriminator.bias!.value.scalars)
            #expect(a.parameters.map(\.value.scalars) == b.parameters.map(\.value.scalars))
        }
    }
}
