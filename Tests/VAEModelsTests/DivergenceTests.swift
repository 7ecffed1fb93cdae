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
