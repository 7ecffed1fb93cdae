import VAEDistributions
import VAENN
import VAETensor

/// Kingma & Welling's Gaussian VAE with MLP encoder and decoder (Bernoulli decoder on logits by default).
/// The default `mlp` config is 784-400-20 with ReLU, as the classic PyTorch example.
///
/// Not final: variants that change only the objective (``BetaVAE``, ``ImportanceWeightedVAE``) subclass it and
/// override ``loss(_:context:)``, so they keep these layers and their parameter names.
public class MLPVAE: Module, GaussianLatentAutoencoder {
    public let specification: ModelSpecification
    public let encoder: MLP       // x → hidden
    public let mean: Linear       // hidden → μ
    public let logVariance: Linear // hidden → log σ²
    public let decoder: MLP       // z → logits of p(x|z)
    public let observation: ObservationModel

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        self.specification = specification
        let hidden = specification.hiddenSizes
        encoder = MLP(sizes: [specification.inputSize] + hidden, activation: specification.activation,
                      activatesOutput: true, random: &random)
        mean = Linear(inputSize: hidden.last!, outputSize: specification.latentSize, random: &random)
        logVariance = Linear(inputSize: hidden.last!, outputSize: specification.latentSize, random: &random)
        decoder = MLP(sizes: [specification.latentSize] + hidden.reversed() + [specification.inputSize],
                      activation: specification.activation, random: &random)
        observation = try ObservationModel(specification)
        super.init()
    }

    public func encode(_ input: Tensor) -> DiagonalNormal {
        let hidden = encoder(input)
        return DiagonalNormal(mean: mean(hidden), logVariance: logVariance(hidden))
    }

    public func decode(_ latent: Tensor) -> any Likelihood { observation(decoder(latent)) }

    /// The plain ELBO. Declared in the class (not only in the protocol extension) so that subclasses' overrides
    /// are what a caller holding `any VariationalAutoencoder` gets.
    public func loss(_ input: Tensor, context: LossContext) -> LossTerms { elboLoss(input, context: context) }

    /// The ELBO and the variants that keep it a row mean (β, IWAE's bound) split over rows; ``BetaVAE`` with a
    /// capacity penalty on the batch-mean KL does not.
    public var lossSplitsOverRows: Bool { true }
}
