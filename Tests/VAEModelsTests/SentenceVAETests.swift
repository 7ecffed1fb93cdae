import Foundation
import Testing
import TestSupport
import VAEDistributions
import VAENN
import VAEOptimizers
import VAETensor
@testable import VAEModels

/// The sequence VAE's parts: the vocabulary softmax loss, the KL schedules, word dropout, free bits, and a model
/// that learns to reconstruct a tiny corpus exactly.
@Suite struct SentenceVAETests {
    @Test func softmaxCrossEntropyIsMinusLogSoftmaxAndChecks() {
        let logits = smoothValues([4, 5], seed: 21, scale: 2)
        let targets = [3, 0, -1, 4]
        let losses = withoutGradients { logits.softmaxCrossEntropy(targets: targets) }
        let normalisers = withoutGradients { logits.logSumExp(alongAxis: 1) }
        for (row, target) in targets.enumerated() {
            let expected = target < 0 ? 0 : normalisers.scalars[row] - logits.scalars[row * 5 + target]
            #expect(abs(losses.scalars[row] - expected) < 1e-5, "row \(row)")
        }
        checkGradients([logits]) { $0[0].softmaxCrossEntropy(targets: targets) }
    }

    @Test func klSchedulesAtKnownSteps() {
        #expect(KLAnnealing.constant.weight(atStep: 0) == 1)
        #expect(KLAnnealing.linear(steps: 100).weight(atStep: 25) == 0.25 && KLAnnealing.linear(steps: 100).weight(atStep: 500) == 1)
        let logistic = KLAnnealing.logistic(k: 0.0025, midpoint: 2500)
        #expect(logistic.weight(atStep: 2500) == 0.5)
        #expect(abs(logistic.weight(atStep: 0) - 1 / (1 + exp(6.25))) < 1e-12)
        let cyclical = KLAnnealing.cyclical(cycles: 4, ratio: 0.5, totalSteps: 1000)
        #expect([0, 125, 249, 250, 375, 500, 625].map(cyclical.weight(atStep:)) == [0, 1, 1, 0, 1, 0, 1])
        #expect(cyclical.weight(atStep: 62) == 62.0 / 125)
    }

    @Test func wordDropoutNeverTouchesBeginningOrPadding() {
        let inputs = [[2, 4, 5, 6, 7, 8], [2, 9, 0, 0], [2]]
        var random = RandomStream(seed: 1, name: "word-dropout")
        let all = WordDropout(rate: 1).apply(inputs, random: &random)
        #expect(all == [[2, 1, 1, 1, 1, 1], [2, 1, 0, 0], [2]])
        #expect(WordDropout(rate: 0).apply(inputs, random: &random) == inputs)
        var first = RandomStream(seed: 2, name: "word-dropout"), second = RandomStream(seed: 2, name: "word-dropout")
        let long = [[2] + [Int](repeating: 5, count: 10_000)]
        let half = WordDropout(rate: 0.3).apply(long, random: &first)
        #expect(half == WordDropout(rate: 0.3).apply(long, random: &second), "the same stream drops the same words")
        let dropped = Double(half[0].filter { $0 == 1 }.count) / 10_000
        #expect(half[0][0] == 2 && abs(dropped - 0.3) < 0.02, "\(dropped)")
    }

    @Test func freeBitsFloorEachDimensionsBatchMean() {
        let kl = Tensor(shape: [2, 3], scalars: [0.1, 2, 0, 0.3, 4, 0])
        let reconstruction = Tensor(shape: [2], scalars: [10, 20])
        #expect(SentenceVAE.loss(reconstruction: reconstruction, klPerDimension: kl, klWeight: 1, freeBits: 0).scalar == 15 + 3.2)
        // Batch means 0.2, 3, 0: floored at 0.5 → 0.5 + 3 + 0.5.
        #expect(abs(SentenceVAE.loss(reconstruction: reconstruction, klPerDimension: kl, klWeight: 1, freeBits: 0.5).scalar - 19) < 1e-5)
        #expect(SentenceVAE.loss(reconstruction: reconstruction, klPerDimension: kl, klWeight: 0, freeBits: 0).scalar == 15)
    }

