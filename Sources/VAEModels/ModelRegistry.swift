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
    /// The settings the model reads besides its network's, in `config.yaml` order.
    public let ownSettings: [SettingDeclaration]
    let build: @Sendable (ModelSpecification, NetworkFamily?, inout RandomStream) throws -> any VariationalAutoencoder

    /// The family `network` names (the default when empty); nil for a model with its own network. An unknown
    /// family, or any family for a model with its own network, is an error naming both.
    public func networkFamily(_ network: String) throws -> NetworkFamily? {
        guard let defaultNetwork else {
            guard network.isEmpty else {
                throw ModelError("model_params.network: model '\(name)' builds its own network and cannot be paired with network '\(network)'; leave network out")
            }
            return nil
        }
        let chosen = network.isEmpty ? defaultNetwork : network
        guard let family = NetworkFamily.named(chosen) else {
            let names = NetworkFamily.all.map(\.name)
            throw ModelError("model_params.network: unknown network '\(chosen)' for model '\(name)'; expected one of \(names.joined(separator: ", "))" + Suggestion.didYouMean(chosen, among: names))
        }
        return family
    }

    /// Every setting the model reads when paired with `network`: the network's, then its own.
    public func settings(network: String) throws -> [SettingDeclaration] {
        (try networkFamily(network)?.settings ?? []) + ownSettings
    }

    /// A ``ComposedVAE`` recipe: the network comes from the specification (or `network`, the default).
    static func composed(_ name: String, _ summary: String, network: String, conditional: Bool = false,
                         latent: LatentPart, objective: ObjectivePart) -> ModelRecipe {
        let own = latent.settings + ObservationModel.settings + objective.settings
            + (conditional ? [ComposedVAE.classCount.declaration] : [])
        return ModelRecipe(name: name, summary: summary, defaultNetwork: network, conditional: conditional,
                           ownSettings: own) { specification, family, random in
            let classes = conditional ? specification[ComposedVAE.classCount] : 0
            if conditional && classes < 1 {
                throw ModelError("model_params.class_count: \(name) needs the number of classes (or labelled data to count them), got \(classes)")
            }
            return try ComposedVAE(specification, network: family!, conditionClasses: classes,
                                   latent: { features, random in try latent.make(specification, features, &random) },
                                   objective: try objective.make(specification), random: &random)
        }
    }
}

/// Names → model recipes. Every model in the collection registers here, one line each; the networks, latents
/// and objectives they combine live in their own files, with their settings.
public enum ModelRegistry {
    public static let recipes: [ModelRecipe] = [
        .composed("mlp", "Kingma & Welling's Gaussian VAE", network: "mlp", latent: GaussianLatent.part,
                  objective: ELBOObjective.part),
        .composed("conv", "the Keras example's convolutional VAE", network: "conv", latent: GaussianLatent.part,
                  objective: ELBOObjective.part),
        .composed("conv64", "PyTorch-VAE's VanillaVAE", network: "conv64", latent: GaussianLatent.part,
                  objective: ELBOObjective.part),
        .composed("beta-vae", "β-VAE (Higgins et al. 2017; Burgess et al. 2018's capacity)", network: "mlp",
                  latent: GaussianLatent.part, objective: BetaObjective.part),
        .composed("iwae", "IWAE (Burda et al. 2016)", network: "mlp", latent: GaussianLatent.part,
                  objective: ImportanceWeightedObjective.iwae),
        .composed("miwae", "MIWAE (Rainforth et al. 2018)", network: "mlp", latent: GaussianLatent.part,
                  objective: ImportanceWeightedObjective.miwae),
        .composed("cvae", "conditional VAE (Sohn et al. 2015)", network: "mlp", conditional: true,
                  latent: GaussianLatent.part, objective: ELBOObjective.part),
        .composed("categorical-vae", "Gumbel-Softmax VAE (Jang et al. 2017)", network: "mlp",
                  latent: CategoricalLatent.part(needsGaussian: false), objective: ELBOObjective.part),
        .composed("warmup-vae", "ELBO with KL warm-up (Bowman et al. 2016)", network: "mlp", latent: GaussianLatent.part,
                  objective: WarmupObjective.part),
        .composed("joint-vae", "Joint VAE (Dupont 2018)", network: "mlp", latent: CategoricalLatent.part(needsGaussian: true),
                  objective: CapacityObjective.part),
        ModelRecipe(name: "vq-vae", summary: "VQ-VAE (van den Oord et al. 2017)", defaultNetwork: nil, conditional: false,
                    ownSettings: VQVAE.settings) { specification, _, random in try VQVAE(specification, random: &random) },
    ]

    public static var names: [String] { recipes.map(\.name) }

    public static func recipe(_ name: String) -> ModelRecipe? { recipes.first { $0.name == name } }

    /// The recipe `name` names, or an error listing the models (with the nearest name).
    public static func existingRecipe(_ name: String) throws -> ModelRecipe {
        guard let recipe = recipe(name) else {
            throw ModelError("model_params.name: unknown model '\(name)'; expected one of \(names.joined(separator: ", "))" + Suggestion.didYouMean(name, among: names))
        }
        return recipe
    }

    /// Checks a specification's settings against the model's: every key is one of them (for the network it is
    /// paired with) and every value has the setting's type and is allowed. Throws a ``ModelError`` naming the key.
    public static func check(_ specification: ModelSpecification) throws {
        let recipe = try existingRecipe(specification.name)
        let declarations = try recipe.settings(network: specification.network)
        for key in specification.settings.keys {
            guard let declaration = declarations.first(where: { $0.key == key }) else {
                throw ModelError("model_params.\(key): " + unusedKeyProblem(key, model: recipe, network: specification.network, declarations))
            }
            if let problem = declaration.problem(with: specification.settings.value(of: declaration)) {
                throw ModelError("model_params.\(key)\(problem.elementSuffix): \(problem.message)")
            }
        }
    }

    /// `"model 'mlp' (network mlp) does not read it (vq-vae does); its settings are …"` for a key other models read.
    public static func unusedKeyProblem(_ key: String, model: ModelRecipe, network: String,
                                        _ declarations: [SettingDeclaration]) -> String {
        let paired = (network.isEmpty ? model.defaultNetwork : network).map { " (network \($0))" } ?? ""
        let keys = declarations.map(\.key)
        let owners = recipes.filter { $0.ownSettings.contains { $0.key == key } }.map(\.name)
            + NetworkFamily.all.filter { $0.settings.contains { $0.key == key } }.map { "network \($0.name)" }
        let others = owners.isEmpty ? "" : " (\(owners.joined(separator: ", ")) \(owners.count == 1 ? "does" : "do"))"
        return "model '\(model.name)'\(paired) does not read it\(others); its settings are "
            + keys.joined(separator: ", ") + Suggestion.didYouMean(key, among: keys)
    }

    /// Builds the named model with weights initialised from `random` (the "init" stream), after ``check(_:)``.
    public static func make(_ specification: ModelSpecification,
                            random: inout RandomStream) throws -> any VariationalAutoencoder {
        try check(specification)
        let recipe = try existingRecipe(specification.name)
        return try recipe.build(specification, try recipe.networkFamily(specification.network), &random)
    }
}
