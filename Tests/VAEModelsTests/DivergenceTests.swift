import Foundation
import Testing
import TestSupport
import VAETensor
@testable import VAEModels

/// MMD² by the definition, one pair at a time, in Double.
private func bruteForceMMD(_ a: [[Double]], _ b: [[Double]], kernel: MaximumMeanDiscrepancy.Kernel, variance: Double) -> Double {
    let scale = 2 * Double(a[0].count) * variance
    func k(_ x: [Double], _ y: [Double]) -> Double {
        let distance = zip(x, y).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return kernel == .imq ? scale / (scale + distance) : Foundation.exp(-distance / scale)
    }
    func within(_ x: [[Double]]) -> Double {
        var sum = 0.0
        for i in x.indices { for j in x.indices where i != j { sum += k(x[i], x[j]) } }
        return sum / Double(x.count * (x.count - 1))
    }
    var cross = 0.0
    for x in a { for y in b { cross += k(x, y) } }
    return within(a) + within(b) - 2 * cross / Double(a.count * b.count)
}

private func rows(_ tensor: Tensor) -> [[Double]] {
    (0..<tensor.shape[0]).map { row in tensor.row(row).map { Double($0) } }
}

extension VAEModelsTests {
    @Suite("MMD, sliced Wasserstein and log-cosh estimators")
    struct DivergenceTests {
        @Test(arguments: MaximumMeanDiscrepancy.Kernel.allCases)
        func mmdMatchesTheDefinition(_ kernel: MaximumMeanDiscrepancy.Kernel) {
            var random = RandomStream(seed: 1, name: "mmd")
            let a = random.normal(shape: [7, 3]), b = random.normal(shape: [5, 3]) + 0.7
            let mmd = MaximumMeanDiscrepancy(kernel: kernel, latentVariance: 1.5)
            let expected = bruteForceMMD(rows(a), rows(b), kernel: kernel, variance: 1.5)
            #expect(abs(Double(mmd(a, b).scalar) - expected) < 1e-5, "\(mmd(a, b).scalar) vs \(expected)")
        }

        @Test(arguments: MaximumMeanDiscrepancy.Kernel.allCases)
        func mmdIsNearZeroForOneDistributionAndGrowsWithAShift(_ kernel: MaximumMeanDiscrepancy.Kernel) {
            var random = RandomStream(seed: 2, name: "mmd")
            let mmd = MaximumMeanDiscrepancy(kernel: kernel, latentVariance: 1)
            let same = Double(mmd(random.normal(shape: [400, 4]), random.normal(shape: [400, 4])).scalar)
            #expect(abs(same) < 0.01, "same distribution: \(same)")
            var previous = same
            for shift: Float in [0.5, 1, 2] {
                let value = Double(mmd(random.normal(shape: [400, 4]), random.normal(shape: [400, 4]) + shift).scalar)
                #expect(value > previous + 0.01, "shift \(shift): \(value) after \(previous)")
                previous = value
            }
        }

        @Test func mmdGradientsMatchFiniteDifferences() {
            var random = RandomStream(seed: 3, name: "mmd")
            let mmd = MaximumMeanDiscrepancy(kernel: .imq, latentVariance: 1)
            checkGradients([random.normal(shape: [4, 2]), random.normal(shape: [3, 2])]) { mmd($0[0], $0[1]) }
        }

        @Test func slicedWassersteinIn1DIsTheSortedMatch() {
            // In one dimension every direction is ±1: the distance is the mean squared gap of the sorted samples.
            var random = RandomStream(seed: 4, name: "sw")
            let a = random.normal(shape: [50, 1]), b = random.normal(shape: [50, 1]) * 2 + 1
            var directions = RandomStream(seed: 5, name: "directions")
            let value = Double(SlicedWasserstein(projections: 3, power: 2)(a, b, random: &directions).scalar)
            let (sortedA, sortedB) = (a.scalars.sorted(), b.scalars.sorted())
            let expected = zip(sortedA, sortedB).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / 50
            #expect(abs(value - expected) < 1e-4 * expected, "\(value) vs \(expected)")
        }

