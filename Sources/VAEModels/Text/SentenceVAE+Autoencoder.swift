import VAEDistributions
import VAENN
import VAETensor

/// `sentence-vae` and `rnnlm` in the collection: a batch is a row of token ids per sentence (as floats, `<eos>`
/// then `<pad>`), so training, checkpoints, `vae eval`'s −ELBO, importance-weighted NLL, KL per dimension and
/// active units work as for the image models. A language model has a latent of width 0: its KL is 0 and its
/// "importance weights" are log p(x), exactly.
extension SentenceVAE: VariationalAutoencoder {
    /// Each row's ids up to and including its first `<eos>` (the whole row but trailing padding when it has none).
    public static func sentences(_ rows: Tensor) -> [[Int]] {
        let width = rows.shape[1]
        let values = rows.scalars   // once: on a device, each read of `scalars` is a copy
        return (0..<rows.shape[0]).map { row in
            let ids = (0..<width).map { Int(values[row * width + $0]) }
            if let end = ids.firstIndex(of: Self.end) { return Array(ids[...end]) }
            return Array(ids[..<((ids.lastIndex { $0 != Self.padding } ?? -1) + 1)])
        }
    }

    /// Ids as rows of `width` floats, padded with `<pad>`.
    public static func rows(_ sentences: [[Int]], width: Int) -> Tensor {
        var scalars = [Float](repeating: Float(padding), count: sentences.count * width)
        for (row, ids) in sentences.enumerated() {
            for (position, id) in ids.prefix(width).enumerated() { scalars[row * width + position] = Float(id) }
        }
        return Tensor(shape: [sentences.count, width], scalars: scalars)
    }

    /// Tokens a decoded sentence may have before `<eos>`: the longest sentence the model was trained on.
    public var maximumLength: Int { max(1, (specification.inputShape.first ?? Self.defaultMaximumLength + 1) - 1) }

    public func decode(_ latent: Tensor) -> any Likelihood {
        SentenceLikelihood(model: self, latent: latentSize > 0 ? latent : nil, batch: latent.shape[0])
    }

    /// The batch mean of −log p(x|z) (word dropout on the decoder's inputs) plus the scheduled KL weight times the
    /// KL term (with free bits when set). Logs `reconstruction`, `kl` (the plain KL, whatever the weight) and
    /// `kl_weight`.
    public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        var noise = context.noise
        let (reconstruction, kl) = terms(Self.sentences(input), noise: &noise, wordDropout: wordDropout)
        context.noise = noise
        let weight = annealing.weight(atStep: context.step)
        let total = Self.loss(reconstruction: reconstruction, klPerDimension: kl, klWeight: weight, freeBits: freeBits)
        let klMean = kl.map { $0.sum(alongAxis: 1).mean() } ?? Tensor(0)
        return LossTerms(total: total, terms: [("reconstruction", reconstruction.mean()), ("kl", klMean),
                                               ("kl_weight", Tensor(Float(weight)))])
    }

    /// Word dropout's draws are per token of each row: a batch's loss is a mean of per-row losses, but the draws
    /// depend on the batch's composition, so the loss is not split over data-parallel shards.
    public var lossSplitsOverRows: Bool { false }

    /// The rows are token ids, which the model reads on the host (``sentences(_:)``): the ids, masks and positions
    /// it makes of them go to a device in one copy per batch (`SentenceBatch`).
    public var readsInputOnHost: Bool { true }

    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] {
        latentSize > 0 ? [("kl_weight", annealing.weight(atStep: step))] : []
    }

    /// q(z|x) as a diagonal Gaussian.
    public func posteriorDistribution(_ sentences: [[Int]]) -> DiagonalNormal {
        let (mean, logVariance) = posterior(sentences)
        return DiagonalNormal(mean: mean, logVariance: logVariance)
    }

    /// Sentences decoded together by the evaluation functions: the logits of a group are rows·length·vocabulary
    /// floats (64·41·20,000 = 210 MB), so evaluation batches of hundreds of sentences are decoded in groups.
    public static let evaluationGroup = 64

    /// −log p(x|z) of `sentences` from `codes` (nil for a language model), decoded `evaluationGroup` rows at a time.
    func groupedReconstruction(_ sentences: [[Int]], codes: Tensor?) -> Tensor {
        let groups = stride(from: 0, to: sentences.count, by: Self.evaluationGroup).map { first in
            let range = first..<min(first + Self.evaluationGroup, sentences.count)
            let group = Array(sentences[range])
            return reconstruction(group, inputs: Self.decoderInputs(group), latent: codes?.slice(range))
        }
        return groups.count == 1 ? groups[0] : Tensor.concatenate(groups, alongAxis: 0)
    }

    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let sentences = Self.sentences(input)
        guard latentSize > 0 else { return (groupedReconstruction(sentences, codes: nil), Tensor.zeros([sentences.count])) }
        let posterior = posteriorDistribution(sentences)
        let code = posterior.sample(using: &noise)
        return (groupedReconstruction(sentences, codes: code), posterior.klDivergenceFromStandardNormal())
    }

    /// log p(x|z) + log p(z) − log q(z|x) for `samples` draws per sentence, sentence-major (the rows of one sentence
    /// together), `[batch, samples]`; a language model's rows are log p(x), the same for every sample.
    public func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        let sentences = Self.sentences(input)
        guard latentSize > 0 else {
            let logLikelihood = (-groupedReconstruction(sentences, codes: nil)).reshaped([sentences.count, 1])
            return logLikelihood.gathering([Int](repeating: 0, count: samples), alongAxis: 1)
        }
        let repeated = repeatedRows(sentences.count, samples: samples).map { sentences[$0] }
        let posterior = posteriorDistribution(sentences).repeatingEachRow(samples)
        let code = posterior.sample(using: &noise)
        let logWeights = -groupedReconstruction(repeated, codes: code) + DiagonalNormal.standardLogProbability(code)
            - posterior.logProbability(code)
        return logWeights.reshaped([sentences.count, samples])
    }

    public func latentSummary(_ input: Tensor) -> LatentSummary {
        let sentences = Self.sentences(input)
        guard latentSize > 0 else {
            return LatentSummary(code: Tensor.zeros([sentences.count, 0]), klPerDimension: Tensor.zeros([sentences.count, 0]))
        }
        let posterior = posteriorDistribution(sentences)
        return LatentSummary(code: posterior.mean, klPerDimension: posterior.klPerDimensionFromStandardNormal())
    }

    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        latentSize > 0 ? random.normal(shape: [count, latentSize]) : Tensor.zeros([count, 0])
    }
}
