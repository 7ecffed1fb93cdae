import VAEModels

/// Everything a training run needs, in the four PyTorch-VAE sections of a YAML config file.
///
/// Swift properties mirror the YAML keys (`latent_size` → `latentSize`, `data_dir` → `dataDirectory`). A file's keys
/// overlay ``defaults`` (the built-in `mlp` config); see ``ConfigLoader``.
///
///     var config = try ConfigLoader.load("mlp")
///     config.trainer.epochs = 2          // e.g. from a command-line flag
///     try config.validate()              // "trainer_params.epochs: expected an integer from 1 to 100000, got 0"
///     print(config.yaml())               // the resolved config, ready to store next to the run
public struct RunConfig: Equatable, Sendable {
    /// `model_params`: which model to build, with which network, and the values of its settings.
    public struct Model: Equatable, Sendable {
        /// Model registry name (`name`), e.g. `mlp`; one of `ModelRegistry/names`.
        public var name: String
        /// Network family (`network`): `mlp`, `conv` or `conv64`; empty for the model's own (its recipe's default).
        public var network: String
        /// Every other `model_params` key: the settings the model's parts declare (`SettingCatalog`), e.g.
        /// `config.model[BetaObjective.beta] = 4` or `config.model.settings["hidden_sizes"] = [512, 256]`.
        public var settings: ModelSettings

        public init(name: String = "mlp", network: String = "", settings: ModelSettings = [:]) {
            self.name = name
            self.network = network
            self.settings = settings
        }

        public subscript<Value>(_ setting: Setting<Value>) -> Value {
            get { settings[setting] }
            set { settings[setting] = newValue }
        }

        /// The settings the model reads with its network, in `config.yaml` order; nil for an unknown model or
        /// an impossible pairing.
        public var declarations: [SettingDeclaration]? {
            try? ModelRegistry.recipe(name)?.settings(network: network)
        }
    }

    /// `data_params`: where the images come from and how they are batched.
    public struct Data: Equatable, Sendable {
        /// Free label used in reports (`dataset`).
        public var dataset: String
        /// Directory holding the IDX files (`data_dir`).
        public var dataDirectory: String
        /// Training mini-batch size (`batch_size`), 1...65536.
        public var batchSize: Int
        /// Evaluation batch size (`test_batch_size`), 1...65536.
        public var testBatchSize: Int
        /// Dynamic binarisation (`binarize`): each epoch draws pixels as Bernoulli(intensity).
        public var binarize: Bool
        /// Use only the first N training images (`train_limit`); 0 means all.
        public var trainLimit: Int
        /// Use only the first N test images (`test_limit`); 0 means all.
        public var testLimit: Int
        /// Where examples come from (`format`): `idx`, `folder` (PNG/JPEG files), `auto` (IDX files if present) or
        /// `text` (sentences, one per line: a file, a directory of train/valid/test files, or WordNet's directory).
        public var format: String
        /// Whether the examples are sentences (`format: text`).
        public var isText: Bool { format == "text" }
        /// Centre-crop and resize images to this square size (`image_size`); 0 keeps the native size.
        public var imageSize: Int
        /// Convert images to 1 (grey) or 3 (RGB) channels (`channels`); 0 keeps the native count.
        public var channels: Int
        /// Mirror training images left–right with probability ½ (`horizontal_flip`).
        public var horizontalFlip: Bool
        /// Text: the vocabulary's size cap, the four special tokens included (`max_vocabulary`).
        public var maximumVocabulary: Int
        /// Text: the longest sentence kept, in tokens (`max_length`).
        public var maximumLength: Int
        /// Text: what happens to a longer sentence (`long_sentences`): `drop` or `cut`.
        public var longSentences: String

