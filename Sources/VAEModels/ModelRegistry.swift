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
    ]

    public static var names: [String] { builders.map(\.name) }

    /// Models conditioned on class labels, whose `class_count` the trainer fills in from the data when it is 0.
    public static let conditionalNames: Set<String> = ["cvae"]

    /// Builds the named model with weights initialised from `random` (the "init" stream).
    public static func make(_ specification: ModelSpecification,
                            random: inout RandomStream) throws -> any VariationalAutoencoder {
        guard let builder = builders.first(where: { $0.name == specification.name }) else {
            throw ModelError("model_params.name: unknown model '\(specification.name)'; expected one of \(names.joined(separator: ", "))")
        }
        return try builder.build(specification, &random)
    }
}
