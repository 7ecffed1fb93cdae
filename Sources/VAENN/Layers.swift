import VAETensor

/// A layer as a value: anything that maps a tensor to a tensor.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// A layer that can apply a following ReLU or leaky ReLU in the same op (`activationSlope`: 0 for ReLU, the leaky
/// slope otherwise): on a device, one launch fewer forward and one fewer backward; on the host, the same values.
public protocol ActivationFusing: Layer {
    func callAsFunction(_ input: Tensor, activationSlope: Float) -> Tensor
}

extension Linear: ActivationFusing {}
extension MLP: Layer {}
extension Conv2d: ActivationFusing {}
extension ConvTranspose2d: ActivationFusing {}
extension BatchNorm: ActivationFusing {}

/// Layers applied in order; names follow PyTorch's `nn.Sequential` (`layers.0.weight`, …).
public final class Sequential: Module, Layer {
    public let layers: [Module]
    private let apply: [(Tensor) -> Tensor]

    public init(_ layers: [any Layer]) {
        self.layers = layers
        self.apply = Sequential.steps(layers)
        super.init()
    }

    /// One function per layer, except that a layer that fuses activations (``ActivationFusing``: Linear, the
    /// convolutions, BatchNorm) followed by a ReLU or leaky-ReLU layer runs as one fused step (the activation layer
    /// keeps its place and name).
    private static func steps(_ layers: [any Layer]) -> [(Tensor) -> Tensor] {
        var steps: [(Tensor) -> Tensor] = []
        var index = 0
        while index < layers.count {
            let layer = layers[index]
            if let fusing = layer as? any ActivationFusing, index + 1 < layers.count,
               let activation = (layers[index + 1] as? ActivationLayer)?.activation,
               let slope = activation.leakySlope {
                steps.append { fusing($0, activationSlope: slope) }
                index += 2
                continue
            }
            steps.append { layer($0) }
            index += 1
        }
        return steps
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { apply.reduce(input) { $1($0) } }
}

/// An elementwise non-linearity as a layer (no parameters).
public final class ActivationLayer: Module, Layer {
    public let activation: Activation
    public init(_ activation: Activation) { self.activation = activation; super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { activation(input) }
}

/// Reshapes each batch item: `[batch, …] → [batch] + shape` (Flatten is `Reshape([-1])`).
public final class Reshape: Module, Layer {
    public let shape: [Int]
    public init(_ shape: [Int]) { self.shape = shape; super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.reshaped([input.shape[0]] + shape) }
}

/// Nearest-neighbour upsampling by an integer factor (NCHW).
public final class Upsample: Module, Layer {
    public let factor: Int
    public init(factor: Int) { self.factor = factor; super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.upsampledNearest(factor: factor) }
}

/// Inverted dropout: in training, zeroes each element with probability `probability` and scales the rest by
/// 1/(1 − p); the identity in evaluation. Its mask comes from its own named stream.
public final class Dropout: Module, Layer {
    public let probability: Float
    public var random: RandomStream

    public init(probability: Float, random: RandomStream) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.random = random
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining && probability > 0 else { return input }
        let keep = 1 / (1 - probability)
        let mask = random.uniform(count: input.count).map { $0 < probability ? Float(0) : keep }
        return input * Tensor(shape: input.shape, scalars: mask)
    }
}
