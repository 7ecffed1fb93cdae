import VAENN
import VAETensor

/// How one model of the collection is made: for a ``ComposedVAE``, its latent and objective, the network family
/// it uses unless `model_params.network` picks another, and whether it is conditioned on labels.
public struct ModelRecipe: Sendable {
    public let name: String
    /// One line for `vae configs` and the docs.
    public let summary: String
    /// The network family when `network` is not set; nil for a model that builds its own network (VQ-VAE).
    public let defaultNetwork: String?
    /// Conditioned on one class label per row (`class_count`; the trainer counts the classes when it is 0).
    public let conditional: Bool
    /// The code may have no Gaussian part (`latent_size: 0`).
    public let gaussianIsOptional: Bool
    let build: @Sendable (ModelSpecification, inout RandomStream) throws -> any VariationalAutoencoder

    /// A ``ComposedVAE`` recipe: the network comes from the specification (or `defaultNetwork`).
    static func composed(
        _ name: String, _ summary: String, network: String, conditional: Bool = false, gaussianIsOptional: Bool = false,
        latent: @escaping @Sendable (ModelSpecification, Int, inout RandomStream) throws -> any LatentSpace,
        objective: @escaping @Sendable (ModelSpecification) throws -> any Objective
    ) -> ModelRecipe {
        ModelRecipe(name: name, summary: summary, defaultNetwork: network, conditional: conditional,
                    gaussianIsOptional: gaussianIsOptional) { specification, random in
            let networkName = specification.network.isEmpty ? network : specification.network
            guard let family = NetworkFamily.named(networkName) else {
                throw ModelError("model_params.network: unknown network '\(networkName)' for model '\(name)'; expected one of \(NetworkFamily.all.map(\.name).joined(separator: ", "))")
            }
            let classes = conditional ? specification.objective.classCount : 0
            if conditional && classes < 1 {
                throw ModelError("model_params.class_count: \(name) needs the number of classes (or labelled data to count them), got \(classes)")
            }
            return try ComposedVAE(specification, network: family, conditionClasses: classes,
                                   latent: { features, random in try latent(specification, features, &random) },
                                   objective: try objective(specification), random: &random)
        }
    }
}

/// Names → model recipes. Every model in the collection registers here, one line each; the latents, objectives
/// and networks they combine live in their own files.
public enum ModelRegistry {
    public static let recipes: [ModelRecipe] = [
        .composed("mlp", "Kingma & Welling's Gaussian VAE", network: "mlp", latent: gaussian, objective: elbo),
        .composed("conv", "the Keras example's convolutional VAE", network: "conv", latent: gaussian, objective: elbo),
        .composed("conv64", "PyTorch-VAE's VanillaVAE", network: "conv64", latent: gaussian, objective: elbo),
        .composed("beta-vae", "β-VAE (Higgins et al. 2017; Burgess et al. 2018's capacity)", network: "mlp",
                  latent: gaussian, objective: beta),
        .composed("iwae", "IWAE (Burda et al. 2016)", network: "mlp", latent: gaussian, objective: importanceWeighted(groups: false)),
        .composed("miwae", "MIWAE (Rainforth et al. 2018)", network: "mlp", latent: gaussian,
                  objective: importanceWeighted(groups: true)),
        .composed("cvae", "conditional VAE (Sohn et al. 2015)", network: "mlp", conditional: true, latent: gaussian,
                  objective: elbo),
        .composed("categorical-vae", "Gumbel-Softmax VAE (Jang et al. 2017)", network: "mlp", gaussianIsOptional: true,
                  latent: categorical(needsGaussian: false), objective: elbo),
        .composed("joint-vae", "Joint VAE (Dupont 2018)", network: "mlp", latent: categorical(needsGaussian: true),
                  objective: capacity),
        ModelRecipe(name: "vq-vae", summary: "VQ-VAE (van den Oord et al. 2017)", defaultNetwork: nil, conditional: false,
                    gaussianIsOptional: true) { specification, random in
            guard specification.network.isEmpty else {
                throw ModelError("model_params.network: model 'vq-vae' builds its own conv network (4×4 stride-2 convs to a code map) and cannot be paired with network '\(specification.network)'; leave network out")
            }
            return try VQVAE(specification, random: &random)
        },
    ]

    public static var names: [String] { recipes.map(\.name) }

    public static func recipe(_ name: String) -> ModelRecipe? { recipes.first { $0.name == name } }

    /// Builds the named model with weights initialised from `random` (the "init" stream).
    public static func make(_ specification: ModelSpecification,
                            random: inout RandomStream) throws -> any VariationalAutoencoder {
        guard let recipe = recipe(specification.name) else {
            throw ModelError("model_params.name: unknown model '\(specification.name)'; expected one of \(names.joined(separator: ", "))")
        }
        guard specification.latentSize >= 1 || recipe.gaussianIsOptional else {
            throw ModelError("model_params.latent_size: model '\(specification.name)' needs a latent of at least 1 dimension, got \(specification.latentSize)")
        }
        return try recipe.build(specification, &random)
    }

    // MARK: - The parts the recipes combine

    static let elbo: @Sendable (ModelSpecification) throws -> any Objective = { _ in ELBOObjective() }

    static let beta: @Sendable (ModelSpecification) throws -> any Objective = { specification in
        let objective = specification.objective
        return BetaObjective(beta: objective.beta, capacity: CapacitySchedule(
            maximum: objective.capacityMax, steps: objective.capacitySteps, gamma: objective.gamma))
    }

    static let capacity: @Sendable (ModelSpecification) throws -> any Objective = { specification in
        let objective = specification.objective
        return CapacityObjective(
            continuous: CapacitySchedule(maximum: objective.capacityMax, steps: objective.capacitySteps, gamma: objective.gamma),
            discrete: CapacitySchedule(maximum: objective.discreteCapacityMax, steps: objective.discreteCapacitySteps,
                                       gamma: objective.gamma))
    }

    static func importanceWeighted(groups: Bool) -> @Sendable (ModelSpecification) throws -> any Objective {
        { specification in
            let objective = specification.objective
            if !groups && objective.importanceGroups != 1 {
                throw ModelError("model_params.importance_groups: \(specification.name) uses one group (M = 1), got \(objective.importanceGroups); use name: miwae for M × K")
            }
            return try ImportanceWeightedObjective(samples: objective.importanceSamples, groups: objective.importanceGroups)
        }
    }

    static let gaussian: @Sendable (ModelSpecification, Int, inout RandomStream) throws -> any LatentSpace = {
        specification, features, random in
        GaussianLatent(featureSize: features, latentSize: specification.latentSize, random: &random)
    }

    static func categorical(needsGaussian: Bool)
    -> @Sendable (ModelSpecification, Int, inout RandomStream) throws -> any LatentSpace {
        { specification, features, random in
            if needsGaussian && specification.latentSize < 1 {
                throw ModelError("model_params.latent_size: \(specification.name) needs a Gaussian part (latent_size >= 1); use categorical-vae for codes alone")
            }
            let objective = specification.objective
            guard objective.categoricalSize >= 1 else {
                throw ModelError("model_params.categorical_size: \(specification.name) needs at least one categorical variable, got \(objective.categoricalSize)")
            }
            return try CategoricalLatent(
                featureSize: features, continuousSize: specification.latentSize, variables: objective.categoricalSize,
                categories: objective.categories,
                schedule: .init(initial: objective.temperature, minimum: objective.temperatureMinimum,
                                rate: objective.temperatureRate),
                hard: objective.hard, random: &random)
        }
    }
}
