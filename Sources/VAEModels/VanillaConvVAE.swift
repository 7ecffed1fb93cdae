import VAEDistributions
import VAENN
import VAETensor

/// PyTorch-VAE's VanillaVAE (`conv64`) for 64×64 images: encoder Conv(3×3, s2)+BatchNorm+LeakyReLU per width
/// of `hidden_sizes` (32-64-128-256-512), heads from the flattened features (latent 128); decoder Linear →
/// reshape, ConvT(s2)+BatchNorm+LeakyReLU back along the widths, a last ConvT(s2)+BatchNorm+LeakyReLU and
/// Conv(3×3) to the image channels. (PyTorch-VAE ends in tanh for data in [−1, 1]; here the output is the
/// decoder's mean or logits, and the likelihood decides the data range.)
public final class VanillaConvVAE: Module, ImageEncoding {
    public let specification: ModelSpecification
    public let encoder: Sequential
    public let mean: Linear
    public let logVariance: Linear
    public let decoderInput: Linear
    public let decoder: Sequential
    public let finalLayer: Sequential
    public let observation: ObservationModel
    private let bottleneck: [Int]

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        self.specification = specification
        let (channels, _, _) = specification.imageDimensions
        let widths = specification.hiddenSizes
        let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
        let flat = widths.last! * side * side
        let activation = specification.activation
        encoder = Sequential(ConvBlocks.downsampling(from: channels, channels: widths, batchNorm: true,
                                                     activation: activation, random: &random) + [Reshape([-1])])
        mean = Linear(inputSize: flat, outputSize: specification.latentSize, random: &random)
        logVariance = Linear(inputSize: flat, outputSize: specification.latentSize, random: &random)
        decoderInput = Linear(inputSize: specification.latentSize, outputSize: flat, random: &random)
        let reversed = Array(widths.reversed())
        decoder = Sequential(ConvBlocks.upsampling(zip(reversed, reversed.dropFirst()).map { (from: $0, to: $1) },
                                                   batchNorm: true, activation: activation, random: &random))
        let last = widths[0]
        finalLayer = Sequential(
            ConvBlocks.upsampling([(from: last, to: last)], batchNorm: true, activation: activation, random: &random)
            + [Conv2d(inputChannels: last, outputChannels: channels, kernelSize: 3, padding: 1, random: &random)])
        observation = try ObservationModel(specification)
        bottleneck = [widths.last!, side, side]
        super.init()
    }

    public func decode(_ latent: Tensor) -> any Likelihood {
        let image = finalLayer(decoder(decoderInput(latent).reshaped([latent.shape[0]] + bottleneck)))
        return observation(image.reshaped([latent.shape[0], specification.inputSize]))
    }
}
