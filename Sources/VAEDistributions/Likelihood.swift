import VAETensor

/// A decoder's distribution p(x|z) over data rows.
public protocol Likelihood {
    /// log p(x|z) summed over the last axis: one value per row.
    func logProbability(_ value: Tensor) -> Tensor
    /// −log p(x|z) per row, the reconstruction term of a loss: where the log-likelihood is itself a negated loss
    /// (Bernoulli's cross-entropy), that loss without the two negations (the same values: negation is exact), so
    /// a step runs two ops fewer each way.
    func negativeLogProbability(_ value: Tensor) -> Tensor
    /// The distribution's mean, shown as the decoded image.
    var mean: Tensor { get }
    /// The range of data values this likelihood is defined on.
    static var dataRange: ClosedRange<Float> { get }
}

extension Likelihood {
    public func negativeLogProbability(_ value: Tensor) -> Tensor { -logProbability(value) }
}

extension Bernoulli: Likelihood {
    public var mean: Tensor { probabilities }
    public static var dataRange: ClosedRange<Float> { 0...1 }
}
