import Foundation
import Testing
import TestSupport
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
