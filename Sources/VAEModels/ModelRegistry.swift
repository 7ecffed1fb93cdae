import VAENN
import VAETensor

/// A model name that is not in the registry or a specification a model cannot take.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Names → model builders. Every model in the collection registers here.
public enum ModelRegistry {
    public typealias Builder = (ModelSpecification, inout RandomStream) throws -> any VariationalAutoencoder

    static let builders: [(name: String, build: Builder)] = [
        ("mlp", { specification, random in try MLPVAE(specification, random: &random) }),
        ("conv", { specification, random in try ConvVAE(specification, random: &random) }),
        ("conv64", { specification, random in try VanillaConvVAE(specification, random: &random) }),
        ("beta-vae", { specification, random in try BetaVAE(specification, random: &random) }),
        ("iwae", { specification, random in try ImportanceWeightedVAE(specification, random: &random) }),
        ("miwae", { specification, random in try ImportanceWeightedVAE(specification, random: &random) }),
        ("cvae", { specification, random in try ConditionalVAE(specification, random: &random) }),
        ("categorical-vae", { specification, random in try CategoricalVAE(specification, random: &random) }),
        ("joint-vae", { specification, random in try JointVAE(specification, random: &random) }),
        ("vq-vae", { specification, random in try VQVAE(specification, random: &random) }),
    ]

    public static var names: [String] { builders.map(\.name) }

    /// Models conditioned on class labels, whose `class_count` the trainer fills in from the data when it is 0.
    public static let conditionalNames: Set<String> = ["cvae"]

    /// Models whose code may have no Gaussian part (`latent_size: 0`).
    public static let optionalGaussianNames: Set<String> = ["categorical-vae"]

    /// Builds the named model with weights initialised from `random` (the "init" stream).
    public static func make(_ specification: ModelSpecification,
                            random: inout RandomStream) throws -> any VariationalAutoencoder {
        guard let builder = builders.first(where: { $0.name == specification.name }) else {
            throw ModelError("model_params.name: unknown model '\(specification.name)'; expected one of \(names.joined(separator: ", "))")
        }
        guard specification.latentSize >= 1 || optionalGaussianNames.contains(specification.name) else {
            throw ModelError("model_params.latent_size: model '\(specification.name)' needs a latent of at least 1 dimension, got \(specification.latentSize)")
        }
        return try builder.build(specification, &random)
    }
}
