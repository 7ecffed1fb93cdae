import Testing
import VAETensor
@testable import VAEModels

extension VAEModelsTests {
    @Suite("Model settings: each declared once, checked against the model that reads it")
    struct SettingTests {
        /// Every list of settings a model or network reads, over every pairing the registry allows.
        static var everyList: [[SettingDeclaration]] {
            ModelRegistry.recipes.flatMap { recipe in
                ([""] + NetworkFamily.all.map(\.name)).compactMap { try? recipe.settings(network: $0) }
            }
        }

        @Test func eachKeyHasOneDeclaration() {
            // A key read by several parts (hidden_sizes, capacity_max) must be the same declaration everywhere:
            // same type, default, rule and doc. Two declarations of one key would be a setting written twice.
            for list in Self.everyList {
                #expect(Set(list.map(\.key)).count == list.count, "a key twice in \(list.map(\.key))")
                for declaration in list {
                    #expect(SettingCatalog.declaration(declaration.key) == declaration, "\(declaration.key) declared twice")
                }
            }
            #expect(Set(SettingCatalog.all.map(\.key)).count == SettingCatalog.all.count)
        }

        @Test func everyDeclarationIsDocumentedAndItsDefaultAllowed() {
            for declaration in SettingCatalog.all {
                #expect(!declaration.doc.isEmpty, "\(declaration.key) has no doc")
                #expect(declaration.problem(with: declaration.defaultValue) == nil, "\(declaration.key)'s default is refused")
                #expect(declaration.key == snakeCasedKey(declaration.key), "\(declaration.key) is not snake_case")
            }
        }

        private func snakeCasedKey(_ key: String) -> String {
            String(key.filter { $0.isLowercase || $0.isNumber || $0 == "_" })
        }

        @Test func aModelReadsItsNetworksSettingsAndItsPartsOwn() throws {
            let beta = try #require(ModelRegistry.recipe("beta-vae"))
            #expect(try beta.settings(network: "").map(\.key) == [
                "hidden_sizes", "activation", "batch_norm", "latent_size", "likelihood", "likelihood_variance", "learn_variance",
                "beta", "capacity_max", "capacity_steps", "gamma"])
            #expect(try beta.settings(network: "conv").map(\.key).contains("dense_size"))
            let vq = try #require(ModelRegistry.recipe("vq-vae"))
            #expect(try !vq.settings(network: "").map(\.key).contains("latent_size"))
            #expect(throws: ModelError.self) { try vq.settings(network: "conv") }
        }

        @Test func valuesAreStoredAsTheirDeclaredTypeAndDefaultsAreNotStored() {
            var settings: ModelSettings = ["beta": 4, "latent_size": 20, "hidden_sizes": [64]]
            #expect(settings["beta"] == .number(4), "an integer literal for a number setting is stored as a number")
            #expect(settings["latent_size"] == nil, "the default is not stored")
            #expect(settings.keys == ["beta", "hidden_sizes"])
            settings[BetaObjective.beta] = 1
            #expect(settings.keys == ["hidden_sizes"])
            #expect(settings == ["hidden_sizes": [64], "gamma": 1000.0])
        }

        @Test func makeRefusesSettingsTheModelDoesNotRead() {
            var random = RandomStream(seed: 1, name: "init")
            let specification = ModelSpecification(name: "mlp", inputShape: [1, 4, 4], settings: ["codebook_size": 8])
            let error = #expect(throws: ModelError.self) { try ModelRegistry.make(specification, random: &random) }
            #expect(error?.description.hasPrefix("model_params.codebook_size: model 'mlp' (network mlp) does not read it (vq-vae does)") == true)
            let wrongType = ModelSpecification(name: "mlp", inputShape: [1, 4, 4], settings: ["latent_size": 2.5])
            let typeError = #expect(throws: ModelError.self) { try ModelRegistry.make(wrongType, random: &random) }
            #expect(typeError?.description == "model_params.latent_size: expected an integer, got 2.5")
            let outOfRange = ModelSpecification(name: "mlp", inputShape: [1, 4, 4], settings: ["activation": "gelu"])
            let rangeError = #expect(throws: ModelError.self) { try ModelRegistry.make(outOfRange, random: &random) }
            #expect(rangeError?.description.hasPrefix("model_params.activation: expected one of relu") == true)
        }
    }
}
