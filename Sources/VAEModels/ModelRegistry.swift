import VAENN
import VAETensor

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
        .composed("wae-mmd", "WAE-MMD (Tolstikhin et al. 2018)", network: "mlp", latent: GaussianLatent.part,
                  objective: WassersteinObjective.mmd),
        .composed("swae", "sliced-Wasserstein autoencoder (Kolouri et al. 2019)", network: "mlp",
                  latent: GaussianLatent.part, objective: WassersteinObjective.sliced),
        .composed("info-vae", "InfoVAE (Zhao, Song & Ermon 2017)", network: "mlp", latent: GaussianLatent.part,
                  objective: InfoObjective.part),
        .composed("logcosh-vae", "log-cosh VAE (Chen et al. 2019)", network: "mlp", latent: GaussianLatent.part,
                  objective: LogCoshObjective.part),
        .composed("mssim-vae", "MS-SSIM VAE (Snell et al. 2017)", network: "mlp", latent: GaussianLatent.part,
                  objective: MSSIMObjective.part),
        .composed("vamp-prior", "VampPrior (Tomczak & Welling 2018)", network: "mlp",
                  latent: GaussianLatent.withPrior(VampPrior.part), objective: ELBOObjective.part),
        .composed("hvae", "two stochastic layers, bottom-up inference (Burda et al. 2016); ELBO or IWAE bound", network: "mlp",
                  latent: HierarchicalLatent.bottomUp, objective: ImportanceWeightedObjective.iwae),
        .composed("ladder-vae", "ladder VAE (Sønderby et al. 2016): top-down inference, KL warm-up", network: "mlp",
                  latent: HierarchicalLatent.topDown, objective: WarmupObjective.part),
        .composed("beta-tcvae", "β-TCVAE (Chen et al. 2018): MI, total correlation and dimension-wise KL weighted apart",
                  network: "mlp", latent: GaussianLatent.part, objective: TotalCorrelationObjective.part),
        .composed("factor-vae", "FactorVAE (Kim & Mnih 2018): ELBO + γ·TC from a discriminator", network: "mlp",
                  latent: GaussianLatent.part, objective: FactorObjective.part),
        .composed("dip-vae", "DIP-VAE-I and -II (Kumar et al. 2018)", network: "mlp", latent: GaussianLatent.part,
                  objective: DIPObjective.part),
        .composed("joint-vae", "Joint VAE (Dupont 2018)", network: "mlp", latent: CategoricalLatent.part(needsGaussian: true),
                  objective: CapacityObjective.part),
        ModelRecipe(name: "vq-vae", summary: "VQ-VAE (van den Oord et al. 2017)", defaultNetwork: nil, conditional: false,
                    ownSettings: VQVAE.settings) { specification, _, random in try VQVAE(specification, random: &random) },
        ModelRecipe(name: "sentence-vae", summary: "sequence VAE for text (Bowman et al. 2016): KL annealing, word dropout, free bits",
                    defaultNetwork: nil, conditional: false, ownSettings: SentenceSettings.sentenceVAE) { specification, _, random in
            try SentenceVAE(specification, hasLatent: true, random: &random)
        },
        ModelRecipe(name: "rnnlm", summary: "recurrent language model: sentence-vae's decoder without a latent (Bowman et al.'s baseline)",
                    defaultNetwork: nil, conditional: false, ownSettings: SentenceSettings.languageModel) { specification, _, random in
            try SentenceVAE(specification, hasLatent: false, random: &random)
        },
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
