import Foundation
import Testing
import VAEDistributions
import VAENN
@testable import VAEModels
import VAETensor

extension VAEModelsTests {
    @Suite struct ConvModelTests {
        static let kerasSpecification = ModelSpecification(
            name: "conv", inputShape: [1, 28, 28], settings: ["hidden_sizes": [32, 64], "latent_size": 2, "dense_size": 16])

        @Test func kerasArchitectureMatchesThePyTorchReference() throws {
            var random = RandomStream(seed: 1, name: "init")
            let model = try gaussian(ModelRegistry.make(Self.kerasSpecification, random: &random))
            // ../shared/peers/torch_conv_vae.py's ConvVAE: the same shapes in the same order, 134 165 parameters.
            let shapes = model.namedParameters.map(\.parameter.shape)
            #expect(shapes == [[32, 1, 3, 3], [32], [64, 32, 3, 3], [64], [16, 3136], [16], [2, 16], [2], [2, 16], [2],
                               [3136, 2], [3136], [64, 64, 3, 3], [64], [64, 32, 3, 3], [32], [32, 1, 3, 3], [1]])
            #expect(model.parameterCount == 134_165)
            #expect(model.namedParameters.first?.name == "encoder.layers.0.weight")
            var data = RandomStream(seed: 2, name: "x")
            let images = data.uniformImages(count: 3, size: 784)
            let posterior = model.encode(images)
            #expect(posterior.mean.shape == [3, 2])
            #expect(model.decode(posterior.mean).mean.shape == [3, 784])
        }

        @Test func everyParameterOfTheConvModelsLearns() throws {
            let vanilla = ModelSpecification(
                name: "conv64", inputShape: [3, 16, 16],
                settings: ["hidden_sizes": [4, 8], "latent_size": 5, "activation": "leaky_relu", "likelihood": "gaussian",
                           "learn_variance": true])
            for specification in [Self.kerasSpecification, vanilla] {
                var random = RandomStream(seed: 3, name: "init")
                let model = try ModelRegistry.make(specification, random: &random)
                var data = RandomStream(seed: 4, name: "x")
                let images = data.uniformImages(count: 4, size: specification.inputSize)
                let context = LossContext(noise: RandomStream(seed: 5, name: "noise"))
                let (loss, gradients) = model.valueWithGradients { model.loss(images, context: context).total }
                #expect(loss.scalar.isFinite)
                for (named, gradient) in zip(model.namedParameters, gradients) {
                    #expect(gradient.isFinite, "\(specification.name): \(named.name)")
                    #expect(gradient.scalars.contains { $0 != 0 }, "\(specification.name): \(named.name) gets no gradient")
                }
            }
        }

        @Test func vanillaModelFollowsPyTorchVAEAndKeepsBatchNormStatistics() throws {
            let specification = ModelSpecification(
                name: "conv64", inputShape: [3, 64, 64],
                settings: ["hidden_sizes": [32, 64, 128, 256, 512], "latent_size": 128, "activation": "leaky_relu",
                           "likelihood": "gaussian"])
            var random = RandomStream(seed: 6, name: "init")
            let model = try gaussian(ModelRegistry.make(specification, random: &random))
            // Encoder: 5 × (conv, batch norm); heads 2048 → 128; decoder input 128 → 2048; bottleneck 512×2×2.
            #expect(model.namedParameters.filter { $0.name.hasPrefix("encoder") }.count == 5 * 4)
            #expect(model.namedParameters.first { $0.name == "mean.weight" }?.parameter.shape == [128, 2048])
            #expect(model.namedParameters.first { $0.name == "decoder_input.weight" }?.parameter.shape == [2048, 128])
            #expect(model.namedStates.contains { $0.name == "encoder.layers.1.running_mean" })
            var data = RandomStream(seed: 7, name: "x")
            let images = data.uniformImages(count: 2, size: specification.inputSize)
            #expect(withoutGradients { model.decode(model.encode(images).mean).mean.shape } == [2, 3 * 64 * 64])
        }

        @Test func imagesThatDoNotDivideAreAClearError() {
            var specification = Self.kerasSpecification
            specification.inputShape = [1, 30, 30]
            var random = RandomStream(seed: 8, name: "init")
            let error = #expect(throws: ModelError.self) { try ModelRegistry.make(specification, random: &random) }
            #expect(error?.description.contains("image_size") == true)
        }

        @Test func gaussianLikelihoodIsTheGaussianDensity() {
            let mean = Tensor(shape: [1, 2], scalars: [0.5, -1])
            let value = Tensor(shape: [1, 2], scalars: [1, 1])
            let logVariance = Float(log(0.25))
            let density = Gaussian(mean: mean, logVariance: Tensor(logVariance)).logProbability(value).scalar
            let expected = [(1.0, 0.5), (1.0, -1.0)].reduce(0.0) { total, pair in
                total - 0.5 * (pow(pair.0 - pair.1, 2) / 0.25 + log(0.25) + log(2 * Double.pi))
            }
            #expect(abs(Double(density) - expected) < 1e-5)
        }
    }
}

extension RandomStream {
    mutating func uniformImages(count: Int, size: Int) -> Tensor { uniform(shape: [count, size]) }
}
