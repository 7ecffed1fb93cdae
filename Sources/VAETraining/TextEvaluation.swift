import Foundation
import VAEData
import VAEDistributions
import VAEFormats
import VAEModels
import VAETensor

extension EvaluationReport {
    /// Adds a text run's numbers to a report of its test sentences: tokens, per-word perplexities from the NLL and
    /// from the −ELBO, and the mutual information I(x; z) (sentence-vae; 0 for a language model), with one
    /// draw per sentence from the "mutual-information" stream of `seed`. Bits per dimension do not apply.
    public mutating func addText(model: SentenceVAE, sentences test: TextDataset, inputs: Tensor, seed: UInt64,
                                 batchSize: Int) {
        let tokens = Double(test.tokenCount), sentences = Double(max(test.count, 1))
        self.tokens = test.tokenCount
        perplexity = negativeLogLikelihood.map { Foundation.exp($0 * sentences / tokens) }
        elboPerplexity = Foundation.exp(negativeELBO * sentences / tokens)
        bitsPerDimension = nil
        guard model.latentSize > 0 else { mutualInformation = 0; return }
        var means: [Tensor] = [], logVariances: [Tensor] = []
        withoutGradients {
            for first in stride(from: 0, to: test.count, by: batchSize) {
                let posterior = model.posterior(SentenceVAE.sentences(inputs.slice(first..<min(first + batchSize, test.count))))
                means.append(posterior.mean)
                logVariances.append(posterior.logVariance)
            }
        }
        var noise = RandomStream(seed: seed, name: "mutual-information")
        let posterior = DiagonalNormal(mean: Tensor.concatenate(means, alongAxis: 0),
                                       logVariance: Tensor.concatenate(logVariances, alongAxis: 0))
        mutualInformation = MutualInformation.estimate(posterior, noise: &noise)
    }
}