    /// Four sentences of an 8-word vocabulary: after 600 Adam steps the greedy decoding of each posterior mean is
    /// the sentence itself; the language model's loss falls too.
    @Test(arguments: [RecurrentCell.gru, .lstm])
    func aTinyCorpusIsReconstructedExactly(cell: RecurrentCell) {
        let corpus = [[4, 5, 6, 3], [7, 8, 3], [9, 10, 11, 4, 3], [5, 5, 9, 3]]
        var random = RandomStream(seed: 3, name: "init")
        let model = SentenceVAE(vocabularySize: 12, embeddingSize: 16, hiddenSize: 32, latentSize: 4, cell: cell, random: &random)
        let language = SentenceVAE(vocabularySize: 12, embeddingSize: 16, hiddenSize: 32, latentSize: 0, cell: cell, random: &random)
        var noise = RandomStream(seed: 4, name: "noise")
        var first: Float = 0, last: Float = 0
        for (index, module) in [model, language].enumerated() {
            let optimizer = Adam(learningRate: 0.01)
            let parameters = module.parameters
            for step in 0..<600 {
                let (loss, gradients) = module.valueWithGradients(for: parameters) {
                    let terms = module.terms(corpus, noise: &noise, wordDropout: WordDropout(rate: 0))
                    return SentenceVAE.loss(reconstruction: terms.reconstruction, klPerDimension: terms.klPerDimension,
                                            klWeight: KLAnnealing.linear(steps: 200).weight(atStep: step), freeBits: 0)
                }
                if index == 1 && step == 0 { first = loss.scalar }
                if index == 1 { last = loss.scalar }
                optimizer.update(parameters, gradients: gradients)
            }
        }
        let means = withoutGradients { model.posterior(corpus).mean }
        let decoded = model.greedy(means, batch: corpus.count, maximumLength: 10)
        #expect(decoded == corpus.map { Array($0.dropLast()) }, "\(cell): \(decoded)")
        #expect(last < first * 0.7, "the language model learns: \(first) → \(last)")
    }
}

/// The sequence VAE as a collection model: decoding strategies, the language model's exact importance weights,
/// evaluation in groups, and the mutual-information estimate.
@Suite struct SentenceModelTests {
    static func model(latent: Int, seed: UInt64 = 8) -> SentenceVAE {
        var random = RandomStream(seed: seed, name: "init")
        return SentenceVAE(vocabularySize: 15, embeddingSize: 8, hiddenSize: 16, latentSize: latent, random: &random)
    }

    static let rows = SentenceVAE.rows([[4, 5, 6, 3], [7, 3], [9, 10, 11, 12, 13, 3]], width: 8)

    @Test func rowsAndSentencesRoundTrip() {
        #expect(SentenceVAE.sentences(Self.rows) == [[4, 5, 6, 3], [7, 3], [9, 10, 11, 12, 13, 3]])
        #expect(SentenceVAE.sentences(SentenceVAE.rows([[4, 5]], width: 4)) == [[4, 5]])
    }

    @Test func beamOfWidthOneIsGreedyAndSamplingIsSeeded() {
        let model = Self.model(latent: 3)
        var random = RandomStream(seed: 2, name: "codes")
        let codes = model.samplePrior(count: 5, random: &random)
        let greedy = model.greedy(codes, batch: 5, maximumLength: 12)
        #expect(model.decode(codes, batch: 5, maximumLength: 12, decoding: .beam(width: 1)) == greedy)
        let sampled = model.decode(codes, batch: 5, maximumLength: 12, decoding: .sampled(seed: 1))
        #expect(model.decode(codes, batch: 5, maximumLength: 12, decoding: .sampled(seed: 1)) == sampled)
        #expect(sampled.allSatisfy { $0.count <= 12 && !$0.contains(SentenceVAE.end) })
        // A wider beam finds a sentence at least as likely as greedy's (scored as the decoder's log p(x|z)).
        for item in 0..<5 {
            let code = codes.slice(item..<(item + 1))
            let beam = model.decode(code, batch: 1, maximumLength: 12, decoding: .beam(width: 4))[0]
            func logLikelihood(_ ids: [Int]) -> Float {
                withoutGradients { -model.reconstruction([ids + [3]], inputs: SentenceVAE.decoderInputs([ids + [3]]), latent: code).scalars[0] }
            }
            if beam.count < 12 && greedy[item].count < 12 {
                #expect(logLikelihood(beam) >= logLikelihood(greedy[item]) - 1e-4, "item \(item)")
            }
        }
    }

