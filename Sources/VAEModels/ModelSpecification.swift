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

    public init(name: String, inputShape: [Int], hiddenSizes: [Int], latentSize: Int,
                activation: Activation, likelihood: String) {
        self.name = name
        self.inputShape = inputShape
        self.hiddenSizes = hiddenSizes
        self.latentSize = latentSize
        self.activation = activation
        self.likelihood = likelihood
    }

    public var inputSize: Int { inputShape.reduce(1, *) }
}