        public init(
            dataset: String = "fashion-mnist", dataDirectory: String = "/usr/share/datasets/fashion-mnist",
            batchSize: Int = 128, testBatchSize: Int = 1000, binarize: Bool = false,
            trainLimit: Int = 0, testLimit: Int = 0, format: String = "auto", imageSize: Int = 0, channels: Int = 0,
            horizontalFlip: Bool = false, maximumVocabulary: Int = 20_000, maximumLength: Int = 40,
            longSentences: String = "drop"
        ) {
            self.maximumVocabulary = maximumVocabulary
            self.maximumLength = maximumLength
            self.longSentences = longSentences
            self.format = format
            self.imageSize = imageSize
            self.channels = channels
            self.horizontalFlip = horizontalFlip
            self.dataset = dataset
            self.dataDirectory = dataDirectory
            self.batchSize = batchSize
            self.testBatchSize = testBatchSize
            self.binarize = binarize
            self.trainLimit = trainLimit
            self.testLimit = testLimit
        }
    }

    /// `exp_params`: optimiser and randomness.
    public struct Experiment: Equatable, Sendable {
        /// Optimiser name (`optimizer`), a ``RunConfig/Optimizer`` raw value.
        public var optimizer: String
        /// Step size (`learning_rate`), in (0, 10].
        public var learningRate: Double
        /// L2 penalty, or decoupled decay for AdamW (`weight_decay`), >= 0.
        public var weightDecay: Double
        /// SGD momentum (`momentum`), in [0, 1).
        public var momentum: Double
        /// Adam's first-moment decay (`beta1`), in [0, 1).
        public var beta1: Double
        /// Adam's second-moment decay (`beta2`), in [0, 1).
        public var beta2: Double
        /// Clip the global gradient norm to this (`gradient_clip_norm`); 0 turns clipping off.
        public var gradientClipNorm: Double
        /// Seed of every random stream in the run (`seed`).
        public var seed: UInt64

        public init(
            optimizer: String = Optimizer.adam.rawValue, learningRate: Double = 0.001, weightDecay: Double = 0,
            momentum: Double = 0.9, beta1: Double = 0.9, beta2: Double = 0.999, gradientClipNorm: Double = 0,
            seed: UInt64 = 0
        ) {
            self.optimizer = optimizer
            self.learningRate = learningRate
            self.weightDecay = weightDecay
            self.momentum = momentum
            self.beta1 = beta1
            self.beta2 = beta2
            self.gradientClipNorm = gradientClipNorm
            self.seed = seed
        }
    }

    /// `trainer_params`: how long to train and where the results go.
    public struct Trainer: Equatable, Sendable {
        /// Passes over the training set (`epochs`), 1...100000.
        public var epochs: Int
        /// Directory name under ``outputDirectory`` (`run_name`): letters, digits, `.`, `_` and `-` only.
        public var runName: String
        /// Parent directory of all runs (`output_dir`).
        public var outputDirectory: String
        /// Threads (`threads`), 1...256: the BLAS's, and the shards of a data-parallel step.
        public var threads: Int
        /// Where the tensors live (`device`): `cpu` (BLAS and VAEKit's C kernels) or `cuda` (an NVIDIA GPU, through
        /// libraries loaded at run time; `vae devices` says what this machine has).
        public var device: String
        /// On `cuda`, run the GEMMs (linear layers and convolutions) in TF32 on the tensor cores (`tf32`, default
        /// false: FP32): inputs rounded to 10 bits of mantissa, several times the FP32 rate on Ampere and Hopper,
        /// what PyTorch's convolutions do by default. The CPU's products are FP32 either way.
        public var tf32: Bool
        /// Split each batch (and the test-set evaluation) into one shard of rows per thread for models whose loss
        /// is a row mean (`data_parallel`, default true); false keeps every batch on one tape with the BLAS
        /// threaded, as runs before data-parallel steps did (their results are reproduced exactly).
        public var dataParallel: Bool
        /// Threads the batches and the evaluation are split over: `threads` with `data_parallel`, else 1.
        public var shardThreads: Int { dataParallel ? threads : 1 }
        /// Number of samples drawn into samples.png (`picture_count`), 1...1024.
        public var pictureCount: Int
        /// Also write the pictures every N epochs into `pictures/epoch-NNNN/` (`picture_every`); 0 = only at the end.
        public var pictureEvery: Int
        /// Also write TensorBoard event files into the run directory (`tensorboard`, default true).
        public var tensorboard: Bool

