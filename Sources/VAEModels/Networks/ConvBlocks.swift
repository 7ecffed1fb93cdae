import VAEDistributions
import VAENN
import VAETensor

/// Building blocks shared by the convolutional models: stride-2 stacks that halve (encoder) or double
/// (decoder) the image size per layer, with optional batch normalisation.
enum ConvBlocks {
    /// Conv(k×k, stride 2, padding 1; k = 3 or 4) [+ BatchNorm] + activation for each width in `channels`.
    static func downsampling(from inputChannels: Int, channels: [Int], batchNorm: Bool, activation: Activation,
                             kernelSize: Int = 3, random: inout RandomStream) -> [any Layer] {
        var layers: [any Layer] = []
        var previous = inputChannels
        for width in channels {
            layers.append(Conv2d(inputChannels: previous, outputChannels: width, kernelSize: kernelSize, stride: 2,
                                 padding: 1, random: &random))
            if batchNorm { layers.append(BatchNorm(channels: width)) }
            layers.append(ActivationLayer(activation))
            previous = width
        }
        return layers
    }

    /// ConvTranspose(k×k, stride 2, padding 1, output padding 4 − k; k = 3 or 4) [+ BatchNorm] + activation along
    /// `channels` (from `channels[0]` to each next width): each doubles the image's side.
    static func upsampling(_ steps: [(from: Int, to: Int)], batchNorm: Bool, activation: Activation,
                           kernelSize: Int = 3, random: inout RandomStream) -> [any Layer] {
        var layers: [any Layer] = []
        for (from, to) in steps {
            layers.append(ConvTranspose2d(inputChannels: from, outputChannels: to, kernelSize: kernelSize, stride: 2,
                                          padding: 1, outputPadding: 4 - kernelSize, random: &random))
            if batchNorm { layers.append(BatchNorm(channels: to)) }
            layers.append(ActivationLayer(activation))
        }
        return layers
    }

    /// The start both conv decoders share: the encoder's widths and activation, the bottleneck's shape
    /// `[widths.last, side, side]` and the Linear layer from the code to it (the decoder's first draw from `random`).
    struct DecoderStart {
        let widths: [Int]
        let activation: Activation
        let bottleneck: [Int]
        let linear: Linear

        init(_ specification: ModelSpecification, codeSize: Int, random: inout RandomStream) throws {
            widths = specification.hiddenSizes
            let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
            activation = specification.activation
            bottleneck = [widths.last!, side, side]
            linear = Linear(inputSize: codeSize, outputSize: widths.last! * side * side, random: &random)
        }
    }

    /// Features with a condition (one-hot label per row) appended, when there is one.
    static func appending(_ condition: Tensor?, to features: Tensor) -> Tensor {
        guard let condition else { return features }
        return Tensor.concatenate([features, condition], alongAxis: 1)
    }

    /// The spatial size after `layers` halvings, or an error naming the field when the image does not divide.
    static func bottleneckSize(_ specification: ModelSpecification, layers: Int) throws -> Int {
        let (_, height, width) = specification.imageDimensions
        let factor = 1 << layers
        guard specification.inputShape.count == 3, height == width, height % factor == 0 else {
            throw ModelError("model_params.hidden_sizes: \(layers) stride-2 layers need square images whose size divides by \(factor), got \(specification.inputShape) (set data_params.image_size)")
        }
        return height / factor
    }
}
