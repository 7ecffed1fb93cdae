// The tensor and autodiff core on its own: a two-layer network fitted to y = sin(x) on [−3, 3] by full-batch
// gradient descent, with the gradients from a GradientTape and checked once against finite differences.
//
//   swift run -c release example-autodiff-regression
import Foundation
import VAETensor

var random = RandomStream(seed: 1, name: "example")
let inputs = Tensor(shape: [64, 1], scalars: (0..<64).map { -3 + 6 * Float($0) / 63 })
let targets = Tensor(shape: [64, 1], scalars: inputs.scalars.map { Foundation.sin($0) })
var w1 = random.normal(shape: [1, 32]), b1 = Tensor.zeros([1, 32])
var w2 = random.normal(shape: [32, 1]) * 0.1, b2 = Tensor.zeros([1, 1])

func loss(_ w1: Tensor, _ b1: Tensor, _ w2: Tensor, _ b2: Tensor) -> Tensor {
    ((inputs.matmul(w1) + b1).tanh().matmul(w2) + b2 - targets).squared().mean()
}

for step in 0...4000 {
    let tape = GradientTape()
    let (value, watched) = tape.recording { () -> (Tensor, [Tensor]) in
        let watched = [w1, b1, w2, b2].map { tape.watch($0) }
        return (loss(watched[0], watched[1], watched[2], watched[3]), watched)
    }
    let gradients = tape.gradients(of: value, withRespectTo: watched)
    if step == 0 {
        // One coordinate of the gradient against a central difference.
        let h: Float = 1e-2
        var plus = w2.scalars, minus = w2.scalars
        plus[0] += h
        minus[0] -= h
        let numeric = (loss(w1, b1, Tensor(shape: [32, 1], scalars: plus), b2).scalar
            - loss(w1, b1, Tensor(shape: [32, 1], scalars: minus), b2).scalar) / (2 * h)
        print("gradient check: tape \(gradients[2].scalars[0]), finite difference \(numeric)")
    }
    if step % 1000 == 0 { print("step \(step): mean squared error \(value.scalar)") }
    w1 = w1 - gradients[0] * 0.05
    b1 = b1 - gradients[1] * 0.05
    w2 = w2 - gradients[2] * 0.05
    b2 = b2 - gradients[3] * 0.05
}
let final = loss(w1, b1, w2, b2).scalar
print("final mean squared error \(final)")
if !(final < 0.01) {
    print("error: the fit did not converge")
    exit(1)
}
