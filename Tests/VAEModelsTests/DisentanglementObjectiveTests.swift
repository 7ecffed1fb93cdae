import Foundation
import Testing
import TestSupport
import VAEDistributions
import VAETensor
@testable import VAEModels

extension VAEModelsTests {
    @Suite("β-TCVAE and DIP-VAE objectives")
    struct DisentanglementObjectiveTests {
        /// A batch of 5 diagonal-Gaussian posteriors over 3 dimensions and one draw from each.
        func posterior(seed: UInt64) -> (DiagonalNormal, Tensor) {
            var random = RandomStream(seed: seed, name: "posterior")
            let posterior = DiagonalNormal(mean: random.normal(shape: [5, 3]), logVariance: random.normal(shape: [5, 3]) * 0.5 - 1)
            return (posterior, posterior.sample(using: &random))
        }

        func logNormal(_ x: Double, _ mean: Double, _ logVariance: Double) -> Double {
            -0.5 * ((x - mean) * (x - mean) * exp(-logVariance) + logVariance + log(2 * Double.pi))
        }

        /// log q(z_i) and Σ_k log q(z_ik) by the published formulas, in Double, against the tensor code; and the three
        /// terms add up to the one-sample KL log q(z|x) − log p(z).
        @Test(arguments: [TotalCorrelationObjective.Sampling.mws, .mss])
        func decompositionMatchesTheFormulasAndSumsToTheKL(_ sampling: TotalCorrelationObjective.Sampling) {
            let (posterior, z) = posterior(seed: 1)
            let objective = TotalCorrelationObjective(alpha: 1, beta: 6, gamma: 1, sampling: sampling, datasetSize: 1000)
            let (mi, tc, dwkl) = objective.decomposition(posterior, draw: z)
            let (m, n, d) = (5, 1000.0, 3)
            let (mean, logVariance, codes) = (doubles(posterior.mean), doubles(posterior.logVariance), doubles(z))
            func weight(_ i: Int, _ j: Int) -> Double {
                guard sampling == .mss else { return 1 / (n * Double(m)) }
                if i == j { return 1 / n }
                if j == (i + 1) % m { return (n - Double(m) + 1) / (n * Double(m - 1)) }
                return 1 / Double(m - 1)
            }
            if sampling == .mss {
                for i in 0..<m { #expect(abs((0..<m).reduce(0.0) { $0 + weight(i, $1) } - 1) < 1e-12) }
            }
            for i in 0..<m {
                func component(_ j: Int, _ k: Int) -> Double { logNormal(codes[i * d + k], mean[j * d + k], logVariance[j * d + k]) }
                let joint = log((0..<m).reduce(0.0) { sum, j in sum + weight(i, j) * exp((0..<d).reduce(0.0) { $0 + component(j, $1) }) })
                let marginals = (0..<d).reduce(0.0) { sum, k in sum + log((0..<m).reduce(0.0) { $0 + weight(i, $1) * exp(component($1, k)) }) }
                let logPosterior = (0..<d).reduce(0.0) { $0 + component(i, $1) }
                let logPrior = (0..<d).reduce(0.0) { $0 + logNormal(codes[i * d + $1], 0, 0) }
                #expect(abs(Double(mi.scalars[i]) - (logPosterior - joint)) < 1e-4, "MI row \(i)")
                #expect(abs(Double(tc.scalars[i]) - (joint - marginals)) < 1e-4, "TC row \(i)")
                #expect(abs(Double(dwkl.scalars[i]) - (marginals - logPrior)) < 1e-4, "DWKL row \(i)")
                let sum = Double(mi.scalars[i] + tc.scalars[i] + dwkl.scalars[i])
                #expect(abs(sum - (logPosterior - logPrior)) < 1e-4)
            }
        }

        /// With α = β = γ = 1 the β-TCVAE loss is the (one-sample) ELBO; its gradients pass the finite-difference check
        /// through the posterior's parameters.
        @Test func unitWeightsGiveTheELBOAndGradientsCheck() throws {
            let (posterior, z) = posterior(seed: 2)
            let objective = TotalCorrelationObjective(alpha: 1, beta: 1, gamma: 1, sampling: .mws, datasetSize: 100)
            let (mi, tc, dwkl) = objective.decomposition(posterior, draw: z)
            let kl = posterior.logProbability(z) - DiagonalNormal.standard(shape: z.shape).logProbability(z)
            #expect(zip((mi + tc + dwkl).scalars, kl.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
            checkGradients([posterior.mean, posterior.logVariance]) { inputs in
                let normal = DiagonalNormal(mean: inputs[0], logVariance: inputs[1])
                let terms = TotalCorrelationObjective(alpha: 1, beta: 6, gamma: 1, sampling: .mss, datasetSize: 100)
                    .decomposition(normal, draw: z)
                return terms.mutualInformation + terms.totalCorrelation * 6 + terms.dimensionWiseKL
            }
        }

        /// DIP-VAE's covariance against a Double computation (centred over the batch), and its penalties vanish for
        /// whitened means (DIP-I) and grow with correlation.
        @Test func dipCovarianceAndPenalties() {
            let (posterior, _) = posterior(seed: 3)
            let means = doubles(posterior.mean)
            for kind in [DIPObjective.Kind.i, .ii] {
                let objective = DIPObjective(kind: kind, offDiagonalWeight: 1, diagonalWeight: 1)
                let covariance = objective.covariance(means: posterior.mean, logVariances: posterior.logVariance)
                for a in 0..<3 {
                    for b in 0..<3 {
                        let ma = (0..<5).map { means[$0 * 3 + a] }, mb = (0..<5).map { means[$0 * 3 + b] }
                        let (ca, cb) = (ma.reduce(0, +) / 5, mb.reduce(0, +) / 5)
                        var expected = zip(ma, mb).reduce(0.0) { $0 + ($1.0 - ca) * ($1.1 - cb) } / 5
                        if kind == .ii && a == b {
                            expected += (0..<5).reduce(0.0) { $0 + exp(Double(posterior.logVariance.scalars[$1 * 3 + a])) } / 5
                        }
                        #expect(abs(Double(covariance.scalars[a * 3 + b]) - expected) < 1e-5)
                    }
                }
            }
            let dip = DIPObjective(kind: .i, offDiagonalWeight: 1, diagonalWeight: 1)
            // ±1 in each coordinate over four rows: identity covariance, no penalty.
            let whitened = Tensor(shape: [4, 2], scalars: [1, 1, 1, -1, -1, 1, -1, -1])
            let (offWhite, diagonalWhite) = dip.penalties(dip.covariance(means: whitened, logVariances: .zeros([4, 2])))
            #expect(abs(offWhite.scalar) < 1e-6 && abs(diagonalWhite.scalar) < 1e-6)
            let correlated = Tensor(shape: [4, 2], scalars: [1, 1, 1, 1, -1, -1, -1, -1])
            let (offCorrelated, _) = dip.penalties(dip.covariance(means: correlated, logVariances: .zeros([4, 2])))
            #expect(abs(offCorrelated.scalar - 2) < 1e-5, "C_01 = C_10 = 1")
        }
    }
}

extension VAEModelsTests {
    @Suite("The burgess network")
    struct BurgessNetworkTests {
        /// Burgess et al.'s network for 1-channel 64×64 images, layer by layer: convs 1→32 and 3 × 32→32 (4×4),
        /// dense 512→256→256, heads 256→10 (two), then 10→256→256→512, three ConvT 32→32 and one 32→1 (4×4).
        @Test func layersAndShapesAreThePapers() throws {
            var specification = ModelSpecification(name: "beta-vae", network: "burgess", inputShape: [1, 64, 64])
            specification[NetworkSettings.hiddenSizes] = [32, 32, 32, 32]
            specification[GaussianLatent.latentSize] = 10
            let model = try gaussian(makeModel(specification))
            let conv = { (input: Int, output: Int) in input * output * 16 + output }
            let dense = { (input: Int, output: Int) in input * output + output }
            let expected = conv(1, 32) + 3 * conv(32, 32) + dense(512, 256) + dense(256, 256) + 2 * dense(256, 10)
                + dense(10, 256) + dense(256, 256) + dense(256, 512) + 3 * conv(32, 32) + conv(32, 1)
            #expect(model.parameterCount == expected)
            var random = RandomStream(seed: 1, name: "input")
            let images = random.uniform(shape: [3, 4096], in: 0...1)
            #expect(model.features(images).shape == [3, 256])
            #expect(model.decode(random.normal(shape: [3, 10])).mean.shape == [3, 4096])
            let gradients = checkedLossGradients(model, images, context: LossContext(noise: RandomStream(seed: 2, name: "noise")))
            expectEveryParameterLearns(model.namedParameters, gradients)
        }
    }
}
