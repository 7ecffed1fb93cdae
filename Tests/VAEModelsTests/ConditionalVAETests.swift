import Foundation
import Testing
import VAEDistributions
import VAENN
import VAETensor
@testable import VAEModels

/// Four 16-pixel prototypes (``prototypeData(rows:seed:)``'s) with each row's prototype as its label.
private func labelledPrototypes(rows: Int, seed: UInt64) -> (images: Tensor, labels: [Int], prototypes: [Float]) {
    var patterns = RandomStream(seed: 0, name: "prototypes")
    let prototypes = patterns.uniform(count: 4 * 16).map { $0 < 0.5 ? Float(0) : 1 }
    var random = RandomStream(seed: seed, name: "data")
    var scalars: [Float] = [], labels: [Int] = []
    for _ in 0..<rows {
        let which = random.integer(below: 4)
        let flips = random.uniform(count: 16)
        labels.append(which)
        for pixel in 0..<16 {
            let value = prototypes[which * 16 + pixel]
            scalars.append(flips[pixel] < 0.1 ? 1 - value : value)
        }
    }
    return (Tensor(shape: [rows, 16], scalars: scalars), labels, prototypes)
}

private let cvaeSpecification = ModelSpecification(
    name: "cvae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [16], "latent_size": 2, "class_count": 4])

private func makeCVAE(seed: UInt64 = 1) throws -> ComposedVAE {
    var random = RandomStream(seed: seed, name: "init")
    return try #require(try ModelRegistry.make(cvaeSpecification, random: &random) as? ComposedVAE)
}

extension VAEModelsTests {
    @Suite("Conditional VAE")
    struct ConditionalVAETests {
        @Test func labelsReachEncoderAndDecoderAndEveryParameterLearns() throws {
            let model = try makeCVAE()
            #expect(model.conditionClasses == 4)
            #expect(model.namedParameters.first { $0.name == "encoder.layers.0.weight" }?.parameter.shape == [16, 16 + 4])
            #expect(model.namedParameters.first { $0.name == "decoder.layers.0.weight" }?.parameter.shape == [16, 2 + 4])
            let (data, labels, _) = labelledPrototypes(rows: 12, seed: 1)
            let view = model.conditioned(on: labels)
            let context = LossContext(noise: RandomStream(seed: 2, name: "noise"))
            let (value, gradients) = model.valueWithGradients { view.loss(data, context: context).total }
            #expect(value.isFinite)
            for ((name, parameter), gradient) in zip(model.namedParameters, gradients) {
                #expect(gradient.shape == parameter.shape, "\(name)")
                #expect(gradient.scalars.map(abs).max()! > 0, "\(name) got no gradient")
            }
            // The same z decoded as two classes gives two different images; the view decodes as the model does.
            var random = RandomStream(seed: 3, name: "z")
            let latent = random.normal(shape: [12, 2])
            let asLabelled = view.decode(latent).mean.scalars
            let shifted = model.conditioned(on: labels.map { ($0 + 1) % 4 }).decode(latent).mean.scalars
            #expect(asLabelled != shifted)
            // The label enters the decoder appended to z.
            let appended = Tensor.concatenate([latent, ComposedVAE.oneHot(labels, classes: 4)], alongAxis: 1)
            #expect(asLabelled == model.observation(model.decoder.output(appended)).mean.scalars)
        }

        @Test func importanceSamplesKeepTheirImagesLabel() throws {
            let model = try makeCVAE()
            let (data, labels, _) = labelledPrototypes(rows: 3, seed: 4)
            var noise = RandomStream(seed: 5, name: "noise")
            let weights = model.conditioned(on: labels).logImportanceWeights(data, samples: 4, noise: &noise)
            #expect(weights.shape == [3, 4])
            // Image 1's weights recomputed alone with its own label, on the same ε rows.
            var replay = RandomStream(seed: 5, name: "noise")
            let epsilon = replay.normal(shape: [12, 2])
            let posterior = model.encode(data.slice(1..<2), labels: [labels[1]])
            let rows = [Int](repeating: 0, count: 4)
            let latent = posterior.mean.gathering(rows) + (posterior.logVariance.gathering(rows) * 0.5).exp() * epsilon.slice(4..<8)
            let decoded = model.decode(latent, labels: [Int](repeating: labels[1], count: 4))
            let expected = decoded.logProbability(data.slice(1..<2).gathering(rows))
                + DiagonalNormal.standard(shape: [4, 2]).logProbability(latent)
                - DiagonalNormal(mean: posterior.mean.gathering(rows), logVariance: posterior.logVariance.gathering(rows)).logProbability(latent)
            for (actual, wanted) in zip(weights.slice(1..<2).scalars, expected.scalars) {
                #expect(abs(actual - wanted) <= 1e-4 * max(1, abs(wanted)), "\(actual) vs \(wanted)")
            }
        }

        /// With the label given, the decoder alone can say which prototype a row is: after training, decoding
        /// z = 0 as class k must give prototype k (at least 15 of 16 pixels on the right side of ½).
        @Test func trainedDecoderDrawsTheLabelledPrototype() throws {
            let model = try makeCVAE(seed: 7)
            let (data, labels, prototypes) = labelledPrototypes(rows: 512, seed: 8)
            let optimizer = MinimalAdam(learningRate: 3e-3)
            var shuffle = RandomStream(seed: 9, name: "shuffle")
            let context = LossContext(noise: RandomStream(seed: 9, name: "noise"))
            for _ in 0..<600 {
                let rows = (0..<32).map { _ in shuffle.integer(below: 512) }
                let view = model.conditioned(on: rows.map { labels[$0] })
                let (_, gradients) = model.valueWithGradients { view.loss(data.gathering(rows), context: context).total }
                optimizer.update(model.parameters, gradients: gradients)
            }
            let decoded = model.conditioned(on: [0, 1, 2, 3]).decode(.zeros([4, 2])).mean.scalars
            for label in 0..<4 {
                let matches = (0..<16).filter { (decoded[label * 16 + $0] > 0.5) == (prototypes[label * 16 + $0] > 0.5) }.count
                #expect(matches >= 15, "class \(label): \(matches) of 16 pixels")
            }
        }

        @Test func labelsAreCheckedAgainstTheData() throws {
            let model = try makeCVAE()
            #expect(throws: Never.self) { try model.checkLabels([0, 3, 1], rows: 3, source: "data") }
            let missing = #expect(throws: ModelError.self) { try model.checkLabels([], rows: 3, source: "/data") }
            #expect(missing?.description.hasPrefix("/data: model 'cvae' is conditioned on class labels, but the data has none") == true)
            let outside = #expect(throws: ModelError.self) { try model.checkLabels([0, 4], rows: 2, source: "/data") }
            #expect(outside?.description == "/data: label 4 is outside the model's 4 classes (model_params.class_count)")
            var unconditional = cvaeSpecification
            unconditional.name = "mlp"
            unconditional[ComposedVAE.classCount] = 0
            var random = RandomStream(seed: 1, name: "init")
            #expect(throws: Never.self) { try ModelRegistry.make(unconditional, random: &random).checkLabels([], rows: 3, source: "x") }
            var noClasses = cvaeSpecification
            noClasses[ComposedVAE.classCount] = 0
            let error = #expect(throws: ModelError.self) { try ModelRegistry.make(noClasses, random: &random) }
            #expect(error?.description.hasPrefix("model_params.class_count:") == true)
        }
    }
}
