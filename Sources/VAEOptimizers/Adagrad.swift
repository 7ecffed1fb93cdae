import VAENN
import VAETensor

/// Adagrad (Duchi et al. 2011): s ← s + g²; p ← p − lr·g/(√s + ε).
public final class Adagrad: MomentOptimizer, Optimizer {
    public var epsilon: Float
    public var weightDecay: Float

    public init(learningRate: Float = 1e-2, epsilon: Float = 1e-10, weightDecay: Float = 0) {
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        super.init(learningRate: learningRate, slotNames: ["sum"])
    }

    public func update(_ parameters: [Parameter], gradients: [Tensor]) {
        prepare(parameters)
        step += 1
        let (lr, eps, decay) = (learningRate, epsilon, weightDecay)
        updateEach(parameters, gradients: gradients, slot: "sum",
                   onDevice: .adagrad(learningRate: lr, epsilon: eps, weightDecay: decay)) { weights, gradient, sum in
            for position in 0..<weights.count {
                let g = gradient[position] + decay * weights[position]
                sum[position] += g * g
                weights[position] -= lr * g / (sum[position].squareRoot() + eps)
            }
        }
    }
}
