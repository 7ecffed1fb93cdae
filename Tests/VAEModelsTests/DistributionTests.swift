import Foundation
import TestSupport
import Testing
import VAETensor
import VAEDistributions

private let logTwoPi = Foundation.log(2 * Double.pi)

/// Per-row Σ over the last axis of `term(i)`, for [rows, width] tensors.
private func rowSums(rows: Int, width: Int, _ term: (Int) -> Double) -> [Double] {
    (0..<rows).map { row in (0..<width).reduce(0.0) { $0 + term(row * width + $1) } }
}

extension VAEModelsTests {
    @Suite("DiagonalNormal: density, KL, reparameterisation")
    struct DiagonalNormalTests {
        let mean = smoothValues([3, 4], seed: 1)
        let logVariance = smoothValues([3, 4], seed: 2)
        var normal: DiagonalNormal { DiagonalNormal(mean: mean, logVariance: logVariance) }

        @Test func logProbabilityIsGaussianFormula() {
            let value = smoothValues([3, 4], seed: 3, scale: 2)
            let (m, v, z) = (doubles(mean), doubles(logVariance), doubles(value))
            let expected = rowSums(rows: 3, width: 4) { i in
                -0.5 * (logTwoPi + v[i] + (z[i] - m[i]) * (z[i] - m[i]) / Foundation.exp(v[i]))
            }
            let actual = normal.logProbability(value)
            #expect(actual.shape == [3])
            // Four Float32 terms of size ≤ 10 per row: rounding ≈ 1e-5 at most.
            expectClose(actual.scalars, expected, absolute: 1e-5, relative: 1e-5, "log N")
            // The standard normal at 0 in 4 dimensions: −2·log 2π.
            let origin = DiagonalNormal.standard(shape: [1, 4]).logProbability(.zeros([1, 4]))
            expectClose(origin.scalars, [-2 * logTwoPi], absolute: 1e-5)
        }

        @Test func klFromStandardNormalIsFormula() {
            let (m, v) = (doubles(mean), doubles(logVariance))
            let expected = rowSums(rows: 3, width: 4) { i in 0.5 * (m[i] * m[i] + Foundation.exp(v[i]) - 1 - v[i]) }
            let closedForm = normal.klDivergenceFromStandardNormal()
            #expect(closedForm.shape == [3])
            expectClose(closedForm.scalars, expected, absolute: 1e-5, relative: 1e-5, "KL(q‖N(0,I))")
            let general = normal.klDivergence(from: .standard(shape: [3, 4]))
            expectClose(general.scalars, expected, absolute: 1e-5, relative: 1e-5, "KL(q‖standard)")
        }

        @Test func klBetweenTwoNormalsIsFormula() {
            let other = DiagonalNormal(mean: smoothValues([3, 4], seed: 4), logVariance: smoothValues([3, 4], seed: 5))
            let (m1, v1, m2, v2) = (doubles(mean), doubles(logVariance), doubles(other.mean), doubles(other.logVariance))
            let expected = rowSums(rows: 3, width: 4) { i in
                0.5 * (v2[i] - v1[i] + (Foundation.exp(v1[i]) + (m1[i] - m2[i]) * (m1[i] - m2[i])) / Foundation.exp(v2[i]) - 1)
            }
            expectClose(normal.klDivergence(from: other).scalars, expected, absolute: 1e-5, relative: 1e-5, "KL(q‖p)")
        }

        @Test func klIsNonNegativeAndZeroOnlyForEqualDistributions() {
            var random = RandomStream(seed: 6, name: "pairs")
            for _ in 0..<20 {
                let first = DiagonalNormal(mean: random.normal(shape: [5, 3]), logVariance: random.normal(shape: [5, 3]))
                let second = DiagonalNormal(mean: random.normal(shape: [5, 3]), logVariance: random.normal(shape: [5, 3]))
                // Each row differs in all three coordinates by O(1): KL is clearly positive.
                #expect(first.klDivergence(from: second).scalars.allSatisfy { $0 > 1e-3 })
                #expect(first.klDivergenceFromStandardNormal().scalars.allSatisfy { $0 > 1e-3 })
                // KL(q‖q) = 0 up to Float32 rounding of e^v − 1 − v style sums (≈ 1e-6).
                #expect(first.klDivergence(from: first).scalars.allSatisfy { abs($0) < 1e-5 })
            }
            let standard = DiagonalNormal.standard(shape: [2, 6])
            #expect(standard.klDivergenceFromStandardNormal().scalars == [0, 0])
            // A small move away from equality gives a small positive KL (½δ² per coordinate for the mean).
            let moved = DiagonalNormal(mean: Tensor(repeating: 0.1, shape: [1, 6]), logVariance: .zeros([1, 6]))
            expectClose(moved.klDivergenceFromStandardNormal().scalars, [6 * 0.5 * 0.01], absolute: 1e-6)
        }

