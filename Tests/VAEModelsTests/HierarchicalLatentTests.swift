import Foundation
import TestSupport
import Testing
import VAEDistributions
import VAENN
import VAETensor
@testable import VAEModels

/// 16 pixels → 8 (tanh) → z1 (3) → 4 → z2 (2): the smallest two-layer model of each inference.
private func hierarchical(_ name: String, batchNorm: Bool = false, sizes: [Int] = [3, 2],
                          settings: ModelSettings = [:]) -> ModelSpecification {
    var specification = ModelSpecification(name: name, inputShape: [1, 4, 4], settings: settings)
    specification[NetworkSettings.hiddenSizes] = [8]
    specification[NetworkSettings.activation] = Activation.tanh.rawValue
    specification[NetworkSettings.batchNorm] = batchNorm
    specification[HierarchicalLatent.latentSizes] = sizes
    specification[HierarchicalLatent.hiddenSizes] = [4]
    specification[HierarchicalLatent.hiddenLayers] = 1
    return specification
}

private let specifications = [
    hierarchical("hvae"),
    hierarchical("hvae", settings: ["importance_samples": 4]),
    hierarchical("ladder-vae", settings: ["warmup_steps": 0]),
    hierarchical("ladder-vae", batchNorm: true, sizes: [3, 2, 2], settings: ["warmup_steps": 50]),
]

private func make(_ specification: ModelSpecification, seed: UInt64 = 1) throws -> ComposedVAE {
    try #require(try makeModel(specification, seed: seed) as? ComposedVAE)
}

extension VAEModelsTests {
    @Suite("Hierarchical latents: hvae and ladder-vae")
    struct HierarchicalLatentTests {
        @Test(arguments: specifications)
        func lossIsFiniteAndEveryParameterLearns(_ specification: ModelSpecification) throws {
            let model = try make(specification)
            #expect(model.latentSize == 3, "the decoder reads z1")
            let context = LossContext(noise: RandomStream(seed: 2, name: "noise"), step: 60)
            let gradients = checkedLossGradients(model, prototypeData(rows: 64, seed: 1), context: context)
            expectEveryParameterLearns(model.namedParameters, gradients)
            let names = model.namedParameters.map(\.name)
            #expect(names.contains("upward.1.hidden.layers.0.weight") && names.contains("downward.0.mean.weight"))
        }

        /// 300 Adam steps on the prototype data (structure-blind ≈ 11.1 nats, best ≈ 6.6).
        @Test(arguments: specifications)
        func shortTrainingLowersTheLoss(_ specification: ModelSpecification) throws {
            let model = try make(specification)
            let data = prototypeData(rows: 512, seed: 15)
            func evaluate() -> Double {
                model.setTraining(false)
                defer { model.setTraining(true) }
                var noise = RandomStream(seed: 16, name: "evaluation")
                let terms = withoutGradients { model.negativeELBO(data, noise: &noise) }
                return Double((terms.reconstruction + terms.kl).mean().scalar)
            }
            let before = evaluate()
            train(model, data: data, steps: 300)
            let after = evaluate()
            #expect(after < before - 0.8, "\(specification.name): −ELBO \(before) → \(after)")
        }

        @Test(arguments: specifications)
        func samplesAreInTheDataRangeAndReloadExactly(_ specification: ModelSpecification) throws {
            let source = try make(specification, seed: 1)
            let target = try make(specification, seed: 2)
            var random = RandomStream(seed: 17, name: "latent")
            let codes = source.samplePrior(count: 64, random: &random)
            #expect(codes.shape == [64, 3] && codes.isFinite)
            let images = source.decode(codes).mean
            #expect(images.scalars.allSatisfy { (0...1).contains($0) })
            let state = Dictionary(uniqueKeysWithValues: source.stateDictionary.map { ($0.name, $0.value) })
            for (name, parameter) in target.namedStates { parameter.value = try #require(state[name], "missing \(name)") }
            source.setTraining(false)
            target.setTraining(false)
            let input = prototypeData(rows: 8, seed: 18)
            var (first, second) = (RandomStream(seed: 3, name: "noise"), RandomStream(seed: 3, name: "noise"))
            #expect(source.logImportanceWeights(input, samples: 5, noise: &first).scalars
                    == target.logImportanceWeights(input, samples: 5, noise: &second).scalars)
            #expect(source.latentSummary(input).code.scalars == target.latentSummary(input).code.scalars)
        }

