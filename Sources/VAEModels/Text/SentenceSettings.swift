import VAENN

/// The settings of `sentence-vae` and `rnnlm` (``SentenceVAE``): layer sizes, the recurrent cell, the vocabulary's
/// size (filled in from the data), and the remedies for posterior collapse (KL schedule, word dropout, free bits).
///
/// Defaults: embedding 300 and hidden 256 (between Bowman et al.'s 353/191 and the 300/256 of common PyTorch
/// reproductions), latent 16 in the configs (`latent_size`; reproductions use 13–32, and 16 keeps the KL per dimension readable), a GRU (faster than an
/// LSTM at equal quality in those reproductions), Bowman's logistic KL schedule with k = 0.0025 and midpoint 2500 steps,
/// word dropout 0.25 on the decoder's inputs.
public enum SentenceSettings {
    public static let vocabularySize = Setting<Int>(
        "vocabulary_size", default: 0, .integers(0...1_000_000),
        doc: "token ids the embedding and the softmax cover; 0 = the training data's vocabulary (filled in by `vae train`)")
    public static let embeddingSize = Setting<Int>(
        "embedding_size", default: 300, .integers(1...65536), doc: "width of the word embeddings")
    public static let hiddenSize = Setting<Int>(
        "hidden_size", default: 256, .integers(1...65536), doc: "width of the encoder's and decoder's recurrent state")
    public static let cell = Setting<String>(
        "rnn_cell", default: RecurrentCell.gru.rawValue, .oneOf(RecurrentCell.allCases.map(\.rawValue)),
        doc: "recurrent cell of the encoder and decoder (PyTorch's gate order and parameter names)")
    public static let layers = Setting<Int>(
        "rnn_layers", default: 1, .integers(1...16), doc: "stacked recurrent layers in the encoder and the decoder")
    public static let annealing = Setting<String>(
        "kl_annealing", default: "logistic", .oneOf(["constant", "linear", "logistic", "cyclical"]),
        doc: "the KL weight's schedule: constant 1, linear over kl_steps, logistic (Bowman et al. 2016: kl_k, kl_midpoint), cyclical (Fu et al. 2019: kl_cycles over kl_steps, rising for kl_ratio of each)")
    public static let logisticRate = Setting<Double>(
        "kl_k", default: 0.0025, .numbers(atLeast: 0), doc: "slope k of the logistic KL schedule, per step")
    public static let midpoint = Setting<Double>(
        "kl_midpoint", default: 2500, .numbers(atLeast: 0), doc: "step x₀ where the logistic KL weight is ½")
    public static let annealingSteps = Setting<Int>(
        "kl_steps", default: 10_000, .integers(0...Int.max),
        doc: "steps of the linear schedule's rise, or the cyclical schedule's whole length")
    public static let cycles = Setting<Int>(
        "kl_cycles", default: 4, .integers(1...10_000), doc: "cycles M of the cyclical schedule")
    public static let ratio = Setting<Double>(
        "kl_ratio", default: 0.5, .numbers(NumberRange(above: 0, atMost: 1)),
        doc: "share R of each cycle over which the cyclical weight rises from 0 to 1")
    public static let wordDropout = Setting<Double>(
        "word_dropout", default: 0.25, .numbers(NumberRange(atLeast: 0, atMost: 1)),
        doc: "probability that a decoder input word becomes <unk> while training (never <bos> or padding)")
    public static let freeBits = Setting<Double>(
        "free_bits", default: 0, .numbers(atLeast: 0),
        doc: "λ of free bits per latent dimension, in nats (Kingma et al. 2016; 0 = off)")

    /// The decoder's and vocabulary's settings, shared by `rnnlm` and `sentence-vae`.
    public static let languageModel = [vocabularySize, embeddingSize, hiddenSize].map(\.declaration)
        + [cell.declaration, layers.declaration, wordDropout.declaration]
    /// `sentence-vae`'s: the language model's, the latent's and the KL's.
    public static let sentenceVAE = languageModel + [GaussianLatent.latentSize.declaration, annealing.declaration]
        + [logisticRate, midpoint].map(\.declaration) + [annealingSteps.declaration, cycles.declaration]
        + [ratio, freeBits].map(\.declaration)

    /// The KL schedule a specification sets (constant for a language model, which has no KL).
    static func schedule(_ specification: ModelSpecification) -> KLAnnealing {
        switch specification[annealing] {
        case "linear": return .linear(steps: specification[annealingSteps])
        case "logistic": return .logistic(k: specification[logisticRate], midpoint: specification[midpoint])
        case "cyclical": return .cyclical(cycles: specification[cycles], ratio: specification[ratio],
                                          totalSteps: specification[annealingSteps])
        default: return .constant
        }
    }
}
