import VAENN

/// Everything needed to build a model: the `model_params` of a config plus the data's shape.
///
///     let specification = ModelSpecification(name: "beta-vae", network: "conv", inputShape: [1, 28, 28],
///                                             settings: ["hidden_sizes": [32, 64], "latent_size": 16, "beta": 4])
///     let model = try ModelRegistry.make(specification, random: &random)
public struct ModelSpecification: Equatable, Sendable {
    /// The model's registry name (`name`), e.g. `beta-vae`.
    public var name: String
    /// The network family (`network`), e.g. `conv64`; empty for the model's own default.
    public var network: String
    /// Shape of one input, e.g. `[1, 28, 28]`.
    public var inputShape: [Int]
    /// The values of the model's settings; each part declares its own (``SettingCatalog``).
    public var settings: ModelSettings

    public init(name: String, network: String = "", inputShape: [Int], settings: ModelSettings = [:]) {
        self.name = name
        self.network = network
        self.inputShape = inputShape
        self.settings = settings
    }

    /// The value of one of the model's settings.
    public subscript<Value>(_ setting: Setting<Value>) -> Value {
        get { settings[setting] }
        set { settings[setting] = newValue }
    }

    public var inputSize: Int { inputShape.reduce(1, *) }
    /// `(channels, height, width)` of an image input.
    public var imageDimensions: (channels: Int, height: Int, width: Int) {
        inputShape.count == 3 ? (inputShape[0], inputShape[1], inputShape[2]) : (1, 1, inputSize)
    }
}
