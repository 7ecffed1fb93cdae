import VAEDistributions
import VAENN
import VAETensor

/// p(x|z) of ``SentenceVAE``'s decoder for a batch of codes: autoregressive over a sentence's tokens, so it is
/// evaluated by running the decoder over the sentence (teacher forcing, no word dropout). Its "mean" is the greedy
/// decoding, as rows of ids like the data's.
public struct SentenceLikelihood: Likelihood {
    public let model: SentenceVAE
    /// Codes `[batch, latent]`; nil for a language model.
    public let latent: Tensor?
    public let batch: Int

    /// log p(x|z) per row of ids (`[batch]`, natural log, summed over the tokens and `<eos>`).
    public func logProbability(_ value: Tensor) -> Tensor { -negativeLogProbability(value) }

    /// The sentences' cross-entropy under the decoder, per sentence.
    public func negativeLogProbability(_ value: Tensor) -> Tensor {
        let sentences = SentenceVAE.sentences(value)
        return model.reconstruction(sentences, inputs: SentenceVAE.decoderInputs(sentences), latent: latent)
    }

    /// The greedy decoding of each code, ended by `<eos>` and padded: `[batch, maximum length + 1]`.
    public var mean: Tensor {
        let decoded = model.greedy(latent, batch: batch, maximumLength: model.maximumLength)
        return SentenceVAE.rows(decoded.map { $0 + [SentenceVAE.end] }, width: model.maximumLength + 1)
    }

    /// Token ids (as floats) from 0 up.
    public static var dataRange: ClosedRange<Float> { 0...Float(Int32.max) }
}