        @Test func slicedWassersteinOfAShiftIsItsProjectedLength() {
            // b = a + s: every sorted pair differs by s·θ, and E[(s·θ)²] = ‖s‖²/d for θ uniform on the sphere.
            var random = RandomStream(seed: 6, name: "sw")
            let a = random.normal(shape: [64, 4])
            let shift = Tensor(shape: [1, 4], scalars: [1, -2, 0.5, 2])
            var directions = RandomStream(seed: 7, name: "directions")
            let value = Double(SlicedWasserstein(projections: 4000, power: 2)(a, a + shift, random: &directions).scalar)
            let expected = (1 + 4 + 0.25 + 4) / 4.0
            #expect(abs(value - expected) < 0.05 * expected, "\(value) vs \(expected)")
            var again = RandomStream(seed: 7, name: "directions")
            #expect(SlicedWasserstein(projections: 4000, power: 1)(a, a, random: &again).scalar == 0)
        }

        @Test func slicedWassersteinGradientsMatchFiniteDifferences() {
            var random = RandomStream(seed: 8, name: "sw")
            let distance = SlicedWasserstein(projections: 5, power: 2)
            // Well-separated values keep the sort order fixed under the finite-difference steps.
            let a = Tensor(shape: [4, 2], scalars: [0, 1, 3, -2, 6, 4, -5, 8])
            checkGradients([a, random.normal(shape: [4, 2]) * 4]) { inputs in
                var directions = RandomStream(seed: 9, name: "directions")
                return distance(inputs[0], inputs[1], random: &directions)
            }
        }

        @Test func logCoshIsFiniteForLargeResidualsAndMatchesTheDefinition() {
            let objective = LogCoshObjective(alpha: 10)
            let mean = Tensor(shape: [1, 4], scalars: [0.1, 0.5, 100, -300])
            let target = Tensor(shape: [1, 4], scalars: [0.2, 0.5, 0, 0])
            let value = Double(objective.logCosh(mean, target).scalar)
            // Small residuals by the definition, large ones by |t| − log 2 (cosh(1000) overflows Double).
            let expected = Foundation.log(Foundation.cosh(-1.0)) / 10 + 0 + (1000 - Foundation.log(2.0)) / 10
                + (3000 - Foundation.log(2.0)) / 10
            #expect(value.isFinite)
            #expect(abs(value - expected) < 1e-3 * expected, "\(value) vs \(expected)")
        }
    }
}

extension VAEModelsTests {
    @Suite("SSIM and MS-SSIM")
    struct StructuralSimilarityTests {
        /// Two smooth 28×28 images with detail at several scales, and the second a distorted copy of the first.
        static func images() -> (Tensor, Tensor) {
            let side = 28
            var (a, b) = ([Float](), [Float]())
            for row in 0..<side {
                for column in 0..<side {
                    let (y, x) = (Double(row), Double(column))
                    let value = 0.5 + 0.3 * Foundation.sin(x / 3) * Foundation.cos(y / 5) + 0.15 * Foundation.sin((x + y) / 1.7)
                    a.append(Float(value))
                    b.append(Float(min(1, max(0, 0.8 * value + 0.1 + 0.08 * Foundation.sin(x * y / 7)))))
                }
            }
            return (Tensor(shape: [1, 1, side, side], scalars: a), Tensor(shape: [1, 1, side, side], scalars: b))
        }

