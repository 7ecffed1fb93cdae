import VAENN
import VAETensor

/// The encoder half of a network family: inputs `[batch, features]` (flattened, as datasets hand them out) to a
/// feature vector per row, from which a latent's heads compute the posterior. A conditional model hands a one-hot
/// label per row; each family decides where it enters (an MLP appends it to the input, a conv stack to the
/// features after its last layer).
public protocol EncoderNetwork: Module {
    /// Width of the features ``features(_:condition:)`` returns.
    var featureSize: Int { get }
    func features(_ input: Tensor, condition: Tensor?) -> Tensor
}

/// The decoder half: a code per row (with the one-hot label appended for a conditional model) to the raw
/// decoder output `[batch, features]` that an ``ObservationModel`` turns into p(x|z).
public protocol DecoderNetwork: Module {
    func output(_ code: Tensor) -> Tensor
}

/// A family of encoder/decoder networks (`model_params.network`): how to build each half from a specification.
///
/// The encoder is built first and the decoder last, with the latent's heads in between, so weights are drawn
/// from the "init" stream in the order encoder, heads, decoder.
public struct NetworkFamily: Sendable {
    public let name: String
    /// One line for `vae configs` and the docs.
    public let summary: String
    /// The settings the family reads, in `config.yaml` order.
    public let settings: [SettingDeclaration]
    let makeEncoder: @Sendable (ModelSpecification, _ conditionSize: Int, inout RandomStream) throws -> any EncoderNetwork
    let makeDecoder: @Sendable (ModelSpecification, _ codeSize: Int, inout RandomStream) throws -> any DecoderNetwork

    /// A family of your own (see `Examples/CustomNetwork`): its settings and how to build each half. The encoder
    /// receives the width of a conditional model's one-hot labels (0 otherwise); the decoder the width of the codes.
    public init(name: String, summary: String, settings: [SettingDeclaration] = [],
                makeEncoder: @escaping @Sendable (ModelSpecification, _ conditionSize: Int, inout RandomStream) throws -> any EncoderNetwork,
                makeDecoder: @escaping @Sendable (ModelSpecification, _ codeSize: Int, inout RandomStream) throws -> any DecoderNetwork) {
        self.name = name
        self.summary = summary
        self.settings = settings
        self.makeEncoder = makeEncoder
        self.makeDecoder = makeDecoder
    }

    public func encoder(_ specification: ModelSpecification, conditionSize: Int,
                        random: inout RandomStream) throws -> any EncoderNetwork {
        try makeEncoder(specification, conditionSize, &random)
    }

    /// A decoder taking codes of `codeSize` columns (the latent's code plus any condition).
    public func decoder(_ specification: ModelSpecification, codeSize: Int,
                        random: inout RandomStream) throws -> any DecoderNetwork {
        try makeDecoder(specification, codeSize, &random)
    }

    /// Every network family, by name.
    public static let all: [NetworkFamily] = [.mlp, .conv, .conv64, .burgess]

    public static func named(_ name: String) -> NetworkFamily? { all.first { $0.name == name } }
}

/// The settings every network family reads.
public enum NetworkSettings {
    public static let hiddenSizes = Setting<[Int]>(
        "hidden_sizes", default: [400], .nonEmptyList(1...65536),
        doc: "widths of the hidden layers (channels of the stride-2 convs), encoder order; the decoder mirrors them")
    public static let activation = Setting<String>(
        "activation", default: Activation.relu.rawValue, .oneOf(Activation.allCases.map(\.rawValue)),
        doc: "nonlinearity after each hidden layer")

    public static let batchNorm = Setting<Bool>(
        "batch_norm", default: false,
        doc: "batch normalisation between each hidden layer and its activation (the batch's loss then no longer splits into data-parallel shards)")

    public static let shared = [hiddenSizes.declaration, activation.declaration]
}

extension ModelSpecification {
    var hiddenSizes: [Int] { self[NetworkSettings.hiddenSizes] }
    /// ReLU when the value is not an activation's name (``ModelRegistry/make(_:random:)`` checks it first).
    var activation: Activation { Activation(rawValue: self[NetworkSettings.activation]) ?? .relu }
    /// False when the network does not read `batch_norm`.
    var batchNorm: Bool { self[NetworkSettings.batchNorm] }
}
