import VAENN

/// Everything needed to build a model: the `model_params` of a config plus the data's shape.
public struct ModelSpecification: Equatable, Sendable {
    public var name: String
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

    public init(name: String, inputShape: [Int], hiddenSizes: [Int], latentSize: Int,
                activation: Activation, likelihood: String, denseSize: Int = 0, likelihoodVariance: Double = 1,
                learnVariance: Bool = false) {
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
