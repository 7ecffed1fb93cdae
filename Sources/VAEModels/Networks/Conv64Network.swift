import VAENN
import VAETensor

extension NetworkFamily {
    /// `conv64`, PyTorch-VAE's VanillaVAE network for 64×64 images: Conv(3×3, s2) + BatchNorm + activation per width
    /// of `hidden_sizes` (32-64-128-256-512); decoder Linear → reshape, ConvT(s2) + BatchNorm + activation back
    /// along the widths, a last ConvT(s2) + BatchNorm + activation and Conv(3×3) to the image's channels.
    /// (PyTorch-VAE ends in tanh for data in [−1, 1]; here the likelihood decides the data range.) BatchNorm's
    /// batch statistics keep a batch on one tape.
    public static let conv64 = NetworkFamily(
        name: "conv64", summary: "PyTorch-VAE's VanillaVAE: stride-2 conv + BatchNorm stack, mirrored", settings: NetworkSettings.shared,
        makeEncoder: { specification, conditionSize, random in
            try ConvEncoder(specification, conditionSize: conditionSize, batchNorm: true, denseSizes: [], random: &random)
        },
        makeDecoder: { specification, codeSize, random in
            try VanillaConvDecoder(specification, codeSize: codeSize, random: &random)
        })
}

/// Names: `decoder_input`, `decoder.layers.N`, `final_layer.layers.N`.
final class VanillaConvDecoder: Module, DecoderNetwork {
    let decoderInput: Linear
    let decoder: Sequential
    let finalLayer: Sequential
    private let bottleneck: [Int]
    private let outputSize: Int
    override var namesItsChildren: Bool { false }

    init(_ specification: ModelSpecification, codeSize: Int, random: inout RandomStream) throws {
        let start = try ConvBlocks.DecoderStart(specification, codeSize: codeSize, random: &random)
        let (widths, activation) = (start.widths, start.activation)
        decoderInput = start.linear
        let reversed = Array(widths.reversed())
        decoder = Sequential(ConvBlocks.upsampling(zip(reversed, reversed.dropFirst()).map { (from: $0, to: $1) },
                                                   batchNorm: true, activation: activation, random: &random))
        let last = widths[0]
        finalLayer = Sequential(
            ConvBlocks.upsampling([(from: last, to: last)], batchNorm: true, activation: activation, random: &random)
            + [Conv2d(inputChannels: last, outputChannels: specification.imageDimensions.channels, kernelSize: 3,
                      padding: 1, random: &random)])
        bottleneck = start.bottleneck
        outputSize = specification.inputSize
        super.init()
    }

    func output(_ code: Tensor) -> Tensor {
        let image = finalLayer(decoder(decoderInput(code).reshaped([code.shape[0]] + bottleneck)))
        return image.reshaped([code.shape[0], outputSize])
    }
}
