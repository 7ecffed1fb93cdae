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
