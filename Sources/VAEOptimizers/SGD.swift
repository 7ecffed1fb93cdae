import VAENN
import VAETensor

/// Stochastic gradient descent with optional (PyTorch-style) momentum and L2 weight decay:
/// b ← μ·b + g; p ← p − lr·b.
public final class SGD: MomentOptimizer, Optimizer {
    public var momentum: Float
    public var weightDecay: Float

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        super.init(learningRate: learningRate, slotNames: ["momentum_buffer"])
    }

    public func update(_ parameters: [Parameter], gradients: [Tensor]) {
        prepare(parameters)
        let first = step == 0
        step += 1
        let (lr, mu, decay) = (learningRate, momentum, weightDecay)
        // On a device the buffer starts at 0, so its first value μ·0 + g is the gradient, as here.
        updateEach(parameters, gradients: gradients, slot: "momentum_buffer",
                   onDevice: .sgd(learningRate: lr, momentum: mu, weightDecay: decay)) { weights, gradient, buffer in
            for position in 0..<weights.count {
                var g = gradient[position] + decay * weights[position]
                if mu != 0 {
                    // PyTorch starts the buffer at the first gradient rather than at zero.
                    buffer[position] = first ? g : mu * buffer[position] + g
                    g = buffer[position]
                }
                weights[position] -= lr * g
            }
        }
    }
}
