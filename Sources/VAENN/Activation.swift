import VAETensor

/// Elementwise non-linearities by name (the names config files use).
public enum Activation: String, CaseIterable, Sendable {
    case relu
    case leakyRelu = "leaky_relu"
    case tanh
    case sigmoid
    case softplus

    /// The negative-side slope when the activation is a (leaky) ReLU: 0 for ReLU, 0.01 for leaky ReLU; nil otherwise.
    public var leakySlope: Float? {
        switch self {
        case .relu: 0
        case .leakyRelu: 0.01
        default: nil
        }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        switch self {
        case .relu: input.relu()
        case .leakyRelu: input.leakyRelu(slope: leakySlope!)
        case .tanh: input.tanh()
        case .sigmoid: input.sigmoid()
        case .softplus: input.softplus()
        }
    }
}
