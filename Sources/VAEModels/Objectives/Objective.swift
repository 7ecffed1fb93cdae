import VAEDistributions
import VAETensor

/// A training objective: the loss a ``ComposedVAE`` minimises, from the terms the model computes once for every
/// objective (``ComposedVAE/trainingTerms(_:context:)``, ``ComposedVAE/logImportanceWeights(_:samples:noise:)``).
///
/// Logged terms are batch means, each a quantity to minimise: `reconstruction` (−log p(x|z)), `kl` (≥ 0, summed
/// over the latent's parts, each part logged too when there are several), then the objective's own terms.
public protocol Objective: Sendable {
    func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms
    /// True when the loss is a mean over rows of per-row terms (see ``VariationalAutoencoder/lossSplitsOverRows``).
    var splitsOverRows: Bool { get }
}

/// The reconstruction and KL terms of a training draw, as batch means.
public struct MeanTerms {
    public var reconstruction: Tensor
    /// Each KL part's batch mean, with its kind and ceiling.
    public var parts: [(part: KLPart, mean: Tensor)]
    /// The parts' means added in order.
    public var kl: Tensor

    /// The training draw's codes `[batch, latentSize]` (what MMD and sliced-Wasserstein objectives compare with
    /// prior draws) and p(x|z) decoded from them.
    public var code: Tensor
    public var likelihood: any Likelihood

    public init(_ model: ComposedVAE, input: Tensor, context: LossContext) {
        let draw = model.trainingDraw(input, context: context)
        let (reconstruction, parts) = (draw.likelihood.negativeLogProbability(input), draw.kl)
        (code, likelihood) = (draw.code, draw.likelihood)
        self.reconstruction = reconstruction.mean()
        self.parts = parts.map { ($0, $0.values.mean()) }
        kl = self.parts.dropFirst().reduce(self.parts[0].mean) { $0 + $1.mean }
    }

    /// `reconstruction`, `kl`, and each part when there are several.
    public var logged: [(name: String, value: Tensor)] {
        [("reconstruction", reconstruction), ("kl", kl)] + (parts.count > 1 ? parts.map { ($0.part.name, $0.mean) } : [])
    }
}

/// How a recipe builds an objective: the settings it reads and the build from a specification. Each objective
/// declares its own (`BetaObjective.part`).
public struct ObjectivePart: Sendable {
    public let settings: [SettingDeclaration]
    let make: @Sendable (ModelSpecification) throws -> any Objective

    public init(settings: [SettingDeclaration], make: @escaping @Sendable (ModelSpecification) throws -> any Objective) {
        self.settings = settings
        self.make = make
    }
}
