import Foundation
import TestSupport
import Testing
import VAETensor
import VAEDistributions
@testable import VAEModels

extension VAEModelsTests {
    @Suite("Categorical and Gumbel-Softmax")
    struct CategoricalDistributionTests {
        /// Two rows of two variables of three classes.
        let logits = Tensor(shape: [2, 6], scalars: [0.5, -1, 2, 0, 0, 0, 3, 1, -2, -0.5, 0.25, 1])

        @Test func probabilitiesAndKLMatchTheDefinition() {
            let categorical = Categorical(logits: logits, categories: 3)
            #expect(categorical.variables == 2)
            var expectedKL = [Double](repeating: 0, count: 2)
            var expectedProbabilities: [Double] = []
            for row in 0..<2 {
                for variable in 0..<2 {
                    let values = (0..<3).map { Double(logits.scalars[row * 6 + variable * 3 + $0]) }
                    let normalizer = values.map(Foundation.exp).reduce(0, +)
                    let q = values.map { Foundation.exp($0) / normalizer }
                    expectedProbabilities += q
                    expectedKL[row] += q.reduce(0) { $0 + $1 * Foundation.log($1 * 3) }
                }
            }
            expectClose(categorical.probabilities.scalars, expectedProbabilities, absolute: 1e-6)
            expectClose(categorical.klDivergenceFromUniform().scalars, expectedKL, absolute: 1e-5)
            // A uniform posterior has KL 0; a near-one-hot one approaches log K per variable.
            #expect(abs(Categorical(logits: .zeros([1, 6]), categories: 3).klDivergenceFromUniform().scalar) < 1e-6)
            let sharp = Categorical(logits: Tensor(shape: [1, 3], scalars: [30, 0, 0]), categories: 3)
            #expect(abs(Double(sharp.klDivergenceFromUniform().scalar) - Foundation.log(3)) < 1e-4)
        }

        @Test func klAndLogProbabilityGradientsMatchFiniteDifferences() {
            checkGradients([logits]) { Categorical(logits: $0[0], categories: 3).klDivergenceFromUniform() }
            let code = Tensor(shape: [2, 6], scalars: [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1])
            checkGradients([logits]) { Categorical(logits: $0[0], categories: 3).logProbability(code) }
        }

        /// Gumbel-max draws are one-hot and follow softmax(logits): 20000 draws of one 3-class variable, each
        /// class frequency within 4.5 standard errors of its probability.
        @Test func gumbelMaxDrawsFollowTheSoftmax() {
            let row = Tensor(shape: [1, 3], scalars: [0.5, -1, 2])
            let categorical = Categorical(logits: row.gathering([Int](repeating: 0, count: 20000)), categories: 3)
            var random = RandomStream(seed: 3, name: "draws")
            let draws = categorical.sample(using: &random)
            var counts = [Double](repeating: 0, count: 3)
            for index in 0..<20000 {
                let oneHot = Array(draws.row(index))
                #expect(oneHot.reduce(0, +) == 1 && oneHot.allSatisfy { $0 == 0 || $0 == 1 })
                counts[oneHot.firstIndex(of: 1)!] += 1
            }
            let probabilities = Categorical(logits: row, categories: 3).probabilities.scalars.map(Double.init)
            for (count, p) in zip(counts, probabilities) {
                let standardError = (p * (1 - p) / 20000).squareRoot()
                #expect(abs(count / 20000 - p) < 4.5 * standardError, "frequency \(count / 20000) vs \(p)")
            }
        }

        /// The relaxed draw is a softmax per variable; its gradient with respect to the logits (at fixed Gumbel
        /// noise: the stream is re-created inside the function) matches finite differences.
        @Test func relaxedDrawIsDifferentiable() {
            var random = RandomStream(seed: 4, name: "gumbel")
            let draw = RelaxedOneHotCategorical(logits: logits, categories: 3, temperature: 0.7).sample(using: &random)
            for group in 0..<4 {
                let sum = draw.scalars[(group * 3)..<(group * 3 + 3)].reduce(0, +)
                #expect(abs(sum - 1) < 1e-5)
            }
            checkGradients([logits]) { inputs in
                var noise = RandomStream(seed: 4, name: "gumbel")
                return RelaxedOneHotCategorical(logits: inputs[0], categories: 3, temperature: 0.7).sample(using: &noise)
            }
        }

        /// Straight-through: the value is exactly one-hot (the relaxed draw's argmax), the gradient is the relaxed one's.
        @Test func hardDrawIsOneHotWithTheRelaxedGradient() {
            let relaxed = RelaxedOneHotCategorical(logits: logits, categories: 3, temperature: 0.5)
            var first = RandomStream(seed: 6, name: "gumbel"), second = first
            let soft = relaxed.sample(using: &first)
            let hard = relaxed.sample(using: &second, hard: true)
            for group in 0..<4 {
                let softGroup = Array(soft.scalars[(group * 3)..<(group * 3 + 3)])
                let hardGroup = Array(hard.scalars[(group * 3)..<(group * 3 + 3)])
                let winner = softGroup.indices.max { softGroup[$0] < softGroup[$1] }!
                #expect(hardGroup == (0..<3).map { $0 == winner ? 1 : 0 })
            }
            let weights = smoothValues([2, 6], seed: 7)
            func gradient(hard: Bool) -> [Float] {
                let tape = GradientTape()
                let (output, watched) = tape.recording { () -> (Tensor, Tensor) in
                    let watched = tape.watch(logits)
                    var noise = RandomStream(seed: 6, name: "gumbel")
                    let draw = RelaxedOneHotCategorical(logits: watched, categories: 3, temperature: 0.5)
                        .sample(using: &noise, hard: hard)
                    return ((draw * weights).sum(), watched)
                }
                return tape.gradients(of: output, withRespectTo: [watched])[0].scalars
            }
            #expect(gradient(hard: true) == gradient(hard: false))
            #expect(gradient(hard: true).contains { $0 != 0 })
        }

        @Test func uniformSamplesAreOneHot() {
            var random = RandomStream(seed: 8, name: "prior")
            let codes = Categorical.uniformSample(count: 50, variables: 4, categories: 5, random: &random)
            #expect(codes.shape == [50, 20])
            for group in 0..<200 {
                let values = codes.scalars[(group * 5)..<(group * 5 + 5)]
                #expect(values.reduce(0, +) == 1)
            }
            #expect(abs(Double(Categorical.uniformLogProbability(variables: 4, categories: 5)) + 4 * Foundation.log(5)) < 1e-5)
        }
    }
}
