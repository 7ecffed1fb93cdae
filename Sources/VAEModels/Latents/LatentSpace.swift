import VAEDistributions
import VAENN
import VAETensor

/// The latent part of a model: heads that turn encoder features into q(z|x), the draws the objectives and the
/// evaluation need, and the prior p(z). A code is what the decoder takes, `[batch, codeSize]`.
///
/// Heads are named in checkpoints as if they were the model's own properties (`mean`, `log_variance`, `logits`).
public protocol LatentSpace: Module {
    /// Width of a code.
    var codeSize: Int { get }
    /// A code per row for the training objective, and the KL(q ‖ p) per row split into parts (one part for a
    /// single latent; a Gaussian and a categorical part for a joint one). A relaxed latent draws its relaxation at
    /// the optimiser step `step`; the others draw exactly as ``exactDraw(_:noise:)``.
    func trainingDraw(_ features: Tensor, noise: inout RandomStream, step: Int) -> (code: Tensor, kl: [KLPart])
    /// A code per row from q(z|x) and the whole KL(q ‖ p) per row: the terms of the −ELBO that evaluation reports.
    func exactDraw(_ features: Tensor, noise: inout RandomStream) -> (code: Tensor, kl: Tensor)
    /// `samples` codes per row (image-major rows) and the log-density terms of their importance weights.
    func importanceDraw(_ features: Tensor, samples: Int, noise: inout RandomStream) -> ImportanceDraw
    /// A deterministic code per row (the posterior mean, class probabilities) and the KL split over coordinates.
    func summary(_ features: Tensor) -> LatentSummary
    /// `count` codes from the prior.
    func samplePrior(count: Int, random: inout RandomStream) -> Tensor
    /// The same codes where `backend` is (nil: the host). A default: ``samplePrior(count:random:)``, then moved.
    func samplePrior(count: Int, random: inout RandomStream, on backend: (any TensorBackend)?) -> Tensor
    /// Gives a prior built from the model's own encoder (the VampPrior) the encoder's `features` of any input;
    /// called once by the model. A default that does nothing.
    func attachPrior(features: @escaping (Tensor) -> Tensor)
}

/// One part of KL(q(z|x) ‖ p(z)) per row; `kind` picks the capacity schedule an objective applies to it, and
/// `ceiling` is the most it can be (N·log K nats for N categorical variables of K classes under a uniform prior).
public struct KLPart {
    public enum Kind: Sendable { case continuous, discrete }
    public var name: String
    public var kind: Kind
    public var values: Tensor
    public var ceiling: Double?

    public init(name: String, kind: Kind, values: Tensor, ceiling: Double? = nil) {
        self.name = name
        self.kind = kind
        self.values = values
        self.ceiling = ceiling
    }
}

/// Codes drawn for importance weighting, with the weights' log-density terms: for a log-likelihood log p(x|z)
/// per code, log w = log p(x|z) + `added` − `subtracted` (log p(z) and log q(z|x), or their parts).
public struct ImportanceDraw {
    public var code: Tensor
    public var added: Tensor
    public var subtracted: Tensor

    public func logWeights(logLikelihood: Tensor) -> Tensor { logLikelihood + added - subtracted }
}

/// A deterministic code per row and the KL per coordinate (see ``VariationalAutoencoder/latentSummary(_:)``).
public struct LatentSummary {
    public var code: Tensor
    public var klPerDimension: Tensor

    public init(code: Tensor, klPerDimension: Tensor) {
        self.code = code
        self.klPerDimension = klPerDimension
    }
}

/// Row indices `0, 0, …, 1, 1, …` (each repeated `samples` times): image-major, so that each image's
/// importance samples are contiguous.
public func repeatedRows(_ batch: Int, samples: Int) -> [Int] {
    (0..<batch).flatMap { [Int](repeating: $0, count: samples) }
}

/// How a recipe builds a latent: the settings it reads and the build from a specification and the encoder's
/// feature width. Each latent type declares its own (`GaussianLatent.part`).
public struct LatentPart: Sendable {
    public let settings: [SettingDeclaration]
    let make: @Sendable (ModelSpecification, _ featureSize: Int, inout RandomStream) throws -> any LatentSpace

    public init(settings: [SettingDeclaration],
                make: @escaping @Sendable (ModelSpecification, _ featureSize: Int, inout RandomStream) throws -> any LatentSpace) {
        self.settings = settings
        self.make = make
    }
}

extension LatentSpace {
    public func attachPrior(features: @escaping (Tensor) -> Tensor) {}

    public func samplePrior(count: Int, random: inout RandomStream, on backend: (any TensorBackend)?) -> Tensor {
        samplePrior(count: count, random: &random).moved(to: backend)
    }
}
