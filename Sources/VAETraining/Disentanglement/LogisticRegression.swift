import VAENN
import VAEOptimizers
import VAETensor

/// Multinomial logistic regression with an L2 penalty on the weights (λ = 1/n, sklearn's C = 1 scaled to a mean
/// loss), fitted by 500 full-batch Adam steps (step 0.05) on features standardised by the training set's mean and
/// deviation: the BetaVAE score's classifier.
struct LogisticRegression {
    let weight: Tensor
    let bias: Tensor
    let mean: [Double]
    let scale: [Double]

    init(features: [[Double]], labels: [Int], classes: Int, steps: Int = 500) {
        let (n, width) = (features.count, features.first?.count ?? 0)
        mean = (0..<width).map { d in features.reduce(0) { $0 + $1[d] } / Double(max(n, 1)) }
        let means = mean
        scale = (0..<width).map { d in
            let variance = features.reduce(0) { $0 + ($1[d] - means[d]) * ($1[d] - means[d]) } / Double(max(n, 1))
            return variance > 1e-12 ? variance.squareRoot() : 1
        }
        let inputs = Self.standardised(features, mean: mean, scale: scale)
        var onehot = [Float](repeating: 0, count: n * classes)
        for (row, label) in labels.enumerated() { onehot[row * classes + label] = 1 }
        let targets = Tensor(shape: [n, classes], scalars: onehot)
        let weight = Parameter(.zeros([width, classes])), bias = Parameter(.zeros([1, classes]))
        let adam = Adam(learningRate: 0.05)
        let penalty = Float(1) / Float(max(n, 1))
        for _ in 0..<steps {
            let tape = GradientTape()
            let (loss, tracked) = tape.recording { () -> (Tensor, [Tensor]) in
                let (w, b) = (weight.tensor, bias.tensor)
                let logits = inputs.matmul(w) + b
                let crossEntropy = (logits.logSumExp(alongAxis: 1) - (logits * targets).sum(alongAxis: 1)).mean()
                return (crossEntropy + w.squared().sum() * (penalty / 2), [w, b])
            }
            adam.update([weight, bias], gradients: tape.gradients(of: loss, withRespectTo: tracked))
        }
        (self.weight, self.bias) = (weight.value, bias.value)
    }

    static func standardised(_ features: [[Double]], mean: [Double], scale: [Double]) -> Tensor {
        let width = mean.count
        return Tensor(shape: [features.count, width], scalars: features.flatMap { row in (0..<width).map { Float((row[$0] - mean[$0]) / scale[$0]) } })
    }

    /// The share of `labels` the largest logit picks.
    func accuracy(_ features: [[Double]], _ labels: [Int]) -> Double {
        let logits = withoutGradients { Self.standardised(features, mean: mean, scale: scale).matmul(weight) + bias }
        let classes = weight.shape[1]
        let correct = labels.indices.filter { row in
            let scores = logits.scalars[row * classes..<(row + 1) * classes]
            return scores.indices.max { scores[$0] < scores[$1] }! - row * classes == labels[row]
        }.count
        return Double(correct) / Double(max(labels.count, 1))
    }
}