        public init(
            epochs: Int = 10, runName: String = "mlp", outputDirectory: String = "runs", threads: Int = 2,
            pictureCount: Int = 64, pictureEvery: Int = 0, dataParallel: Bool = true, tensorboard: Bool = true,
            device: String = "cpu", tf32: Bool = false
        ) {
            self.device = device
            self.tf32 = tf32
            self.epochs = epochs
            self.runName = runName
            self.outputDirectory = outputDirectory
            self.threads = threads
            self.dataParallel = dataParallel
            self.pictureCount = pictureCount
            self.pictureEvery = pictureEvery
            self.tensorboard = tensorboard
        }
    }

    /// Optimisers a config may name.
    public enum Optimizer: String, CaseIterable, Sendable {
        case adam
        case adamw
        case sgd
        case adagrad
    }

    /// `model_params`.
    public var model: Model
    /// `data_params`.
    public var data: Data
    /// `exp_params`.
    public var experiment: Experiment
    /// `trainer_params`.
    public var trainer: Trainer

    public init(
        model: Model = Model(), data: Data = Data(), experiment: Experiment = Experiment(), trainer: Trainer = Trainer()
    ) {
        self.model = model
        self.data = data
        self.experiment = experiment
        self.trainer = trainer
    }

    /// The built-in `mlp` config: Kingma & Welling's Gaussian VAE, 784-400-20, ReLU, Bernoulli decoder, Adam 1e-3,
    /// batch 128. A test checks that `Configs/mlp.yaml` parses to exactly this.
    public static let defaults = RunConfig()

    /// Checks every field's range, in file order, and throws a ``ConfigError`` naming the first bad one:
    /// `"trainer_params.epochs: expected an integer from 1 to 100000, got -3"`.
    ///
    /// ``ConfigLoader`` already checks each key it reads; call this after changing fields in code.
    public func validate() throws {
        for section in ConfigField.sections {
            for field in ConfigField.all where field.section == section {
                if let problem = field.check(self) {
                    throw ConfigError("\(field.path)\(problem.elementSuffix): \(problem.message)")
                }
            }
            guard section == "model_params" else { continue }
            do {
                try ModelRegistry.check(ModelSpecification(name: model.name, network: model.network, inputShape: [],
                                                           settings: model.settings))
            } catch let error as ModelError {
                throw ConfigError(error.description)
            }
        }
    }

    /// The whole resolved config as YAML, in the documented section and key order: every key of the data,
    /// experiment and trainer sections, and the model's name, its network when set, and each of its settings.
    ///
    /// `ConfigLoader.parse(config.yaml(), source: …) == config` for every valid config.
    ///
    /// `documented` adds each model setting's one-line doc as a comment (what `vae configs NAME` prints).
    public func yaml(documented: Bool = false) -> String {
        var lines: [String] = []
        for section in ConfigField.sections {
            if !lines.isEmpty { lines.append("") }
            lines.append("\(section):")
            // An empty `network` (the model's own) is left out: it reads back as the same.
            var fields = ConfigField.all.filter { $0.section == section && !($0.key == "network" && model.network.isEmpty) }
            if section == "model_params" {
                // An invalid config (unknown model) still shows the settings it holds.
                let declarations = model.declarations ?? model.settings.keys.compactMap(SettingCatalog.declaration)
                fields += declarations.map(ConfigField.setting)
            }
            let docs = documented ? Dictionary(SettingCatalog.all.map { ($0.key, $0.doc) }) { first, _ in first } : [:]
            let width = fields.map { $0.key.count + $0.render(self).count }.max() ?? 0
            for field in fields {
                let line = "  \(field.key): \(field.render(self))"
                guard section == "model_params", let doc = docs[field.key] else { lines.append(line); continue }
                lines.append(line.padding(toLength: width + 5, withPad: " ", startingAt: 0) + "# " + doc)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension RunConfig.Model {
    /// True for a conditional model whose `class_count` is 0: its classes are counted from a run's labels (and a
    /// bench, which has none, takes Fashion-MNIST's 10).
    public var countsClassesFromLabels: Bool {
        self[ComposedVAE.classCount] == 0 && ModelRegistry.recipe(name)?.conditional == true
    }
}
