import VAEDistributions
import VAENN
import VAETensor

/// The Keras VAE example's convolutional VAE (`conv`): encoder Conv(1→32, s2) ReLU, Conv(32→64, s2) ReLU,
/// Dense(3136→16) ReLU, heads 16→2; decoder Dense(2→3136) ReLU, reshape 64×7×7, ConvT(64→64, s2) ReLU,
/// ConvT(64→32, s2) ReLU, ConvT(32→1, s1) → logits. Widths come from `hidden_sizes`, the dense width from
/// `dense_size`, the latent size from `latent_size`.
public final class ConvVAE: Module, ImageEncoding {
    public let specification: ModelSpecification
    public let encoder: Sequential
    public let mean: Linear
    public let logVariance: Linear
    public let decoderInput: Sequential
    public let decoder: Sequential
    public let observation: ObservationModel

    /// No batch normalisation: the ELBO's row mean splits over rows.
    public var lossSplitsOverRows: Bool { true }

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        self.specification = specification
        let (channels, _, _) = specification.imageDimensions
        let widths = specification.hiddenSizes
        let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
        let flat = widths.last! * side * side
        let activation = specification.activation
        var encoderLayers = ConvBlocks.downsampling(from: channels, channels: widths, batchNorm: false,
                                                    activation: activation, random: &random)
        encoderLayers.append(Reshape([-1]))
        var features = flat
        if specification.denseSize > 0 {
            encoderLayers += [Linear(inputSize: flat, outputSize: specification.denseSize, random: &random),
                              ActivationLayer(activation)]
            features = specification.denseSize
        }
        encoder = Sequential(encoderLayers)
        mean = Linear(inputSize: features, outputSize: specification.latentSize, random: &random)
        logVariance = Linear(inputSize: features, outputSize: specification.latentSize, random: &random)
        decoderInput = Sequential([Linear(inputSize: specification.latentSize, outputSize: flat, random: &random),
                                   ActivationLayer(activation), Reshape([widths.last!, side, side])])
        let reversed = Array(widths.reversed())
        let steps = zip([reversed[0]] + reversed.dropLast(), reversed).map { (from: $0, to: $1) }
        decoder = Sequential(
            ConvBlocks.upsampling(steps, batchNorm: false, activation: activation, random: &random)
            + [ConvTranspose2d(inputChannels: widths[0], outputChannels: channels, kernelSize: 3, padding: 1, random: &random)])
        observation = try ObservationModel(specification)
        super.init()
    }

    public func decode(_ latent: Tensor) -> any Likelihood {
        let output = decoder(decoderInput(latent))
        return observation(output.reshaped([latent.shape[0], specification.inputSize]))
    }
}
