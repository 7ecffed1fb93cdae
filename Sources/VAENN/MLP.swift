import VAETensor

/// A stack of ``Linear`` layers with an activation between them.
///
/// ```swift
/// let decoder = MLP(sizes: [20, 400, 784], activation: .relu, random: &random)  // 20→400 (ReLU)→784
/// ```
public final class MLP: Module {
    public let layers: [Linear]
    /// One ``BatchNorm`` per activated layer, between the layer and its activation (Sønderby et al. 2016's
    /// placement: none on an output that is not activated); empty without batch normalisation.
    public let norms: [BatchNorm]
    public let activation: Activation
    /// Whether the activation also follows the last layer (true for a hidden block, false for logits).
    public let activatesOutput: Bool

    public init(sizes: [Int], activation: Activation, activatesOutput: Bool = false, batchNorm: Bool = false,
                random: inout RandomStream) {
        precondition(sizes.count >= 2, "MLP needs an input and an output size, got \(sizes)")
        var layers: [Linear] = []
        for (input, output) in zip(sizes, sizes.dropFirst()) {
            layers.append(Linear(inputSize: input, outputSize: output, random: &random))
        }
        self.layers = layers
        let activated = activatesOutput ? layers.count : layers.count - 1
        norms = batchNorm ? layers.prefix(activated).map { BatchNorm(channels: $0.outputSize) } : []
        self.activation = activation
        self.activatesOutput = activatesOutput
        super.init()
    }

    /// Each layer, then its batch norm and activation: a (leaky) ReLU fused into the batch norm or, without one,
    /// into the layer (``ActivationFusing``).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var hidden = input
        for (index, layer) in layers.enumerated() {
            guard activatesOutput || index < layers.count - 1 else { return layer(hidden) }
            switch (norms.isEmpty, activation.leakySlope) {
            case (true, let slope?): hidden = layer(hidden, activationSlope: slope)
            case (false, let slope?): hidden = norms[index](layer(hidden), activationSlope: slope)
            case (true, nil): hidden = activation(layer(hidden))
            case (false, nil): hidden = activation(norms[index](layer(hidden)))
            }
        }
        return hidden
    }
}
