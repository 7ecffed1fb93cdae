import VAENN
import VAETensor

extension NetworkFamily {
    /// `mlp`: fully connected layers of `hidden_sizes` with `activation` between them, the decoder mirroring the
    /// encoder (784-400-20-400-784 in the default config), with `batch_norm` between each hidden layer and its
    /// activation. A condition is appended to the encoder's input.
    public static let mlp = NetworkFamily(
        name: "mlp", summary: "fully connected layers of hidden_sizes; the decoder mirrors them", settings: NetworkSettings.shared + [NetworkSettings.batchNorm.declaration],
        makeEncoder: { specification, conditionSize, random in
            MLPEncoder(specification, conditionSize: conditionSize, random: &random)
        },
        makeDecoder: { specification, codeSize, random in
            MLPDecoder(specification, codeSize: codeSize, random: &random)
        })
}

/// x (+ condition) → hidden, every layer followed by the activation. Checkpoint names: `encoder.layers.N`.
final class MLPEncoder: Module, EncoderNetwork {
    let encoder: MLP
    let featureSize: Int
    override var namesItsChildren: Bool { false }

    init(_ specification: ModelSpecification, conditionSize: Int, random: inout RandomStream) {
        let hidden = specification.hiddenSizes
        encoder = MLP(sizes: [specification.inputSize + conditionSize] + hidden, activation: specification.activation,
                      activatesOutput: true, batchNorm: specification.batchNorm, random: &random)
        featureSize = hidden.last!
        super.init()
    }

    func features(_ input: Tensor, condition: Tensor?) -> Tensor {
        encoder(condition.map { Tensor.concatenate([input, $0], alongAxis: 1) } ?? input)
    }
}

/// code → hidden (mirrored) → the decoder's output, no activation after the last layer. Names: `decoder.layers.N`.
final class MLPDecoder: Module, DecoderNetwork {
    let decoder: MLP
    override var namesItsChildren: Bool { false }

    init(_ specification: ModelSpecification, codeSize: Int, random: inout RandomStream) {
        decoder = MLP(sizes: [codeSize] + specification.hiddenSizes.reversed() + [specification.inputSize],
                      activation: specification.activation, batchNorm: specification.batchNorm, random: &random)
        super.init()
    }

    func output(_ code: Tensor) -> Tensor { decoder(code) }
}
