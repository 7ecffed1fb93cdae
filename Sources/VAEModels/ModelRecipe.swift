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
