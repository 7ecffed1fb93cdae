import VAENN
import VAETensor

extension NetworkFamily {
    /// `conv`, the Keras VAE example's network: Conv(3×3, s2) + activation per width of `hidden_sizes`, an optional
    /// Dense(`dense_size`) + activation; the decoder Dense → reshape, ConvT(s2) + activation back along the widths,
    /// ConvT(3×3, s1) to the image's channels. A condition is appended to the encoder's features.
    public static let conv = NetworkFamily(
        name: "conv", summary: "the Keras example's stride-2 conv stack (+ dense_size), mirrored with transposed convs",
        settings: NetworkSettings.shared + [denseSize.declaration],
        makeEncoder: { specification, conditionSize, random in
            let dense = specification[denseSize]
            return try ConvEncoder(specification, conditionSize: conditionSize, batchNorm: false,
                                   denseSizes: dense > 0 ? [dense] : [], random: &random)
        },
        makeDecoder: { specification, codeSize, random in
            try ConvDecoder(specification, codeSize: codeSize, random: &random)
        })
}

extension NetworkFamily {
    public static let denseSize = Setting<Int>(
        "dense_size", default: 0, .integers(0...65536),
        doc: "width of the dense layer between the conv stack and the latent heads (conv); 0 = none")
}

/// Conv(k×k, s2) [+ BatchNorm] + activation per width of `hidden_sizes`, flattened, then Dense + activation per
/// width of `denseSizes` (`conv`, `conv64` and `burgess` encoders). Names: `encoder.layers.N`.
final class ConvEncoder: Module, EncoderNetwork {
    let encoder: Sequential
    let featureSize: Int
    let inputShape: [Int]
    override var namesItsChildren: Bool { false }

    init(_ specification: ModelSpecification, conditionSize: Int, batchNorm: Bool, denseSizes: [Int],
         kernelSize: Int = 3, random: inout RandomStream) throws {
        let widths = specification.hiddenSizes
        let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
        var layers = ConvBlocks.downsampling(from: specification.imageDimensions.channels, channels: widths,
                                             batchNorm: batchNorm, activation: specification.activation,
                                             kernelSize: kernelSize, random: &random)
        layers.append(Reshape([-1]))
        let sizes = [widths.last! * side * side] + denseSizes
        for (from, to) in zip(sizes, sizes.dropFirst()) {
            layers += [Linear(inputSize: from, outputSize: to, random: &random), ActivationLayer(specification.activation)]
        }
        encoder = Sequential(layers)
        featureSize = sizes.last! + conditionSize
        inputShape = specification.inputShape
        super.init()
    }

    func features(_ input: Tensor, condition: Tensor?) -> Tensor {
        ConvBlocks.appending(condition, to: encoder(input.reshaped([input.shape[0]] + inputShape)))
    }
}

/// Names: `decoder_input.layers.0` (Dense), `decoder.layers.N` (transposed convs).
final class ConvDecoder: Module, DecoderNetwork {
    let decoderInput: Sequential
    let decoder: Sequential
    private let outputSize: Int
    override var namesItsChildren: Bool { false }

    init(_ specification: ModelSpecification, codeSize: Int, random: inout RandomStream) throws {
        let start = try ConvBlocks.DecoderStart(specification, codeSize: codeSize, random: &random)
        let (widths, activation) = (start.widths, start.activation)
        decoderInput = Sequential([start.linear, ActivationLayer(activation), Reshape(start.bottleneck)])
        let reversed = Array(widths.reversed())
        let steps = zip([reversed[0]] + reversed.dropLast(), reversed).map { (from: $0, to: $1) }
        decoder = Sequential(
            ConvBlocks.upsampling(steps, batchNorm: false, activation: activation, random: &random)
            + [ConvTranspose2d(inputChannels: widths[0], outputChannels: specification.imageDimensions.channels,
                               kernelSize: 3, padding: 1, random: &random)])
        outputSize = specification.inputSize
        super.init()
    }

    func output(_ code: Tensor) -> Tensor {
        let image = decoder(decoderInput(code))
        return image.reshaped([code.shape[0], outputSize])
    }
}
