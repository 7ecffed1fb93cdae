import VAENN

/// Everything needed to build a model: the `model_params` of a config plus the data's shape.
public struct ModelSpecification: Equatable, Sendable {
    public var name: String
    /// The network family (`network`), e.g. `conv64`; empty for the model's own default.
    public var network: String
    /// Shape of one input, e.g. `[1, 28, 28]`.
    public var inputShape: [Int]
    public var hiddenSizes: [Int]
    public var latentSize: Int
    public var activation: Activation
    public var likelihood: String
    /// Dense layer between a conv stack and the latent heads; 0 = none.
    public var denseSize: Int
    /// σ² of a Gaussian decoder (fixed, or the initial value when learned).
    public var likelihoodVariance: Double
    public var learnVariance: Bool
    /// Objective settings of the variants; every model ignores those that are not its own.
    public var objective: ObjectiveSettings

    public init(name: String, network: String = "", inputShape: [Int], hiddenSizes: [Int], latentSize: Int,
                activation: Activation, likelihood: String, denseSize: Int = 0, likelihoodVariance: Double = 1,
                learnVariance: Bool = false, objective: ObjectiveSettings = ObjectiveSettings()) {
        self.objective = objective
        self.network = network
        self.denseSize = denseSize
        self.likelihoodVariance = likelihoodVariance
        self.learnVariance = learnVariance
        self.name = name
        self.inputShape = inputShape
        self.hiddenSizes = hiddenSizes
        self.latentSize = latentSize
        self.activation = activation
        self.likelihood = likelihood
    }

    public var inputSize: Int { inputShape.reduce(1, *) }
    /// `(channels, height, width)` of an image input.
    public var imageDimensions: (channels: Int, height: Int, width: Int) {
        inputShape.count == 3 ? (inputShape[0], inputShape[1], inputShape[2]) : (1, 1, inputSize)
    }
}

/// The `model_params` that change a variant's training objective rather than its layers. The defaults make
/// every variant reduce to the plain one-sample ELBO.
public struct ObjectiveSettings: Equatable, Sendable {
    /// β-VAE's KL weight (`beta`, Higgins et al. 2017); 1 is the ELBO.
    public var beta: Double
    /// Burgess et al. 2018: the target KL C_max in nats (`capacity_max`); 0 turns the capacity objective off.
    public var capacityMax: Double
    /// Optimiser steps over which C grows linearly from 0 to C_max (`capacity_steps`); 0 = C_max from the start.
    public var capacitySteps: Int
    /// Weight γ of |KL − C| (`gamma`).
    public var gamma: Double
    /// Importance samples K per group (`importance_samples`, Burda et al. 2016).
    public var importanceSamples: Int
    /// Groups M of K samples whose bounds are averaged (`importance_groups`, Rainforth et al. 2018).
    public var importanceGroups: Int
    /// Classes of a conditional model's labels (`class_count`); 0 = taken from the training labels.
    public var classCount: Int
    /// Categorical latent variables N (`categorical_size`) of K classes each (`categories`).
    public var categoricalSize: Int
    public var categories: Int
    /// Gumbel-Softmax temperature schedule τ = max(τ_min, τ₀·exp(−r·step)) (Jang et al. 2017).
    public var temperature: Double
    public var temperatureMinimum: Double
    public var temperatureRate: Double
    /// Straight-through (hard, one-hot) Gumbel-Softmax samples.
    public var hard: Bool
    /// joint-vae's discrete capacity C_c max in nats and its growth steps (Dupont 2018).
    public var discreteCapacityMax: Double
    public var discreteCapacitySteps: Int
    /// vq-vae: codebook entries K, code width D, commitment β, EMA decay (0 = codebook loss), prior epochs.
    public var codebookSize: Int
    public var codeSize: Int
    public var commitment: Double
    public var emaDecay: Double
    public var priorEpochs: Int

    public init(beta: Double = 1, capacityMax: Double = 0, capacitySteps: Int = 0, gamma: Double = 1000,
                importanceSamples: Int = 1, importanceGroups: Int = 1, classCount: Int = 0,
                categoricalSize: Int = 0, categories: Int = 10, temperature: Double = 1,
                temperatureMinimum: Double = 0.5, temperatureRate: Double = 3e-5, hard: Bool = false,
                discreteCapacityMax: Double = 0, discreteCapacitySteps: Int = 0, codebookSize: Int = 512,
                codeSize: Int = 64, commitment: Double = 0.25, emaDecay: Double = 0, priorEpochs: Int = 10) {
        self.classCount = classCount
        self.categoricalSize = categoricalSize
        self.categories = categories
        self.temperature = temperature
        self.temperatureMinimum = temperatureMinimum
        self.temperatureRate = temperatureRate
        self.hard = hard
        self.discreteCapacityMax = discreteCapacityMax
        self.discreteCapacitySteps = discreteCapacitySteps
        self.codebookSize = codebookSize
        self.codeSize = codeSize
        self.commitment = commitment
        self.emaDecay = emaDecay
        self.priorEpochs = priorEpochs
        self.beta = beta
        self.capacityMax = capacityMax
        self.capacitySteps = capacitySteps
        self.gamma = gamma
        self.importanceSamples = importanceSamples
        self.importanceGroups = importanceGroups
    }
}