        @Test func monteCarloKLMatchesClosedForm() {
            let rows = 200_000
            let rowMean: [Float] = [0.5, -1, 0.2], rowLogVariance: [Float] = [-0.5, 0.3, 0]
            let q = DiagonalNormal(mean: Tensor(shape: [rows, 3], scalars: Array([[Float]](repeating: rowMean, count: rows).joined())),
                                   logVariance: Tensor(shape: [rows, 3], scalars: Array([[Float]](repeating: rowLogVariance, count: rows).joined())))
            var noise = RandomStream(seed: 7, name: "noise")
            let z = q.sample(using: &noise)
            let difference = q.logProbability(z) - DiagonalNormal.standard(shape: [rows, 3]).logProbability(z)
            let values = doubles(difference)
            let average = values.reduce(0, +) / Double(rows)
            let variance = values.reduce(0.0) { $0 + ($1 - average) * ($1 - average) } / Double(rows - 1)
            let standardError = (variance / Double(rows)).squareRoot()
            let analytic = zip(rowMean, rowLogVariance).reduce(0.0) { total, pair in
                let (m, v) = (Double(pair.0), Double(pair.1))
                return total + 0.5 * (m * m + Foundation.exp(v) - 1 - v)
            }
            // The estimator is unbiased with standard error ≈ 0.003 here; 4 standard errors is a two-sided
            // bound that a correct implementation exceeds with probability 6e-5, while a wrong sign, a missing
            // ½ or σ used for σ² shifts the mean by ≥ 0.1.
            #expect(abs(average - analytic) < 4 * standardError, "MC \(average) ± \(standardError) vs \(analytic)")
            #expect(standardError < 0.01)
            // The draws themselves have the right moments: coordinate 0 mean 0.5, variance e^−0.5.
            let first = stride(from: 0, to: rows * 3, by: 3).map { Double(z.scalars[$0]) }
            let firstMean = first.reduce(0, +) / Double(rows)
            let firstVariance = first.reduce(0.0) { $0 + ($1 - firstMean) * ($1 - firstMean) } / Double(rows - 1)
            #expect(abs(firstMean - 0.5) < 4 * (Foundation.exp(-0.5) / Double(rows)).squareRoot())
            // Var of the sample variance ≈ 2σ⁴/n → SE ≈ 0.0019.
            #expect(abs(firstVariance - Foundation.exp(-0.5)) < 4 * (2 / Double(rows)).squareRoot() * Foundation.exp(-0.5))
        }

        @Test func klGradientMatchesFiniteDifferences() {
            checkGradients([mean, logVariance]) {
                DiagonalNormal(mean: $0[0], logVariance: $0[1]).klDivergenceFromStandardNormal()
            }
            let other = DiagonalNormal(mean: smoothValues([3, 4], seed: 8), logVariance: smoothValues([3, 4], seed: 9))
            checkGradients([mean, logVariance]) { DiagonalNormal(mean: $0[0], logVariance: $0[1]).klDivergence(from: other) }
        }

        @Test func reparameterisedSampleGradientMatchesFiniteDifferences() {
            let noise = smoothValues([3, 4], seed: 10)
            checkGradients([mean, logVariance]) { DiagonalNormal(mean: $0[0], logVariance: $0[1]).sample(noise: noise) }
            // z = μ + e^{v/2}·ε exactly.
            let z = normal.sample(noise: noise)
            let expected = zip(zip(doubles(mean), doubles(logVariance)), doubles(noise)).map { $0.0 + Foundation.exp($0.1 / 2) * $1 }
            expectClose(z.scalars, expected, absolute: 1e-5, relative: 1e-5, "μ + σε")
            // sample(using:) draws ε from the stream: same as normal(shape:) from a copy of it.
            var stream = RandomStream(seed: 11, name: "noise")
            var copy = stream
            let drawn = normal.sample(using: &stream)
            #expect(drawn.scalars == normal.sample(noise: copy.normal(shape: [3, 4])).scalars)
            #expect(stream == copy)
        }

