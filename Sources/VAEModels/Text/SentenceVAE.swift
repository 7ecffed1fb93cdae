import Foundation
import VAEDistributions
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

    /// The model's settings (`model_params`); built from the sizes for a model made in code.
    public let specification: ModelSpecification
    /// The KL weight's schedule, word dropout on the decoder's inputs and free bits per dimension (training only).
    public let annealing: KLAnnealing
    public let wordDropout: WordDropout
    public let freeBits: Double

    public init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, latentSize: Int, cell: RecurrentCell = .gru,
                layers: Int = 1, annealing: KLAnnealing = .constant, wordDropout: Double = 0, freeBits: Double = 0,
                specification: ModelSpecification? = nil, random: inout RandomStream) {
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
        self.annealing = annealing
        self.wordDropout = WordDropout(rate: wordDropout)
        self.freeBits = freeBits
        self.specification = specification ?? Self.specification(
            vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, latentSize: latentSize,
            cell: cell, layers: layers)
        super.init()
    }

    /// The model `sentence-vae` (or `rnnlm`, with no latent) a specification describes; its input shape is
    /// `[maximum length + 1]` (a row of ids, `<eos>` and padding), its vocabulary size `vocabulary_size`.
    public convenience init(_ specification: ModelSpecification, hasLatent: Bool, random: inout RandomStream) throws {
        let vocabulary = specification[SentenceSettings.vocabularySize]
        guard vocabulary > 4 else {
            throw ModelError("model_params.vocabulary_size: \(specification.name) needs the vocabulary's size (more than the 4 special tokens), got \(vocabulary); train it on text data (data_params.format: text), which fills it in")
        }
        guard specification.inputShape.count == 1, specification.inputShape[0] >= 2 else {
            throw ModelError("\(specification.name) reads rows of token ids (data_params.format: text); got examples of shape \(specification.inputShape)")
        }
        let latent = hasLatent ? specification[GaussianLatent.latentSize] : 0
        if hasLatent && latent < 1 {
            throw ModelError("model_params.latent_size: sentence-vae needs at least 1 latent dimension (the model without one is rnnlm), got \(latent)")
        }
        self.init(vocabularySize: vocabulary, embeddingSize: specification[SentenceSettings.embeddingSize],
                  hiddenSize: specification[SentenceSettings.hiddenSize], latentSize: latent,
                  cell: RecurrentCell(rawValue: specification[SentenceSettings.cell]) ?? .gru,
                  layers: specification[SentenceSettings.layers],
                  annealing: hasLatent ? SentenceSettings.schedule(specification) : .constant,
                  wordDropout: specification[SentenceSettings.wordDropout],
                  freeBits: hasLatent ? specification[SentenceSettings.freeBits] : 0, specification: specification,
                  random: &random)
    }

    /// Sentence length (tokens) of a model made in code without a specification.
    public static let defaultMaximumLength = 50

    /// The specification of a model made in code from its sizes.
    static func specification(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, latentSize: Int,
                              cell: RecurrentCell, layers: Int) -> ModelSpecification {
        var specification = ModelSpecification(name: latentSize > 0 ? "sentence-vae" : "rnnlm",
                                               inputShape: [defaultMaximumLength + 1])
        specification[SentenceSettings.vocabularySize] = vocabularySize
        specification[SentenceSettings.embeddingSize] = embeddingSize
        specification[SentenceSettings.hiddenSize] = hiddenSize
        specification[SentenceSettings.cell] = cell.rawValue
        specification[SentenceSettings.layers] = layers
        if latentSize > 0 { specification[GaussianLatent.latentSize] = latentSize }
        return specification
    }

    public var latentSize: Int { mean?.outputSize ?? 0 }
    public var vocabularySize: Int { embedding.vocabularySize }

    /// Where the model's weights are (nil: the host): a batch's host-made values go there in one copy.
    var backend: (any TensorBackend)? { embedding.weight.tensor.backend }

    /// q(z|x): the posterior means and log-variances `[batch, latent]` of sentences (ids up to `<eos>`).
    public func posterior(_ sentences: [[Int]]) -> (mean: Tensor, logVariance: Tensor) {
        posterior(SentenceBatch(sentences, encoding: true, decoderInputs: nil, vocabularySize: vocabularySize, on: backend))
    }

    func posterior(_ batch: SentenceBatch) -> (mean: Tensor, logVariance: Tensor) {
        guard let encoder, let mean, let logVariance, let ids = batch.encoderIds else { preconditionFailure("posterior: a language model has no latent") }
        let (_, finals) = encoder(embedding(ids), layout: batch.layout)
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
        reconstruction(SentenceBatch(sentences, encoding: false, decoderInputs: inputs, vocabularySize: vocabularySize, on: backend),
                       latent: latent)
    }

    func reconstruction(_ batch: SentenceBatch, latent: Tensor?) -> Tensor {
        guard let ids = batch.decoderIds, let valid = batch.valid, let targets = batch.targets, let places = batch.places else {
            preconditionFailure("reconstruction: the batch was made without the decoder's inputs")
        }
        let (outputs, _) = decoder(embedding(ids), layout: batch.layout, initial: initialState(latent, batch: batch.batch),
                                   finalStates: false)
        // The vocabulary projection runs on the real positions only; padding's loss is the zero after theirs.
        let losses = output(outputs.gathering(valid)).softmaxCrossEntropy(targets: targets)
        let zero = Tensor.constant("sentence-vae padding loss", beside: losses) { .zeros([1]) }
        let placed = Tensor.concatenate([losses, zero], alongAxis: 0).gathering(places)
        return placed.reshaped([batch.steps, batch.batch]).sum(alongAxis: 0)
    }

    /// The decoder's inputs for sentences: `<bos>` then each sentence without its last id.
    public static func decoderInputs(_ sentences: [[Int]]) -> [[Int]] {
        sentences.map { [beginning] + $0.dropLast() }
    }
}

extension SentenceVAE {
    /// One training draw's terms per sentence: −log p(x|z) at z = μ + σ·ε (word dropout on the decoder inputs), and
    /// the KL per latent dimension `[batch, latent]` (nil for a language model).
    /// Word dropout's draws come first from `noise`, then ε.
    public func terms(_ sentences: [[Int]], noise: inout RandomStream,
                      wordDropout: WordDropout) -> (reconstruction: Tensor, klPerDimension: Tensor?) {
        let inputs = wordDropout.apply(Self.decoderInputs(sentences), random: &noise)
        let batch = SentenceBatch(sentences, encoding: latentSize > 0, decoderInputs: inputs, vocabularySize: vocabularySize, on: backend)
        guard latentSize > 0 else { return (reconstruction(batch, latent: nil), nil) }
        let (mean, logVariance) = posterior(batch)
        let epsilon = noise.normal(shape: mean.shape, on: mean.backend)
        // z = μ + exp(½·log σ²)·ε and the KL to N(0, I) per dimension: the same operators on the host, one kernel
        // each way on a device.
        let latent = Tensor.reparameterizedSample(mean: mean, logVariance: logVariance, noise: epsilon)
        let kl = Tensor.standardNormalKL(mean: mean, logVariance: logVariance)
        return (reconstruction(batch, latent: latent), kl)
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
