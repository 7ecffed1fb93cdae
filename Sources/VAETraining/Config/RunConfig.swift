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
    /// `model_params`: which model to build and its shape.
    public struct Model: Equatable, Sendable {
        /// Model registry name (`name`), e.g. `mlp`; the trainer checks that it exists.
        public var name: String
        /// Network family (`network`): `mlp`, `conv` or `conv64`; empty for the model's own (its recipe's default).
        public var network: String = ""
        /// Widths of the hidden layers (`hidden_sizes`), encoder order; each 1...65536, at least one.
        public var hiddenSizes: [Int]
        /// Dimension of the Gaussian latent z (`latent_size`), 0...4096; 0 only for categorical-vae (codes alone).
        public var latentSize: Int
        /// Hidden-layer nonlinearity (`activation`), a ``RunConfig/Activation`` raw value.
        public var activation: String
        /// Decoder distribution p(x|z) (`likelihood`), a ``RunConfig/Likelihood`` raw value.
        public var likelihood: String
        /// Width of the dense layer between the conv stack and the latent heads (`dense_size`); 0 = none.
        public var denseSize: Int
        /// σ² of a Gaussian decoder (`likelihood_variance`): fixed, or the starting value when learned.
        public var likelihoodVariance: Double
        /// Learn the Gaussian decoder's log-variance (one scalar) with the weights (`learn_variance`).
        public var learnVariance: Bool
        /// β-VAE's KL weight (`beta`), >= 0; 1 is the plain ELBO.
        public var beta: Double = 1
        /// β-VAE capacity objective γ·|KL − C| (Burgess et al. 2018): target C_max in nats (`capacity_max`), >= 0;
        /// 0 keeps the β objective.
        public var capacityMax: Double = 0
        /// Optimiser steps over which C grows linearly from 0 to C_max (`capacity_steps`); 0 = C_max throughout.
        public var capacitySteps: Int = 0
        /// Weight γ of the capacity term (`gamma`), >= 0.
        public var gamma: Double = 1000
        /// Importance samples K of iwae/miwae (`importance_samples`), 1...100000.
        public var importanceSamples: Int = 1
        /// Groups M of miwae, each an IWAE_K bound, averaged (`importance_groups`), 1...10000; iwae needs 1.
        public var importanceGroups: Int = 1
        /// Classes a conditional model (cvae) takes as one-hot labels (`class_count`); 0 = one more than the
        /// largest training label.
        public var classCount: Int = 0
        /// Categorical latent variables N of categorical-vae and joint-vae (`categorical_size`), 0...4096.
        public var categoricalSize: Int = 0
        /// Classes K of each categorical latent variable (`categories`), 2...4096.
        public var categories: Int = 10
        /// Gumbel-Softmax temperature τ₀ at step 0 (`temperature`), > 0.
        public var temperature: Double = 1
        /// Lowest annealed temperature τ_min (`temperature_min`), > 0.
        public var temperatureMinimum: Double = 0.5
        /// Annealing rate r of τ = max(τ_min, τ₀·exp(−r·step)) (`temperature_rate`), >= 0.
        public var temperatureRate: Double = 3e-5
        /// Straight-through Gumbel-Softmax: one-hot samples forward, relaxed gradients backward (`hard`).
        public var hard: Bool = false
        /// joint-vae's target KL of the discrete latents in nats (`discrete_capacity_max`), >= 0.
        public var discreteCapacityMax: Double = 0
        /// Optimiser steps over which the discrete capacity grows (`discrete_capacity_steps`); 0 = from the start.
        public var discreteCapacitySteps: Int = 0
        /// vq-vae codebook entries K (`codebook_size`), 1...65536.
        public var codebookSize: Int = 512
        /// vq-vae code vector width D (`code_size`), 1...4096.
        public var codeSize: Int = 64
        /// vq-vae commitment weight β (`commitment`), >= 0.
        public var commitment: Double = 0.25
        /// vq-vae EMA decay of the codebook (`ema_decay`), 0 ≤ γ < 1; 0 learns the codebook by its loss instead.
        public var emaDecay: Double = 0
        /// Epochs of fitting the prior over codes after training (`prior_epochs`), 0...100000.
        public var priorEpochs: Int = 10

        public init(
            name: String = "mlp", hiddenSizes: [Int] = [400], latentSize: Int = 20,
            activation: String = Activation.relu.rawValue, likelihood: String = Likelihood.bernoulli.rawValue,
            denseSize: Int = 0, likelihoodVariance: Double = 1, learnVariance: Bool = false
        ) {
            self.denseSize = denseSize
            self.likelihoodVariance = likelihoodVariance
            self.learnVariance = learnVariance
            self.name = name
            self.hiddenSizes = hiddenSizes
            self.latentSize = latentSize
            self.activation = activation
            self.likelihood = likelihood
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
        /// Where images come from (`format`): `idx`, `folder` (PNG/JPEG files) or `auto` (IDX files if present).
        public var format: String
        /// Centre-crop and resize images to this square size (`image_size`); 0 keeps the native size.
        public var imageSize: Int
        /// Convert images to 1 (grey) or 3 (RGB) channels (`channels`); 0 keeps the native count.
        public var channels: Int
        /// Mirror training images left–right with probability ½ (`horizontal_flip`).
        public var horizontalFlip: Bool

        public init(
            dataset: String = "fashion-mnist", dataDirectory: String = "/usr/share/datasets/fashion-mnist",
            batchSize: Int = 128, testBatchSize: Int = 1000, binarize: Bool = false,
            trainLimit: Int = 0, testLimit: Int = 0, format: String = "auto", imageSize: Int = 0, channels: Int = 0,
            horizontalFlip: Bool = false
        ) {
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

        public init(
            epochs: Int = 10, runName: String = "mlp", outputDirectory: String = "runs", threads: Int = 2,
            pictureCount: Int = 64, pictureEvery: Int = 0, dataParallel: Bool = true
        ) {
            self.epochs = epochs
            self.runName = runName
            self.outputDirectory = outputDirectory
            self.threads = threads
            self.dataParallel = dataParallel
            self.pictureCount = pictureCount
            self.pictureEvery = pictureEvery
        }
    }

    /// Hidden-layer nonlinearities a config may name.
    public enum Activation: String, CaseIterable, Sendable {
        case relu
        case leakyReLU = "leaky_relu"
        case tanh
        case sigmoid
        case softplus
    }

    /// Decoder distributions p(x|z) a config may name.
    public enum Likelihood: String, CaseIterable, Sendable {
        /// Independent Bernoulli pixels; the decoder outputs logits.
        case bernoulli
        /// Independent Gaussian pixels with one variance (fixed, or learned); the decoder outputs means.
        case gaussian
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
        for field in ConfigField.all {
            if let problem = field.check(self) {
                throw ConfigError("\(field.path)\(problem.elementSuffix): \(problem.message)")
            }
        }
    }

    /// The whole resolved config as YAML, every key present, in the documented section and key order.
    ///
    /// `ConfigLoader.parse(config.yaml(), source: …) == config` for every valid config.
    public func yaml() -> String {
        var lines: [String] = []
        for section in ConfigField.sections {
            if !lines.isEmpty { lines.append("") }
            lines.append("\(section):")
            // An empty `network` (the model's own) is left out: it reads back as the same.
            for field in ConfigField.all where field.section == section && !(field.key == "network" && model.network.isEmpty) {
                lines.append("  \(field.key): \(field.render(self))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
