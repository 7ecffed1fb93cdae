import VAETensor

/// Elementwise non-linearities by name (the names config files use).
public enum Activation: String, CaseIterable, Sendable {
    case relu
    case leakyRelu = "leaky_relu"
    case tanh
    case sigmoid
    case softplus

    public func callAsFunction(_ input: Tensor) -> Tensor {
        switch self {
        case .relu: input.relu()
        case .leakyRelu: input.leakyRelu(slope: 0.01)
        case .tanh: input.tanh()
        case .sigmoid: input.sigmoid()
        case .softplus: input.softplus()
        }
    }
}
