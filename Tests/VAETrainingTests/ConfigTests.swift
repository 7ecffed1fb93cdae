import Foundation
import TestSupport
import Testing
import VAEModels
@testable import VAETraining

/// The first line every test file needs: `model_params.name` is the one required key.
private let nameLine = "model_params:\n  name: mlp\n"

/// The message of the `ConfigError` that parsing `text` throws; fails the test if it throws nothing or another error.
private func parseFailure(_ text: String, source: String = "configs/x.yaml") throws -> String {
    let error = try #require(throws: ConfigError.self) { try ConfigLoader.parse(text, source: source) }
    #expect(!error.message.contains("\n"), "errors must be one line: \(error.message)")
    return error.message
}

private func validationFailure(_ change: (inout RunConfig) -> Void) throws -> String {
    var config = RunConfig.defaults
    change(&config)
    let error = try #require(throws: ConfigError.self) { try config.validate() }
    return error.message
}

/// A fresh directory for files a test writes; tests run in parallel.
private func temporaryDirectory() throws -> URL {
    URL(fileURLWithPath: try makeTemporaryDirectory("config"), isDirectory: true)
}

// MARK: - Built-ins, defaults, round trip

@Test func builtInMLPLoadsAndEqualsDefaults() throws {
    #expect(ConfigLoader.builtInNames.contains("mlp"))
    #expect(ConfigLoader.builtInNames == ConfigLoader.builtInNames.sorted())
    let config = try ConfigLoader.load("mlp")
    #expect(config == RunConfig.defaults)
    try config.validate()
}

@Test func defaultsAreTheClassicMLPVAE() {
    let defaults = RunConfig.defaults
    #expect(defaults.model == RunConfig.Model(name: "mlp"))
    #expect(defaults.model.settings.keys.isEmpty, "every setting at its declared default")
    #expect(defaults.model[NetworkSettings.hiddenSizes] == [400])
    #expect(defaults.model[GaussianLatent.latentSize] == 20)
    #expect(defaults.model[NetworkSettings.activation] == "relu")
    #expect(defaults.model[ObservationModel.likelihood] == "bernoulli")
    #expect(defaults.data.batchSize == 128)
    #expect(defaults.data.testBatchSize == 1000)
    #expect(defaults.experiment.optimizer == "adam")
    #expect(defaults.experiment.learningRate == 0.001)
    #expect(defaults.experiment.beta2 == 0.999)
    #expect(defaults.trainer.epochs == 10)
    #expect(defaults.trainer.pictureCount == 64)
}

@Test func everyBuiltInLoadsAndValidates() throws {
    for name in ConfigLoader.builtInNames {
        try ConfigLoader.load(name).validate()
    }
}

@Test func yamlRoundTripsDefaults() throws {
    let text = RunConfig.defaults.yaml()
    #expect(try ConfigLoader.parse(text, source: "round-trip") == RunConfig.defaults)
    #expect(text.hasPrefix("model_params:\n  name: mlp\n  hidden_sizes: [400]\n"))
    #expect(text.contains("\nexp_params:\n  optimizer: adam\n  learning_rate: 0.001\n"))
}

@Test func yamlRoundTripsAwkwardValues() throws {
    var config = RunConfig.defaults
    config.model.name = "beta-vae"
    config.model[NetworkSettings.hiddenSizes] = [512, 256, 1]
    config.model[NetworkSettings.activation] = "leaky_relu"
    config.model[BetaObjective.beta] = 0.1 + 0.2
    config.data.dataset = "yes"                      // a YAML 1.1 boolean if left plain
    config.data.dataDirectory = "/data/with space/ü\\x Fashion MNIST: \"test\" #1\tπ"
    config.data.binarize = true
    config.data.trainLimit = 5000
    config.experiment.optimizer = "sgd"
    config.experiment.learningRate = 1e-5
    config.experiment.weightDecay = 0.1 + 0.2       // not exactly 0.3: needs the shortest round-trip form
    config.experiment.seed = UInt64.max
    config.trainer.runName = "0.5"                   // a number if left plain
    config.trainer.outputDirectory = "null"
    config.trainer.dataParallel = false
    try config.validate()

    let text = config.yaml()
    #expect(try ConfigLoader.parse(text, source: "round-trip") == config)
    #expect(text.contains("  dataset: \"yes\"\n"))
    #expect(text.contains("  beta: 0.30000000000000004\n"))
    #expect(text.contains("  run_name: \"0.5\"\n"))
}

