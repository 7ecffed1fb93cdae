import VAEDistributions
import VAENN
import VAETensor

/// FactorVAE (Kim & Mnih 2018): the ELBO plus γ times the total correlation of q(z), estimated by a discriminator
/// D that tells codes drawn from q(z) from codes whose dimensions were each permuted across the batch (draws from
/// Π_k q(z_k)): TC ≈ E[log D(z) / (1 − D(z))], the discriminator's logit. The discriminator is trained beside the
/// model through the ``AuxiliaryTraining`` hook, with its own Adam (lr 1e-4, β = (0.5, 0.9), the paper's), on the
/// batch the model has just trained on; its weights are saved with the model's as `discriminator.…`. Logs
/// `total_correlation` (the estimate, γ unapplied).
public struct FactorObjective: AuxiliaryObjective {
    public var gamma: Float
    public let discriminator: FactorDiscriminator

    public init(gamma: Float, discriminator: FactorDiscriminator) {
        self.gamma = gamma
        self.discriminator = discriminator
    }

    public var splitsOverRows: Bool { true }
    public var auxiliary: any AuxiliaryTraining { discriminator }
    public func attach(posterior: @escaping (Tensor) -> DiagonalNormal) { discriminator.attach(posterior: posterior) }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let correlation = discriminator.logits(terms.code).mean()
        return LossTerms(total: terms.reconstruction + terms.kl + correlation * gamma,
                         terms: terms.logged + [("total_correlation", correlation)])
    }
}

/// FactorVAE's discriminator: an MLP from a code to one logit, log D/(1 − D), with leaky ReLU (slope 0.2) after each
/// hidden layer (`discriminator_sizes`: 6 × 1000 in the paper). Trained to output positive logits for codes from
/// q(z) and negative ones for dimension-wise permuted codes.
public final class FactorDiscriminator: Module, AuxiliaryTraining, @unchecked Sendable {
    public let layers: [Linear]
    /// q(z|x) of the model this discriminator belongs to (the model attaches it when it is built).
    private var posteriorOf: ((Tensor) -> DiagonalNormal)?

    public init(codeSize: Int, hiddenSizes: [Int], random: inout RandomStream) {
        let sizes = [codeSize] + hiddenSizes + [1]
        layers = zip(sizes, sizes.dropFirst()).map { Linear(inputSize: $0, outputSize: $1, random: &random) }
        super.init()
    }

    public var name: String { "discriminator" }
    public var module: Module { self }
    public var optimizerSettings: AuxiliaryOptimizerSettings? { AuxiliaryOptimizerSettings(learningRate: 1e-4, beta1: 0.5, beta2: 0.9) }

    func attach(posterior: @escaping (Tensor) -> DiagonalNormal) { posteriorOf = posterior }

    /// One logit per code row, `[rows]`.
    public func logits(_ codes: Tensor) -> Tensor {
        var hidden = codes
        for (index, layer) in layers.enumerated() {
            hidden = layer(hidden)
            if index < layers.count - 1 { hidden = hidden.leakyRelu(slope: 0.2) }
        }
        return hidden.reshaped([codes.shape[0]])
    }

    /// Each column of `codes` shuffled by its own permutation of the rows: a draw from Π_k q(z_k).
    public static func permutingDimensions(_ codes: Tensor, random: inout RandomStream) -> Tensor {
        let (rows, width) = (codes.shape[0], codes.shape[1])
        let values = codes.scalars
        var scalars = values
        for column in 0..<width {
            for (row, source) in random.permutation(rows).enumerated() { scalars[row * width + column] = values[source * width + column] }
        }
        return Tensor(shape: codes.shape, scalars: scalars)
    }

    /// Logistic loss: codes from q(z|x) (one draw per row of `input`) are class 1, their permutation class 0.
    public func loss(_ input: Tensor, context: LossContext) -> Tensor {
        guard let posteriorOf else { preconditionFailure("FactorDiscriminator: no encoder attached (ComposedVAE attaches it)") }
        let codes = withoutGradients { posteriorOf(input).sample(using: &context.noise) }
        let permuted = Self.permutingDimensions(codes, random: &context.noise)
        return (-logits(codes)).softplus().mean() + logits(permuted).softplus().mean()
    }
}

extension FactorObjective {
    public static let gammaSetting = Setting<Double>(
        "tc_weight", default: 35, .numbers(atLeast: 0), doc: "weight γ of the discriminator's total-correlation estimate")
    public static let discriminatorSizes = Setting<[Int]>(
        "discriminator_sizes", default: [1000, 1000, 1000, 1000, 1000, 1000], .nonEmptyList(1...65536),
        doc: "widths of the discriminator's hidden layers")

    /// The discriminator's weights are drawn from their own stream ("discriminator-init"), so the model's are the
    /// same as without it.
    public static let part = ObjectivePart(settings: [gammaSetting.declaration, discriminatorSizes.declaration]) { specification in
        var random = RandomStream(seed: 0, name: "discriminator-init")
        let discriminator = FactorDiscriminator(codeSize: specification[GaussianLatent.latentSize],
                                                hiddenSizes: specification[discriminatorSizes], random: &random)
        return FactorObjective(gamma: Float(specification[gammaSetting]), discriminator: discriminator)
    }
}
