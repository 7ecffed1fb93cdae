import Foundation
import Testing
import VAETensor
@testable import VAEModels

extension VAEModelsTests {
    @Suite("Gaussian mixture (EM), the post-hoc sampler")
    struct GaussianMixtureTests {
        /// 600 points from three 2-D Gaussians with different spreads and a correlated one.
        static func data() -> [[Double]] {
            var random = RandomStream(seed: 1, name: "clusters")
            let noise = random.normal(shape: [600, 2]).scalars.map(Double.init)
            return (0..<600).map { row in
                let (a, b) = (noise[row * 2], noise[row * 2 + 1])
                switch row % 3 {
                case 0: return [a * 0.3 - 4, b * 0.3 + 4]
                case 1: return [a + 4, a * 0.8 + b * 0.2 + 4]
                default: return [a * 0.5, b * 0.5 - 4]
                }
            }
        }

        @Test func emNeverLowersTheLikelihoodAndFindsTheClusters() {
            var random = RandomStream(seed: 2, name: "gmm")
            let (mixture, history) = GaussianMixture.fit(Self.data(), components: 3, random: &random)
            for (earlier, later) in zip(history, history.dropFirst()) {
                #expect(later >= earlier - 1e-9, "EM lowered the log-likelihood: \(earlier) → \(later)")
            }
            #expect(history.count >= 3)
            let centres = [[-4.0, 4.0], [4.0, 4.0], [0.0, -4.0]]
            for centre in centres {
                let nearest = mixture.means.map { hypot($0[0] - centre[0], $0[1] - centre[1]) }.min()!
                #expect(nearest < 0.2, "no component near \(centre): \(mixture.means)")
            }
            for weight in mixture.weights { #expect(abs(weight - 1.0 / 3) < 0.02) }
            // The correlated cluster's covariance: var(x) ≈ 1, cov(x, y) ≈ 0.8.
            let k = mixture.means.indices.min { hypot(mixture.means[$0][0] - 4, mixture.means[$0][1] - 4) < hypot(mixture.means[$1][0] - 4, mixture.means[$1][1] - 4) }!
            #expect(abs(mixture.covariances[k][0] - 1) < 0.2 && abs(mixture.covariances[k][1] - 0.8) < 0.2, "\(mixture.covariances[k])")
        }

        /// Diagonal covariances (for wide codes): EM still never lowers the likelihood, finds axis-aligned clusters
        /// and their per-axis variances, its density equals the full formula's with those variances on the diagonal, and its
        /// draws have its variances.
        @Test func diagonalCovariances() {
            var random = RandomStream(seed: 2, name: "gmm")
            // The two axis-aligned clusters (the correlated one is a full covariance's job).
            let data = Self.data().enumerated().filter { $0.offset % 3 != 1 }.map(\.element)
            let (mixture, history) = GaussianMixture.fit(data, components: 2, kind: .diagonal, random: &random)
            for (earlier, later) in zip(history, history.dropFirst()) {
                #expect(later >= earlier - 1e-9, "EM lowered the log-likelihood: \(earlier) → \(later)")
            }
            #expect(mixture.kind == .diagonal && mixture.covariances.allSatisfy { $0.count == 2 })
            let k = mixture.means.indices.min { hypot(mixture.means[$0][0] + 4, mixture.means[$0][1] - 4) < hypot(mixture.means[$1][0] + 4, mixture.means[$1][1] - 4) }!
            #expect(hypot(mixture.means[k][0] + 4, mixture.means[k][1] - 4) < 0.2)
            #expect(mixture.covariances[k].allSatisfy { abs($0 - 0.09) < 0.02 }, "\(mixture.covariances[k])")
            let full = GaussianMixture(weights: mixture.weights, means: mixture.means,
                                       covariances: mixture.covariances.map { [$0[0], 0, 0, $0[1]] })
            #expect(abs(full.meanLogLikelihood(data) - mixture.meanLogLikelihood(data)) < 1e-9)
            let single = GaussianMixture(weights: [1], means: [[1, -2]], covariances: [[0.25, 4]], kind: .diagonal)
            var sampling = RandomStream(seed: 5, name: "sampling")
            let draws = single.sample(count: 20_000, random: &sampling).scalars
            for (axis, (mean, variance)) in [(1.0, 0.25), (-2.0, 4.0)].enumerated() {
                let values = stride(from: axis, to: draws.count, by: 2).map { Double(draws[$0]) }
                let sampleMean = values.reduce(0, +) / Double(values.count)
                let sampleVariance = values.reduce(0) { $0 + ($1 - sampleMean) * ($1 - sampleMean) } / Double(values.count)
                #expect(abs(sampleMean - mean) < 0.05 && abs(sampleVariance / variance - 1) < 0.05)
            }
        }

        @Test func samplesFollowTheMixture() {
            var random = RandomStream(seed: 3, name: "gmm")
            let (mixture, _) = GaussianMixture.fit(Self.data(), components: 3, random: &random)
            var sampling = RandomStream(seed: 4, name: "sampling")
            let samples = mixture.sample(count: 30_000, random: &sampling)
            // The mixture's likelihood of its own draws matches its likelihood of the data it was fitted to.
            let rows = (0..<30_000).map { [Double(samples.scalars[$0 * 2]), Double(samples.scalars[$0 * 2 + 1])] }
            #expect(abs(mixture.meanLogLikelihood(rows) - mixture.meanLogLikelihood(Self.data())) < 0.1)
            let meanY = rows.reduce(0.0) { $0 + $1[1] } / 30_000
            #expect(abs(meanY - 4.0 / 3) < 0.05, "\(meanY)")
        }
    }
}