@Test func partialFileOverlaysDefaults() throws {
    let text = """
        model_params:
          name: mlp
          latent_size: 32
        exp_params:
          learning_rate: 3e-4
        trainer_params:
          epochs: 2
        """
    let config = try ConfigLoader.parse(text, source: "partial.yaml")
    var expected = RunConfig.defaults
    expected.model[GaussianLatent.latentSize] = 32
    expected.experiment.learningRate = 3e-4
    expected.trainer.epochs = 2
    #expect(config == expected)
}

@Test func emptySectionKeepsDefaults() throws {
    let config = try ConfigLoader.parse(nameLine + "data_params:\n", source: "x.yaml")
    #expect(config == RunConfig.defaults)
}

@Test func loadsFileByPath() throws {
    let directory = try temporaryDirectory()
    defer { removeDirectory(directory.path) }
    let file = directory.appendingPathComponent("wide.yaml")
    try (nameLine + "  hidden_sizes: [1024, 512]\n").write(to: file, atomically: true, encoding: .utf8)
    #expect(try ConfigLoader.load(file.path).model[NetworkSettings.hiddenSizes] == [1024, 512])

    let broken = directory.appendingPathComponent("broken.yml")
    try (nameLine + "  hidden_sizes: [1024, 0]\n").write(to: broken, atomically: true, encoding: .utf8)
    let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(broken.path) }
    #expect(error.message == "\(broken.path): model_params.hidden_sizes[1]: expected an integer from 1 to 65536, got 0 (line 3)")
}

// MARK: - Model settings

