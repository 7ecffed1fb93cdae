import Foundation
import VAENN
import VAETensor

/// Bowman et al. 2016's sequence VAE, its layers and terms: token ids → embedding → recurrent encoder → Gaussian
/// q(z|x) from the last state; z → the decoder's initial state (tanh of a linear map, the same for every layer,
/// an LSTM's hidden and cell state alike)
/// → a recurrent decoder that reads `<bos>` and the sentence (teacher forcing, word dropout on its inputs) → a
/// softmax over the vocabulary at every step. With `latentSize` 0 it is the language model of Bowman's Table 2
/// (`rnnlm`): the same decoder from a zero state. Ids follow VAEData's `Vocabulary` (0 `<pad>`, 1 `<unk>`,
/// 2 `<bos>`, 3 `<eos>`); a sentence's ids end with `<eos>`.
public final class SentenceVAE: Module {
    public static let padding = 0, beginning = 2, end = 3

    public let embedding: Embedding
    public let encoder: RecurrentStack?
    public let mean: Linear?
    public let logVariance: Linear?
    public let latentToHidden: Linear?
    public let decoder: RecurrentStack
    public let output: Linear

    public init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, latentSize: Int, cell: RecurrentCell = .gru,
                layers: Int = 1, random: inout RandomStream) {
        func stack(_ input: Int, _ random: inout RandomStream) -> RecurrentStack {
            cell == .gru ? GRU(inputSize: input, hiddenSize: hiddenSize, layers: layers, random: &random)
                : LSTM(inputSize: input, hiddenSize: hiddenSize, layers: layers, random: &random)
        }
        embedding = Embedding(vocabularySize: vocabularySize, embeddingSize: embeddingSize, random: &random)
        if latentSize > 0 {
            encoder = stack(embeddingSize, &random)
            mean = Linear(inputSize: hiddenSize, outputSize: latentSize, random: &random)
            logVariance = Linear(inputSize: hiddenSize, outputSize: latentSize, random: &random)
            latentToHidden = Linear(inputSize: latentSize, outputSize: hiddenSize, random: &random)
        } else {
            (encoder, mean, logVariance, latentToHidden) = (nil, nil, nil, nil)
        }
        decoder = stack(embeddingSize, &random)
        output = Linear(inputSize: hiddenSize, outputSize: vocabularySize, random: &random)
        super.init()
    }

    public var latentSize: Int { mean?.outputSize ?? 0 }
    public var vocabularySize: Int { embedding.vocabularySize }

    /// Rows of ids (each ending with `<eos>`, then padding) as the time-major embedded batch
    /// `[steps·batch, embedding]` of their first `lengths` ids, and the lengths.
    func embedded(_ rows: [[Int]], steps: Int) -> Tensor {
        let batch = rows.count
        let ids = (0..<(steps * batch)).map { index -> Int in
            let (step, item) = (index / batch, index % batch)
            return step < rows[item].count ? rows[item][step] : Self.padding
        }
        return embedding(ids)
    }

    /// q(z|x): the posterior means and log-variances `[batch, latent]` of sentences (ids up to `<eos>`).
    public func posterior(_ sentences: [[Int]]) -> (mean: Tensor, logVariance: Tensor) {
        guard let encoder, let mean, let logVariance else { preconditionFailure("posterior: a language model has no latent") }
        let lengths = sentences.map(\.count)
        let (_, finals) = encoder(embedded(sentences, steps: lengths.max() ?? 1), lengths: lengths)
        let last = finals[finals.count - 1].hidden
        return (mean(last), logVariance(last))
    }

    /// The decoder's starting state for codes `[batch, latent]` (nil, zeros, for a language model).
    func initialState(_ latent: Tensor?, batch: Int) -> [RecurrentState]? {
        guard let latent, let latentToHidden else { return nil }
        let hidden = latentToHidden(latent).tanh()
        return (0..<decoder.layers).map { _ in RecurrentState(hidden: hidden, cell: decoder.cell == .lstm ? hidden : nil) }
    }

    /// −log p(x|z) per sentence `[batch]` (natural log, summed over the tokens and `<eos>`), the decoder reading
    /// `inputs` (each sentence's `<bos>` and tokens but the last, word dropout already applied) from `latent`.
    public func reconstruction(_ sentences: [[Int]], inputs: [[Int]], latent: Tensor?) -> Tensor {
        let batch = sentences.count
        let lengths = sentences.map(\.count)
        let steps = lengths.max() ?? 1
        let (outputs, _) = decoder(embedded(inputs, steps: steps), lengths: lengths, initial: initialState(latent, batch: batch))
        let targets = (0..<(steps * batch)).map { index -> Int in
            let (step, item) = (index / batch, index % batch)
            return step < lengths[item] ? sentences[item][step] : -1
        }
        let losses = output(outputs).softmaxCrossEntropy(targets: targets)
        return losses.reshaped([steps, batch]).sum(alongAxis: 0)
    }

    /// The decoder's inputs for sentences: `<bos>` then each sentence without its last id.
    public static func decoderInputs(_ sentences: [[Int]]) -> [[Int]] {
        sentences.map { [beginning] + $0.dropLast() }
    }

    /// Greedy decoding of codes `[batch, latent]` (nil: a language model, `batch` sentences): at each step the most
    /// likely id, until `<eos>` or `maximumLength` ids; the ids without `<eos>`.
    public func greedy(_ latent: Tensor?, batch: Int, maximumLength: Int) -> [[Int]] {
        withoutGradients {
            var state = initialState(latent, batch: batch)
            var previous = [Int](repeating: Self.beginning, count: batch)
            var sentences = [[Int]](repeating: [], count: batch)
            var finished = [Bool](repeating: false, count: batch)
            for _ in 0..<maximumLength where !finished.allSatisfy({ $0 }) {
                let (outputs, finals) = decoder(embedding(previous), lengths: [Int](repeating: 1, count: batch), initial: state)
                state = finals
                let logits = output(outputs)
                let width = logits.shape[1]
                for item in 0..<batch where !finished[item] {
                    let row = logits.scalars[(item * width)..<((item + 1) * width)]
                    let best = row.indices.max { row[$0] < row[$1] }! - item * width
                    previous[item] = best
                    if best == Self.end { finished[item] = true } else { sentences[item].append(best) }
                }
            }
            return sentences
        }
    }
}

