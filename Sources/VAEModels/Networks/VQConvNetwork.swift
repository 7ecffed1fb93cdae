import VAENN
import VAETensor

/// VQ-VAE's own network (van den Oord et al. 2017, sized for small images): the encoder is a stride-2 Conv(4×4) +
/// ReLU per width of `hidden_sizes` and a 1×1 conv to the code width D, giving a map of D-vectors; the decoder a
/// Conv(3×3) from D to the last width + ReLU, then stride-2 ConvTranspose(4×4) back along the widths (ReLU between),
/// the last to the image's channels. Fully convolutional, so it pairs only with a latent of spatial codes.
/// Names: `encoder.N`, `decoder.N`.
public enum VQConvNetwork {
    public static func encoder(_ specification: ModelSpecification, codeWidth: Int, random: inout RandomStream) -> Sequential {
        let widths = specification.hiddenSizes
        var layers: [any Layer] = []
        for (from, to) in zip([specification.imageDimensions.channels] + widths.dropLast(), widths) {
            layers += [Conv2d(inputChannels: from, outputChannels: to, kernelSize: 4, stride: 2, padding: 1, random: &random),
                       ActivationLayer(.relu)]
        }
        layers.append(Conv2d(inputChannels: widths.last!, outputChannels: codeWidth, kernelSize: 1, random: &random))
        return Sequential(layers)
    }

    public static func decoder(_ specification: ModelSpecification, codeWidth: Int, random: inout RandomStream) -> Sequential {
        let widths = specification.hiddenSizes
        var layers: [any Layer] = [Conv2d(inputChannels: codeWidth, outputChannels: widths.last!, kernelSize: 3, padding: 1,
                                          random: &random), ActivationLayer(.relu)]
        let reversed = Array(widths.reversed())
        for (index, from) in reversed.enumerated() {
            let to = index + 1 < reversed.count ? reversed[index + 1] : specification.imageDimensions.channels
            layers.append(ConvTranspose2d(inputChannels: from, outputChannels: to, kernelSize: 4, stride: 2,
                                          padding: 1, random: &random))
            if index + 1 < reversed.count { layers.append(ActivationLayer(.relu)) }
        }
        return Sequential(layers)
    }
}