@Test func runConfigListsOnlyTheSettingsOfTheModelsParts() throws {
    let mlp = try ConfigLoader.load("mlp").yaml()
    #expect(mlp.hasPrefix("""
        model_params:
          name: mlp
          hidden_sizes: [400]
          activation: relu
          batch_norm: false
          latent_size: 20
          likelihood: bernoulli
          likelihood_variance: 1.0
          learn_variance: false

        data_params:
        """))
    let vq = try ConfigLoader.load("vq-vae").yaml()
    #expect(vq.contains("  codebook_size: 512\n") && vq.contains("  prior_epochs: 5\n"))
    #expect(!vq.contains("latent_size") && !vq.contains("activation"))
    var conv = RunConfig.defaults
    conv.model.name = "beta-vae"
    conv.model.network = "conv"
    #expect(conv.yaml().contains("  network: conv\n  hidden_sizes: [400]\n  activation: relu\n  dense_size: 0\n"))
    #expect(conv.yaml().contains("  beta: 1.0\n"))
}

@Test func documentedYAMLCommentsEachModelSetting() throws {
    let text = try ConfigLoader.load("beta-vae").yaml(documented: true)
    let betaLine = try #require(text.split(separator: "\n").first { $0.hasPrefix("  beta: ") })
    #expect(betaLine.hasSuffix("# " + BetaObjective.beta.doc))
    #expect(try ConfigLoader.parse(text, source: "documented") == ConfigLoader.load("beta-vae"))
}

@Test func settingOfAnotherModelIsAnErrorInAConfigAndSkippedInAnOldRun() throws {
    // Runs written before each setting had one owner listed every model's keys in their config.yaml.
    let old = nameLine + "  hidden_sizes: [64]\n  latent_size: 8\n  codebook_size: 512\n  temperature: 1.0\n"
    let message = try parseFailure(old)
    #expect(message.hasPrefix("configs/x.yaml: model_params.codebook_size (line 5): model 'mlp' (network mlp) does not read it (vq-vae does); its settings are hidden_sizes, activation, "))
    let config = try ConfigLoader.parse(old, source: "runs/old/config.yaml", keysOfOtherModels: .ignore)
    #expect(config.model.settings == ["hidden_sizes": [64], "latent_size": 8])
    // Keys nobody declares stay errors either way.
    #expect(throws: ConfigError.self) {
        try ConfigLoader.parse(nameLine + "  laten_size: 3\n", source: "x", keysOfOtherModels: .ignore)
    }
}

@Test func settingsAreCheckedAgainstTheModelNamedAnywhereInTheSection() throws {
    // name after the settings: still read first.
    let config = try ConfigLoader.parse("model_params:\n  beta: 4\n  name: beta-vae\n", source: "x.yaml")
    #expect(config.model[BetaObjective.beta] == 4)
    let message = try parseFailure("model_params:\n  codebook_size: 4\n")
    #expect(message == "configs/x.yaml: missing required key 'model_params.name' (the model to build, e.g. 'mlp')")
    let unknown = try parseFailure("model_params:\n  name: betavae\n")
    #expect(unknown.hasPrefix("configs/x.yaml: model_params.name: unknown model 'betavae'; expected one of mlp, "))
    #expect(unknown.hasSuffix("did you mean 'beta-vae'? (line 2)"))
}

// MARK: - Unknown keys and sections

@Test func unknownKeySuggestsNearest() throws {
    let message = try parseFailure(nameLine + "  hidden_sizes: [400]\n  laten_size: 3\n")
    #expect(message == "configs/x.yaml: unknown key 'model_params.laten_size' (line 4); did you mean 'latent_size'?")
}

@Test func unknownKeyWithoutNearMatchListsTheSection() throws {
    let message = try parseFailure(nameLine + "  colour: blue\n")
    #expect(message.hasPrefix("configs/x.yaml: unknown key 'model_params.colour' (line 3); expected one of name, "))
    #expect(!message.contains("did you mean"))
}

@Test func keyInTheWrongSectionNamesItsHome() throws {
    let message = try parseFailure(nameLine + "trainer_params:\n  learning_rate: 0.01\n")
    #expect(message == "configs/x.yaml: unknown key 'trainer_params.learning_rate' (line 4); 'learning_rate' belongs in 'exp_params'")
}

@Test func unknownSectionSuggestsSections() throws {
    let message = try parseFailure(nameLine + "trainer_param:\n  epochs: 3\n")
    #expect(message == "configs/x.yaml: unknown section 'trainer_param' (line 3); did you mean 'trainer_params'?")

    let flat = try parseFailure(nameLine + "epochs: 3\n")
    #expect(flat == "configs/x.yaml: unknown section 'epochs' (line 3); 'epochs' belongs under 'trainer_params'")
}

@Test func duplicateKeyIsAnError() throws {
    let message = try parseFailure(nameLine + "  latent_size: 2\n  latent_size: 3\n")
    #expect(message == "configs/x.yaml: duplicate key 'model_params.latent_size' (line 4); first given on line 3")
}

// MARK: - Types

@Test func wrongTypeNamesFieldLineAndValue() throws {
    let text = nameLine + "exp_params:\n  learning_rate: fast\n"
    #expect(try parseFailure(text) == "configs/x.yaml: exp_params.learning_rate: expected a number, got 'fast' (line 4)")
}

@Test func quotedNumberIsAString() throws {
    let message = try parseFailure(nameLine + "  latent_size: \"20\"\n")
    #expect(message == "configs/x.yaml: model_params.latent_size: expected an integer, got the string \"20\" (line 3)")
}

@Test func integerGivenAsFloat() throws {
    let fractional = try parseFailure(nameLine + "trainer_params:\n  epochs: 10.5\n")
    #expect(fractional == "configs/x.yaml: trainer_params.epochs: expected an integer, got '10.5' (line 4)")

    let whole = try ConfigLoader.parse(nameLine + "trainer_params:\n  epochs: 10.0\n  threads: 1e1\n", source: "x")
    #expect(whole.trainer.epochs == 10)
    #expect(whole.trainer.threads == 10)
}

@Test func booleansMustBeYAMLBooleans() throws {
    let number = try parseFailure(nameLine + "data_params:\n  binarize: 1\n")
    #expect(number == "configs/x.yaml: data_params.binarize: expected a boolean (true or false), got '1' (line 4)")

    let quoted = try parseFailure(nameLine + "data_params:\n  binarize: \"true\"\n")
    #expect(quoted.contains("data_params.binarize: expected a boolean (true or false), got the string \"true\""))

    #expect(try ConfigLoader.parse(nameLine + "data_params:\n  binarize: true\n", source: "x").data.binarize)

    // Data-parallel steps are on by default; `data_parallel: false` keeps one tape per batch.
    #expect(RunConfig.defaults.trainer.dataParallel)
    #expect(try !ConfigLoader.parse(nameLine + "trainer_params:\n  data_parallel: false\n", source: "x").trainer.dataParallel)
    let wrong = try parseFailure(nameLine + "trainer_params:\n  data_parallel: 2\n")
    #expect(wrong == "configs/x.yaml: trainer_params.data_parallel: expected a boolean (true or false), got '2' (line 4)")
}

@Test func listElementsAreCheckedWithTheirLine() throws {
    let text = nameLine + "  hidden_sizes:\n    - 400\n    - wide\n"
    #expect(try parseFailure(text) == "configs/x.yaml: model_params.hidden_sizes[1]: expected an integer, got 'wide' (line 5)")

    let scalar = try parseFailure(nameLine + "  hidden_sizes: 400\n")
    #expect(scalar == "configs/x.yaml: model_params.hidden_sizes: expected a list of integers, got '400' (line 3)")
}

@Test func missingValueIsNotAString() throws {
    let message = try parseFailure("model_params:\n  name:\n")
    #expect(message == "configs/x.yaml: model_params.name: expected a string, got no value (line 2)")
}

@Test func seedCoversUInt64() throws {
    let largest = try ConfigLoader.parse(nameLine + "exp_params:\n  seed: 18446744073709551615\n", source: "x")
    #expect(largest.experiment.seed == UInt64.max)

    let negative = try parseFailure(nameLine + "exp_params:\n  seed: -1\n")
    #expect(negative == "configs/x.yaml: exp_params.seed: expected an integer from 0 to 18446744073709551615, got '-1' (line 4)")
}

// MARK: - Ranges

@Test func outOfRangeInFileNamesFieldAndLine() throws {
    let message = try parseFailure(nameLine + "trainer_params:\n  threads: 2\n  epochs: -3\n")
    #expect(message == "configs/x.yaml: trainer_params.epochs: expected an integer from 1 to 100000, got -3 (line 5)")
}

@Test func validateNamesTheField() throws {
    #expect(try validationFailure { $0.trainer.epochs = -3 }
        == "trainer_params.epochs: expected an integer from 1 to 100000, got -3")
    #expect(try validationFailure { $0.trainer.epochs = 0 }
        == "trainer_params.epochs: expected an integer from 1 to 100000, got 0")
    #expect(try validationFailure { $0.model[GaussianLatent.latentSize] = 4097 }
        == "model_params.latent_size: expected an integer from 0 to 4096, got 4097")
    #expect(try validationFailure { $0.model[NetworkSettings.hiddenSizes] = [] }
        == "model_params.hidden_sizes: expected a list of at least one integer, got []")
    #expect(try validationFailure { $0.model[NetworkSettings.hiddenSizes] = [400, 0] }
        == "model_params.hidden_sizes[1]: expected an integer from 1 to 65536, got 0")
    #expect(try validationFailure { $0.model.name = "" }
        == "model_params.name: expected a non-empty string, got ''")
    #expect(try validationFailure { $0.model[NetworkSettings.activation] = "gelu" }
        == "model_params.activation: expected one of relu, leaky_relu, tanh, sigmoid, softplus, got 'gelu'; did you mean 'relu'?")
    #expect(try validationFailure { $0.model[ObservationModel.likelihood] = "poisson" }
        == "model_params.likelihood: expected one of bernoulli, gaussian, got 'poisson'")
    #expect(try validationFailure { $0.model[ObservationModel.variance] = 0 }.hasPrefix("model_params.likelihood_variance: "))
    #expect(try validationFailure { $0.data.format = "zip" }
        == "data_params.format: expected one of auto, idx, folder, text, got 'zip'")
    #expect(try validationFailure { $0.data.imageSize = -1 }.hasPrefix("data_params.image_size: "))
    #expect(try validationFailure { $0.data.batchSize = 0 }
        == "data_params.batch_size: expected an integer from 1 to 65536, got 0")
    #expect(try validationFailure { $0.data.trainLimit = -1 }
        == "data_params.train_limit: expected an integer >= 0, got -1")
    #expect(try validationFailure { $0.experiment.optimizer = "adamx" }
        == "exp_params.optimizer: expected one of adam, adamw, sgd, adagrad, got 'adamx'; did you mean 'adam'?")
    #expect(try validationFailure { $0.experiment.learningRate = 0 }
        == "exp_params.learning_rate: expected a number in (0, 10], got 0")
    #expect(try validationFailure { $0.experiment.learningRate = 11 }
        == "exp_params.learning_rate: expected a number in (0, 10], got 11")
    #expect(try validationFailure { $0.experiment.learningRate = .nan }
        == "exp_params.learning_rate: expected a number in (0, 10], got nan")
    #expect(try validationFailure { $0.experiment.weightDecay = -0.5 }
        == "exp_params.weight_decay: expected a finite number >= 0, got -0.5")
    #expect(try validationFailure { $0.experiment.momentum = 1 }
        == "exp_params.momentum: expected a number in [0, 1), got 1")
    #expect(try validationFailure { $0.experiment.beta2 = -0.1 }
        == "exp_params.beta2: expected a number in [0, 1), got -0.1")
    #expect(try validationFailure { $0.experiment.gradientClipNorm = .infinity }
        == "exp_params.gradient_clip_norm: expected a finite number >= 0, got inf")
    #expect(try validationFailure { $0.trainer.runName = "my run" }
        == "trainer_params.run_name: expected a name of letters, digits, '.', '_' and '-' (not '.' or '..'), got 'my run'")
    #expect(try validationFailure { $0.trainer.runName = ".." }.hasPrefix("trainer_params.run_name: "))
    #expect(try validationFailure { $0.trainer.threads = 257 }
        == "trainer_params.threads: expected an integer from 1 to 256, got 257")
    #expect(try validationFailure { $0.trainer.pictureCount = 0 }
        == "trainer_params.picture_count: expected an integer from 1 to 1024, got 0")
}

@Test func validateReportsTheFirstFieldInFileOrder() throws {
    let message = try validationFailure {
        $0.trainer.epochs = 0
        $0.model[GaussianLatent.latentSize] = -1
    }
    #expect(message.hasPrefix("model_params.latent_size: "))
}

// MARK: - Loading by name or path

@Test func unknownBuiltInSuggestsNearest() throws {
    // Every shipped config is listed, sorted, and each is a registered model's.
    let builtIn = ConfigLoader.builtInNames
    #expect(builtIn == builtIn.sorted() && builtIn.contains("mlp") && builtIn.contains("conv64"))
    #expect(builtIn.allSatisfy { (try? ConfigLoader.load($0).model.name).map(ModelRegistry.names.contains) == true })
    let list = builtIn.joined(separator: ", ")
    let error = try #require(throws: ConfigError.self) { try ConfigLoader.load("mlpp") }
    #expect(error.message == "unknown config 'mlpp': not a built-in (\(list)) and no such file; did you mean 'mlp'?")

    let far = try #require(throws: ConfigError.self) { try ConfigLoader.load("transformer") }
    #expect(far.message == "unknown config 'transformer': not a built-in (\(list)) and no such file")
}

@Test func missingFileIsNamed() throws {
    let nested = try #require(throws: ConfigError.self) { try ConfigLoader.load("configs/missing.yaml") }
    #expect(nested.message == "configs/missing.yaml: no such file")

    let bare = try #require(throws: ConfigError.self) { try ConfigLoader.load("missing-\(UUID().uuidString).yml") }
    #expect(bare.message.hasSuffix(".yml: no such file"))
}

@Test func directoryIsNotAConfig() throws {
    let directory = try temporaryDirectory()
    defer { removeDirectory(directory.path) }
    let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(directory.path) }
    #expect(error.message == "\(directory.path): is a directory, not a YAML file")
}

// MARK: - Document shape

@Test func invalidYAMLIsOneLineWithPosition() throws {
    let message = try parseFailure("model_params:\n  name: mlp\n  hidden_sizes: [400\n  latent_size: 3\n")
    #expect(message.hasPrefix("configs/x.yaml: invalid YAML at line "))
    #expect(message.contains("column"))

    let tabs = try parseFailure("model_params:\n\tname: mlp\n")
    #expect(tabs.hasPrefix("configs/x.yaml: invalid YAML at line 2"))
}

@Test func topLevelMustBeAMapping() throws {
    let message = try parseFailure("- model_params\n- data_params\n")
    #expect(message == "configs/x.yaml: expected a mapping of sections (model_params, data_params, exp_params, trainer_params) at the top level, got a list (line 1)")
}

@Test func sectionsMustBeMappings() throws {
    let message = try parseFailure(nameLine + "exp_params: adam\n")
    #expect(message == "configs/x.yaml: exp_params: expected a mapping of keys, got 'adam' (line 3)")
}

@Test func modelNameIsRequired() throws {
    let message = try parseFailure("trainer_params:\n  epochs: 3\n")
    #expect(message == "configs/x.yaml: missing required key 'model_params.name' (the model to build, e.g. 'mlp')")
    #expect(try parseFailure("# nothing but a comment\n").contains("missing required key 'model_params.name'"))
}

// MARK: - Suggestions

@Test func levenshteinDistance() {
    #expect(Suggestion.levenshteinDistance("", "abc") == 3)
    #expect(Suggestion.levenshteinDistance("kitten", "sitting") == 3)
    #expect(Suggestion.levenshteinDistance("laten_size", "latent_size") == 1)
    #expect(Suggestion.levenshteinDistance("same", "same") == 0)
}

@Test func suggestionNeedsToBeClose() {
    #expect(Suggestion.nearest(to: "mlpp", among: ["mlp"]) == "mlp")
    #expect(Suggestion.nearest(to: "cnn", among: ["mlp"]) == nil)          // distance 3 > max(2, 1)
    // A long word tolerates more edits: max(2, 15 / 3) = 5.
    #expect(Suggestion.nearest(to: "gradientclipnrm", among: ["gradient_clip_norm"]) == "gradient_clip_norm")
}