extension SentenceVAE {
    /// One training draw's terms per sentence: −log p(x|z) at z = μ + σ·ε (word dropout on the decoder inputs), and
    /// the KL per latent dimension `[batch, latent]` (nil for a language model).
    public func terms(_ sentences: [[Int]], noise: inout RandomStream, wordDropout: WordDropout,
                      dropoutRandom: inout RandomStream) -> (reconstruction: Tensor, klPerDimension: Tensor?) {
        let inputs = wordDropout.apply(Self.decoderInputs(sentences), random: &dropoutRandom)
        guard latentSize > 0 else { return (reconstruction(sentences, inputs: inputs, latent: nil), nil) }
        let (mean, logVariance) = posterior(sentences)
        let epsilon = noise.normal(shape: mean.shape)
        let latent = mean + (logVariance * 0.5).exp() * epsilon
        let kl = (mean.squared() + logVariance.exp() - logVariance - 1) * 0.5
        return (reconstruction(sentences, inputs: inputs, latent: latent), kl)
    }

    /// The training loss: the batch mean of −log p(x|z) plus `klWeight` times the KL term, which with free bits
    /// λ > 0 (Kingma et al. 2016, per dimension as Li et al. 2019) is Σ_d max(λ, mean over the batch of KL_d).
    public static func loss(reconstruction: Tensor, klPerDimension: Tensor?, klWeight: Double, freeBits: Double) -> Tensor {
        let reconstructionMean = reconstruction.mean()
        guard let kl = klPerDimension else { return reconstructionMean }
        let klTerm = freeBits > 0
            ? ((kl.mean(alongAxis: 0) - Float(freeBits)).relu() + Float(freeBits)).sum()
            : kl.sum(alongAxis: 1).mean()
        return reconstructionMean + klTerm * Float(klWeight)
    }
}