        @Test func logProbabilityGradientMatchesFiniteDifferences() {
            let value = smoothValues([3, 4], seed: 12)
            checkGradients([mean, logVariance, value]) {
                DiagonalNormal(mean: $0[0], logVariance: $0[1]).logProbability($0[2])
            }
        }

        /// The standard normal's log-density with constant parameters: the bits of the one with zero tensors, value
        /// and gradient.
        @Test func standardLogProbabilityIsTheZeroTensorsOne() {
            let z = smoothValues([3, 5], seed: 13) * 3
            func valueAndGradient(_ f: (Tensor) -> Tensor) -> [UInt32] {
                let tape = GradientTape()
                return tape.recording {
                    let tracked = tape.watch(z)
                    let density = f(tracked)
                    return (density.scalars + tape.gradients(of: (density * density).sum(), withRespectTo: [tracked])[0].scalars).map(\.bitPattern)
                }
            }
            #expect(valueAndGradient { DiagonalNormal.standardLogProbability($0) } ==
                    valueAndGradient { DiagonalNormal.standard(shape: [3, 5]).logProbability($0) })
        }
    }

    @Suite("Bernoulli on logits")
    struct BernoulliTests {
        @Test func logProbabilityIsCrossEntropyFormula() {
            let logits = smoothValues([4, 5], seed: 20, scale: 4)  // |x| up to 4.8
            var random = RandomStream(seed: 21, name: "targets")
            // Binary targets in the first two rows, grey levels in the last two.
            let targets = Tensor(shape: [4, 5], scalars: random.uniform(count: 20).enumerated().map { index, u in
                index < 10 ? (u < 0.5 ? 0 : 1) : u
            })
            let (x, t) = (doubles(logits), doubles(targets))
            let expected = rowSums(rows: 4, width: 5) { i in
                let p = 1 / (1 + Foundation.exp(-x[i]))
                return t[i] * Foundation.log(p) + (1 - t[i]) * Foundation.log(1 - p)
            }
            let actual = Bernoulli(logits: logits).logProbability(targets)
            #expect(actual.shape == [4])
            expectClose(actual.scalars, expected, absolute: 1e-5, relative: 1e-5, "log Bernoulli")
            checkGradients([logits]) { Bernoulli(logits: $0[0]).logProbability(targets) }
        }

        @Test func extremeLogitsStayFinite() {
            let logits = Tensor(shape: [1, 4], scalars: [100, -100, 100, -100])
            // Matching targets cost ≈ e^−100 ≈ 0; mismatched cost |x| = 100 each.
            let value = Bernoulli(logits: logits).logProbability(Tensor(shape: [1, 4], scalars: [1, 0, 0, 1]))
            #expect(value.isFinite)
            expectClose(value.scalars, [-200], absolute: 1e-3)
            let matching = Bernoulli(logits: logits).logProbability(Tensor(shape: [1, 4], scalars: [1, 0, 1, 0]))
            #expect(matching.isFinite && abs(matching.scalar) < 1e-6)
            // Grey level ½: −(max(x,0) − x/2 + log(1+e^−|x|)) = −50 per pixel.
            let grey = Bernoulli(logits: logits).logProbability(Tensor(repeating: 0.5, shape: [1, 4]))
            expectClose(grey.scalars, [-200], absolute: 1e-3)
            #expect(Bernoulli(logits: logits).probabilities.isFinite)
        }

        @Test func samplesAreBinaryWithTheRightFrequencies() {
            let rows = 50_000
            let rowLogits: [Float] = [-2, 0, 1.5, 4]
            let logits = Tensor(shape: [rows, 4], scalars: Array([[Float]](repeating: rowLogits, count: rows).joined()))
            var random = RandomStream(seed: 22, name: "sample")
            let draws = Bernoulli(logits: logits).sample(using: &random)
            #expect(draws.shape == [rows, 4])
            #expect(draws.scalars.allSatisfy { $0 == 0 || $0 == 1 })
            for (column, logit) in rowLogits.enumerated() {
                let p = 1 / (1 + Foundation.exp(-Double(logit)))
                let ones = stride(from: column, to: rows * 4, by: 4).reduce(0.0) { $0 + Double(draws.scalars[$1]) }
                let frequency = ones / Double(rows)
                // Binomial standard error √(p(1−p)/n) ≤ 0.0023; allow 5 of them.
                #expect(abs(frequency - p) < 5 * (p * (1 - p) / Double(rows)).squareRoot(),
                        "logit \(logit): frequency \(frequency) vs σ = \(p)")
            }
        }
    }
}
