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
