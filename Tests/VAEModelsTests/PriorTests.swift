import Foundation
import Testing
import VAEDistributions
import VAENN
import VAETensor
@testable import VAEModels

/// p(z) = N(shift, I): its KL from a diagonal Gaussian is in closed form, ½ Σ ((μ − m)² + σ² − 1 − log σ²).
private final class ShiftedNormalPrior: Module, LatentPrior {
    let shift: Float
    init(shift: Float) { self.shift = shift; super.init() }

    func kl(_ posterior: DiagonalNormal, draw z: Tensor) -> Tensor { klPerDimension(posterior).sum(alongAxis: 1) }
    func klPerDimension(_ posterior: DiagonalNormal) -> Tensor {
        ((posterior.mean - shift).squared() + posterior.logVariance.exp() - posterior.logVariance - 1) * 0.5
    }
    func logProbability(_ z: Tensor) -> Tensor { DiagonalNormal.standard(shape: z.shape).logProbability(z - shift) }
    func sample(count: Int, dimensions: Int, random: inout RandomStream) -> Tensor {
        random.normal(shape: [count, dimensions]) + shift
    }
}

extension VAEModelsTests {
    @Suite("Priors: the latent's KL, importance weights and samples come from its prior")
    struct PriorTests {
        static func model(prior: any LatentPrior) throws -> ComposedVAE {
            var random = RandomStream(seed: 3, name: "init")
            return try ComposedVAE(smallSpecification, network: .mlp, conditionClasses: 0,
                                   latent: { features, random in
                                       GaussianLatent(featureSize: features, latentSize: 3, prior: prior, random: &random)
                                   },
                                   objective: ELBOObjective(), random: &random)
        }

        @Test func standardNormalIsTheDefaultAndAddsNoWeights() throws {
            let composed = try Self.model(prior: StandardNormalPrior())
            var random = RandomStream(seed: 1, name: "init")
            let plain = try gaussian(ModelRegistry.make(smallSpecification, random: &random))
            #expect(composed.namedStates.map(\.name) == plain.namedStates.map(\.name))
        }

        @Test(arguments: [Float(0), 1.5])
        func klAndLogDensityAgree(_ shift: Float) throws {
            // The exact KL the model uses equals E_q[log q(z|x) − log p(z)] from its importance draws (whose
            // weights subtract log q and add log p), within Monte Carlo error.
            let model = try Self.model(prior: ShiftedNormalPrior(shift: shift))
            let data = prototypeData(rows: 4, seed: 7)
            var noise = RandomStream(seed: 8, name: "noise")
            let exactKL = withoutGradients { model.negativeELBO(data, noise: &noise).kl }.scalars.map { Double($0) }
            let features = withoutGradients { model.features(data) }
            let samples = 20_000
            let draw = withoutGradients { model.latent.importanceDraw(features, samples: samples, noise: &noise) }
            let ratios = (draw.subtracted - draw.added).scalars
            for row in 0..<4 {
                let estimate = ratios[(row * samples)..<((row + 1) * samples)].reduce(0.0) { $0 + Double($1) } / Double(samples)
                #expect(abs(estimate - exactKL[row]) < 0.05 + 0.02 * exactKL[row], "row \(row): \(estimate) vs \(exactKL[row])")
            }
            var random = RandomStream(seed: 9, name: "sampling")
            let prior = model.samplePrior(count: 4000, random: &random).scalars
            #expect(abs(prior.reduce(0.0) { $0 + Double($1) } / Double(prior.count) - Double(shift)) < 0.05)
        }
    }
}

extension VAEModelsTests {
    @Suite("VampPrior: a mixture of the encoder's posteriors of learned pseudo-inputs")
    struct VampPriorTests {
        static let specification = ModelSpecification(name: "vamp-prior", inputShape: [1, 4, 4],
                                                      settings: ["hidden_sizes": [8], "latent_size": 3, "pseudo_inputs": 5])

        static func model(seed: UInt64 = 1) throws -> (ComposedVAE, VampPrior) {
            var random = RandomStream(seed: seed, name: "init")
            let model = try gaussian(ModelRegistry.make(specification, random: &random))
            return (model, try #require((model.latent as? GaussianLatent)?.prior as? VampPrior))
        }

        @Test func logDensityIsTheMixtureOfThePseudoInputsPosteriors() throws {
            let (model, prior) = try Self.model()
            let components = try #require(model.gaussianPosterior(prior.pseudoInputs.value))
            var random = RandomStream(seed: 2, name: "z")
            let z = random.normal(shape: [6, 3])
            let value = withoutGradients { prior.logProbability(z) }.scalars
            for row in 0..<6 {
                // log (1/K) Σ_k N(z; μ_k, σ_k²), one component at a time, in Double.
                var densities: [Double] = []
                for k in 0..<5 {
                    var log = 0.0
                    for d in 0..<3 {
                        let (x, m, lv) = (Double(z.scalars[row * 3 + d]), Double(components.mean.scalars[k * 3 + d]),
                                          Double(components.logVariance.scalars[k * 3 + d]))
                        log += -0.5 * ((x - m) * (x - m) / Foundation.exp(lv) + lv + Foundation.log(2 * Double.pi))
                    }
                    densities.append(Foundation.exp(log))
                }
                let expected = Foundation.log(densities.reduce(0, +) / 5)
                #expect(abs(Double(value[row]) - expected) < 1e-4 * max(1, abs(expected)), "row \(row)")
            }
        }

        @Test func everyParameterLearnsIncludingThePseudoInputsAndReloadsExactly() throws {
            let (model, _) = try Self.model()
            #expect(model.namedParameters.contains { $0.name == "prior.pseudo_inputs" })
            let data = prototypeData(rows: 16, seed: 1)
            let gradients = checkedLossGradients(model, data, context: LossContext(noise: RandomStream(seed: 2, name: "noise")))
            expectEveryParameterLearns(model.namedParameters, gradients)
            let (copy, _) = try Self.model(seed: 9)
            let state = Dictionary(uniqueKeysWithValues: model.stateDictionary.map { ($0.name, $0.value) })
            for (name, parameter) in copy.namedStates { parameter.value = try #require(state[name]) }
            var (a, b) = (RandomStream(seed: 3, name: "noise"), RandomStream(seed: 3, name: "noise"))
            #expect(model.negativeELBO(data, noise: &a).kl.scalars == copy.negativeELBO(data, noise: &b).kl.scalars)
        }

        @Test func samplesComeFromTheComponentsAndPerDimensionKLIsFinite() throws {
            let (model, prior) = try Self.model()
            let components = try #require(model.gaussianPosterior(prior.pseudoInputs.value))
            var random = RandomStream(seed: 4, name: "sampling")
            let samples = model.samplePrior(count: 20_000, random: &random)
            for d in 0..<3 {
                let sampleMean = stride(from: d, to: samples.count, by: 3).reduce(0.0) { $0 + Double(samples.scalars[$1]) } / 20_000
                let mixtureMean = (0..<5).reduce(0.0) { $0 + Double(components.mean.scalars[$1 * 3 + d]) } / 5
                #expect(abs(sampleMean - mixtureMean) < 0.05, "dimension \(d): \(sampleMean) vs \(mixtureMean)")
            }
            let summary = model.latentSummary(prototypeData(rows: 8, seed: 5))
            #expect(summary.klPerDimension.scalars.allSatisfy { $0.isFinite && $0 >= -1e-5 })
        }
    }
}
