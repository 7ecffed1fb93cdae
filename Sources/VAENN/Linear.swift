import Foundation
import VAETensor

/// y = x·Wᵀ + b with W of shape [outputSize, inputSize] (PyTorch's layout, so weights interchange).
///
/// Initialised as PyTorch's `nn.Linear`: W and b uniform in ±1/√inputSize.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    public init(inputSize: Int, outputSize: Int, bias: Bool = true, random: inout RandomStream) {
        let bound = 1 / Float(Foundation.sqrt(Double(inputSize)))
        weight = Parameter(random.uniform(shape: [outputSize, inputSize], in: -bound...bound))
        self.bias = bias ? Parameter(random.uniform(shape: [outputSize], in: -bound...bound)) : nil
        super.init()
    }

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.linear(weight: weight.tensor, bias: bias?.tensor)
    }

    /// The layer followed by a leaky ReLU of `activationSlope` (0: ReLU), fused on a device (``ActivationFusing``).
    public func callAsFunction(_ input: Tensor, activationSlope: Float) -> Tensor {
        input.linear(weight: weight.tensor, bias: bias?.tensor, activationSlope: activationSlope)
    }
}
