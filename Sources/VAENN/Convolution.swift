import Foundation
import VAETensor

/// 2-D convolution over NCHW images; weight `[outputChannels, inputChannels, k, k]` as PyTorch's `nn.Conv2d`,
/// initialised like it (uniform in ±1/√(inputChannels·k²) for weight and bias).
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let geometry: ConvolutionGeometry

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, random: inout RandomStream) {
        let bound = 1 / Float(Foundation.sqrt(Double(inputChannels * kernelSize * kernelSize)))
        weight = Parameter(random.uniform(shape: [outputChannels, inputChannels, kernelSize, kernelSize], in: -bound...bound))
        self.bias = bias ? Parameter(random.uniform(shape: [outputChannels], in: -bound...bound)) : nil
        geometry = ConvolutionGeometry(kernelSize: kernelSize, stride: stride, padding: padding)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.conv2d(weight: weight.tensor, bias: bias?.tensor, geometry: geometry)
    }

    /// The layer followed by a leaky ReLU of `activationSlope` (0: ReLU), fused on a device (``ActivationFusing``).
    public func callAsFunction(_ input: Tensor, activationSlope: Float) -> Tensor {
        input.conv2d(weight: weight.tensor, bias: bias?.tensor, geometry: geometry, activationSlope: activationSlope)
    }
}

/// Transposed 2-D convolution; weight `[inputChannels, outputChannels, k, k]` as PyTorch's `nn.ConvTranspose2d`
/// (whose default initialisation uses fan-in = outputChannels·k², which is what this does).
public final class ConvTranspose2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let geometry: ConvolutionGeometry
    public let outputPadding: Int

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, random: inout RandomStream) {
        let bound = 1 / Float(Foundation.sqrt(Double(outputChannels * kernelSize * kernelSize)))
        weight = Parameter(random.uniform(shape: [inputChannels, outputChannels, kernelSize, kernelSize], in: -bound...bound))
        self.bias = bias ? Parameter(random.uniform(shape: [outputChannels], in: -bound...bound)) : nil
        geometry = ConvolutionGeometry(kernelSize: kernelSize, stride: stride, padding: padding)
        self.outputPadding = outputPadding
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.transposedConv2d(weight: weight.tensor, bias: bias?.tensor, geometry: geometry, outputPadding: outputPadding)
    }

    /// The layer followed by a leaky ReLU of `activationSlope` (0: ReLU), fused on a device (``ActivationFusing``).
    public func callAsFunction(_ input: Tensor, activationSlope: Float) -> Tensor {
        input.transposedConv2d(weight: weight.tensor, bias: bias?.tensor, geometry: geometry, outputPadding: outputPadding,
                               activationSlope: activationSlope)
    }
}