        @Test func anImageWithItselfIsOneAndDistortionLowersIt() {
            let (a, b) = Self.images()
            let similarity = StructuralSimilarity()
            #expect(abs(similarity.ssim(a, a).scalar - 1) < 1e-5)
            #expect(abs(similarity.multiScale(a, a).scalar - 1) < 1e-4)
            let (ssim, multiScale) = (similarity.ssim(a, b).scalar, similarity.multiScale(a, b).scalar)
            #expect(ssim < 0.99 && ssim > 0, "\(ssim)")
            #expect(multiScale < 0.999 && multiScale > 0, "\(multiScale)")
            #expect(StructuralSimilarity.scales(height: 28, width: 28) == 2)
            #expect(StructuralSimilarity.scales(height: 64, width: 64) == 3)
            #expect(StructuralSimilarity.scales(height: 256, width: 256) == 5)
        }

        @Test(.enabled(if: pythonHas("skimage, numpy"), "python3 with scikit-image is not installed"))
        func ssimMatchesScikitImage() throws {
            let (a, b) = Self.images()
            let values = (a.scalars + b.scalars).map { String($0) }.joined(separator: " ")
            let script = """
                import sys, numpy as np
                from skimage.metrics import structural_similarity
                v = np.array([float(t) for t in sys.argv[1].split()], dtype=np.float64)
                a, b = v[:784].reshape(28, 28), v[784:].reshape(28, 28)
                print(structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0))
                """
            let result = try runPython(script, [values])
            let expected = try #require(Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)),
                                        "python: \(result.standardOutput)")
            let value = Double(StructuralSimilarity().ssim(a, b).scalar)
            #expect(abs(value - expected) < 1e-4, "VAEKit \(value), scikit-image \(expected)")
        }

        @Test func gradientsMatchFiniteDifferences() {
            var random = RandomStream(seed: 1, name: "ssim")
            let a = random.uniform(shape: [1, 1, 12, 12], in: 0...1)
            let b = random.uniform(shape: [1, 1, 12, 12], in: 0...1)
            checkGradients([a, b]) { StructuralSimilarity().ssim($0[0], $0[1]) }
        }
    }
}

extension VAEModelsTests {
    @Suite("mssim-vae")
    struct MSSIMModelTests {
        @Test func everyParameterLearnsAndTrainingRaisesTheSimilarity() throws {
            var random = RandomStream(seed: 1, name: "init")
            let specification = ModelSpecification(name: "mssim-vae", inputShape: [1, 12, 12],
                                                   settings: ["hidden_sizes": [16], "latent_size": 3, "mssim_weight": 100])
            let model = try gaussian(ModelRegistry.make(specification, random: &random))
            // Smooth blobs at random places: structure for SSIM to see.
            var data = RandomStream(seed: 2, name: "data")
            let images = (0..<256).flatMap { _ -> [Float] in
                let (cy, cx) = (Double(data.integer(below: 8) + 2), Double(data.integer(below: 8) + 2))
                return (0..<144).map { Float(Foundation.exp(-(pow(Double($0 / 12) - cy, 2) + pow(Double($0 % 12) - cx, 2)) / 6)) }
            }
            let input = Tensor(shape: [256, 144], scalars: images)
            let gradients = checkedLossGradients(model, input.slice(0..<32), context: LossContext(noise: RandomStream(seed: 3, name: "noise")))
            expectEveryParameterLearns(model.namedParameters, gradients)
            func dissimilarity() -> Float {
                let context = LossContext(noise: RandomStream(seed: 4, name: "evaluation"))
                return withoutGradients { model.loss(input, context: context) }.value("mssim_loss")!
            }
            let before = dissimilarity()
            train(model, data: input, steps: 300)
            let after = dissimilarity()
            #expect(after < before - 0.05, "1 − MS-SSIM \(before) → \(after)")
        }

        @Test func smallOrFlatInputsAreAClearError() {
            var random = RandomStream(seed: 1, name: "init")
            let error = #expect(throws: ModelError.self) {
                try ModelRegistry.make(ModelSpecification(name: "mssim-vae", inputShape: [1, 8, 8]), random: &random)
            }
            #expect(error?.description.contains("at least 11×11") == true)
        }
    }
}