    @Test func languageModelWeightsAreItsExactLogLikelihood() {
        let model = Self.model(latent: 0)
        var noise = RandomStream(seed: 1, name: "noise")
        let weights = withoutGradients { model.logImportanceWeights(Self.rows, samples: 3, noise: &noise) }
        let elbo = withoutGradients { model.negativeELBO(Self.rows, noise: &noise) }
        for row in 0..<3 {
            for sample in 0..<3 { #expect(abs(weights.scalars[row * 3 + sample] + elbo.reconstruction.scalars[row]) < 1e-4) }
            #expect(elbo.kl.scalars[row] == 0)
        }
        #expect(model.latentSummary(Self.rows).code.shape == [3, 0])
    }

    @Test func evaluationInGroupsMatchesOneBatch() {
        let model = Self.model(latent: 2)
        let sentences = (0..<(SentenceVAE.evaluationGroup + 9)).map { [4 + $0 % 9, 5 + $0 % 7, 3] }
        var random = RandomStream(seed: 3, name: "z")
        let codes = random.normal(shape: [sentences.count, 2])
        let grouped = withoutGradients { model.groupedReconstruction(sentences, codes: codes) }
        let whole = withoutGradients { model.reconstruction(sentences, inputs: SentenceVAE.decoderInputs(sentences), latent: codes) }
        #expect(zip(grouped.scalars, whole.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func importanceWeightsAverageToAtLeastTheELBO() {
        let model = Self.model(latent: 3)
        var noise = RandomStream(seed: 5, name: "noise")
        let weights = withoutGradients { model.logImportanceWeights(Self.rows, samples: 64, noise: &noise) }
        // Each weight is log p(x|z) + log p(z) − log q(z|x); their mean over z ~ q is an ELBO estimate.
        var elboNoise = RandomStream(seed: 6, name: "noise")
        var elbo: [Float] = [0, 0, 0]
        for _ in 0..<64 {
            let terms = withoutGradients { model.negativeELBO(Self.rows, noise: &elboNoise) }
            for row in 0..<3 { elbo[row] -= (terms.reconstruction.scalars[row] + terms.kl.scalars[row]) / 64 }
        }
        let bound = withoutGradients { weights.logMeanExp(alongAxis: 1) }
        for row in 0..<3 {
            let mean = (0..<64).reduce(Float(0)) { $0 + weights.scalars[row * 64 + $1] } / 64
            // The sample means agree (KL in closed form vs its one-draw estimate), and the IW bound is above them.
            #expect(abs(mean - elbo[row]) < 0.5 + 0.1 * abs(elbo[row]), "row \(row): \(mean) vs \(elbo[row])")
            #expect(bound.scalars[row] >= mean)
        }
    }

    /// The estimate's first term is exact, its second a mean over one draw per row (each with standard deviation
    /// √(d/2) for a d-dimensional Gaussian's log density): the tolerances are about 5 of those means' deviations.
    @Test func mutualInformationIsZeroForOnePosteriorAndLogNForSeparatedOnes() {
        var noise = RandomStream(seed: 1, name: "mi")
        let same = DiagonalNormal(mean: Tensor(repeating: 0.3, shape: [2000, 4]), logVariance: Tensor(repeating: -1, shape: [2000, 4]))
        let none = MutualInformation.estimate(same, noise: &noise)
        #expect(abs(none) < 0.16, "\(none)")
        let means: [Float] = (0..<400).flatMap { row -> [Float] in [Float(row) * 10, 0] }
        let apart = DiagonalNormal(mean: Tensor(shape: [400, 2], scalars: means), logVariance: Tensor(repeating: -2, shape: [400, 2]))
        let all = MutualInformation.estimate(apart, noise: &noise)
        #expect(abs(all - log(400.0)) < 0.25, "\(all) vs log 400 = \(log(400.0))")
        // In between: posteriors that overlap carry clearly less than log N and clearly more than nothing.
        let close = DiagonalNormal(mean: Tensor(shape: [400, 2], scalars: means.map { $0 / 200 }), logVariance: Tensor(repeating: 0, shape: [400, 2]))
        let partial = MutualInformation.estimate(close, noise: &noise)
        #expect(partial > 0.5 && partial < log(400.0) - 1, "\(partial)")
    }
}
