import VAENN
import VAETensor

extension NetworkFamily {
    /// `burgess`, the network of the disentanglement studies (Burgess et al. 2018; Locatello et al. 2019's
    /// disentanglement_lib) for 64×64 images: Conv(4×4, stride 2, padding 1) + activation per width of
    /// `hidden_sizes` (four of 32), flattened, Dense + activation per width of `dense_sizes` (256, 256) to the
    /// latent heads; the decoder Dense along `dense_sizes` reversed and to the conv bottleneck, ConvT(4×4, s2) +
    /// activation back along the widths and a last ConvT(4×4, s2) to the image's channels (logits). A condition is
    /// appended to the encoder's features.
    public static let burgess = NetworkFamily(
        name: "burgess", summary: "4×4 stride-2 convs of hidden_sizes and dense_sizes, mirrored (the disentanglement studies' network)",
        settings: NetworkSettings.shared + [denseSizes.declaration],
        makeEncoder: { specification, conditionSize, random in
            try ConvEncoder(specification, conditionSize: conditionSize, batchNorm: false,
                            denseSizes: specification[denseSizes], kernelSize: 4, random: &random)
        },
        makeDecoder: { specification, codeSize, random in
            try BurgessDecoder(specification, codeSize: codeSize, random: &random)
        })

    public static let denseSizes = Setting<[Int]>(
        "dense_sizes", default: [256, 256], .nonEmptyList(1...65536),
        doc: "widths of the dense layers between the conv stack and the latent heads (burgess); the decoder mirrors them")
}

/// Names: `decoder_input.layers.N` (the dense layers), `decoder.layers.N` (transposed convs).
final class BurgessDecoder: Module, DecoderNetwork {
    let decoderInput: Sequential
    let decoder: Sequential
    private let outputSize: Int
    override var namesItsChildren: Bool { false }

    init(_ specification: ModelSpecification, codeSize: Int, random: inout RandomStream) throws {
        let widths = specification.hiddenSizes, activation = specification.activation
        let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
        let sizes = [codeSize] + specification[NetworkFamily.denseSizes].reversed() + [widths.last! * side * side]
        var dense: [any Layer] = []
        for (from, to) in zip(sizes, sizes.dropFirst()) {
            dense += [Linear(inputSize: from, outputSize: to, random: &random), ActivationLayer(activation)]
        }
        decoderInput = Sequential(dense + [Reshape([widths.last!, side, side])])
        let reversed = Array(widths.reversed())
        decoder = Sequential(
            ConvBlocks.upsampling(zip(reversed, reversed.dropFirst()).map { (from: $0, to: $1) }, batchNorm: false,
                                  activation: activation, kernelSize: 4, random: &random)
            + [ConvTranspose2d(inputChannels: widths[0], outputChannels: specification.imageDimensions.channels,
                               kernelSize: 4, stride: 2, padding: 1, random: &random)])
        outputSize = specification.inputSize
        super.init()
    }

    func output(_ code: Tensor) -> Tensor {
        decoder(decoderInput(code)).reshaped([code.shape[0], outputSize])
    }
}