        /// The importance-sampling NLL (draws from q, densities log q and log p written layer by layer) agrees with
        /// the naive estimate log (1/N) Σ p(x | z₁ⁿ) over ancestral draws from the prior (``samplePrior``, which
        /// uses no density): a wrong density term in either inference biases the first and not the second.
        @Test(arguments: [specifications[0], specifications[2]])
        func importanceWeightsAgreeWithAncestralSampling(_ specification: ModelSpecification) throws {
            let model = try make(specification)
            model.setTraining(false)
            let input = prototypeData(rows: 2, seed: 21)
            var noise = RandomStream(seed: 22, name: "importance")
            let importance = withoutGradients { model.importanceWeightedBound(input, samples: 4000, noise: &noise) }
            var random = RandomStream(seed: 23, name: "prior")
            let codes = withoutGradients { model.samplePrior(count: 200_000, random: &random) }
            for row in 0..<2 {
                let image = input.slice(row..<row + 1).gathering([Int](repeating: 0, count: 200_000))
                let logLikelihood = withoutGradients { model.decode(codes).logProbability(image) }
                let naive = Double(logLikelihood.reshaped([1, 200_000]).logMeanExp(alongAxis: 1).scalar)
                let estimate = Double(importance.scalars[row])
                #expect(abs(estimate - naive) < 0.05, "row \(row): importance \(estimate), ancestral \(naive)")
            }
        }

        /// The top-down posterior is the normalised product of the two Gaussians: precision and precision-weighted
        /// mean in Double, and its gradient by finite differences.
        @Test func precisionWeightedMergeIsTheProductOfGaussians() throws {
            var random = RandomStream(seed: 5, name: "merge")
            let (m1, v1) = (random.normal(shape: [3, 4]), random.normal(shape: [3, 4]) * 2)
            let (m2, v2) = (random.normal(shape: [3, 4]), random.normal(shape: [3, 4]) * 2)
            let merged = DiagonalNormal(mean: m1, logVariance: v1).precisionWeighted(with: DiagonalNormal(mean: m2, logVariance: v2))
            for index in 0..<12 {
                let (p1, p2) = (exp(-Double(v1.scalars[index])), exp(-Double(v2.scalars[index])))
                let mean = (Double(m1.scalars[index]) * p1 + Double(m2.scalars[index]) * p2) / (p1 + p2)
                #expect(abs(Double(merged.mean.scalars[index]) - mean) < 1e-5 * max(1, abs(mean)))
                #expect(abs(Double(merged.logVariance.scalars[index]) + log(p1 + p2)) < 1e-5)
            }
            checkGradients([m1, v1, m2, v2]) { inputs in
                let merged = DiagonalNormal(mean: inputs[0], logVariance: inputs[1])
                    .precisionWeighted(with: DiagonalNormal(mean: inputs[2], logVariance: inputs[3]))
                return Tensor.concatenate([merged.mean, merged.logVariance], alongAxis: 1)
            }
        }

        @Test func batchNormIsPlacedBeforeHiddenActivationsAndStopsSharding() throws {
            let plain = try make(specifications[2])
            let normalised = try make(specifications[3])
            #expect(plain.lossSplitsOverRows)
            #expect(!normalised.lossSplitsOverRows, "batch statistics: a batch's loss is not a mean over rows")
            let names = normalised.namedStates.map(\.name)
            #expect(names.contains("encoder.norms.0.running_mean") && names.contains("decoder.norms.0.weight"))
            #expect(names.contains("upward.1.hidden.norms.0.weight") && names.contains("downward.1.hidden.norms.0.bias"))
            #expect(!names.contains { $0.hasPrefix("upward.0.hidden") }, "z1's heads sit on the encoder's features")
            #expect(!plain.namedStates.contains { $0.name.contains("norms") })
        }

        @Test func gapWidthsMustMatchTheLayers() throws {
            var specification = hierarchical("hvae", sizes: [4, 3, 2])
            specification[HierarchicalLatent.hiddenSizes] = [5, 4, 3]
            #expect(throws: ModelError.self) { try makeModel(specification) }
            do { _ = try makeModel(specification) } catch {
                #expect("\(error)".contains("model_params.latent_hidden_sizes") && "\(error)".contains("got 3"))
            }
            specification[HierarchicalLatent.hiddenSizes] = [5, 4]
            let model = try make(specification)
            #expect(model.namedParameters.contains { $0.name == "downward.1.hidden.layers.0.weight" && $0.parameter.shape == [4, 2] })
        }
    }
}
