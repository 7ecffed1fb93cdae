import VAETensor

/// Independent Bernoulli variables parameterised by logits (last axis = dimensions).
/// The log-likelihood uses the stable cross-entropy-with-logits form and accepts targets anywhere in
/// [0, 1] (grey-level pixels, as in the classic VAE examples).
public struct Bernoulli {
    public let logits: Tensor

    public init(logits: Tensor) { self.logits = logits }

    /// Success probabilities sigmoid(logits).
    public var probabilities: Tensor { logits.sigmoid() }

    /// log p(x) summed over the last axis: one value per row.
    public func logProbability(_ value: Tensor) -> Tensor { -negativeLogProbability(value) }

    /// −log p(x) per row: the binary cross-entropy with logits, summed over the last axis.
    public func negativeLogProbability(_ value: Tensor) -> Tensor { logits.binaryCrossEntropySums(targets: value) }

    /// 0/1 draws with the distribution's probabilities.
    public func sample(using random: inout RandomStream) -> Tensor {
        let uniforms = random.uniform(count: logits.count)
        let probabilities = self.probabilities.scalars
        let draws = zip(uniforms, probabilities).map { $0 < $1 ? Float(1) : 0 }
        return Tensor(shape: logits.shape, scalars: draws)
    }
}
