import VAETensor

/// A decoder's distribution p(x|z) over data rows.
public protocol Likelihood {
    /// log p(x|z) summed over the last axis: one value per row.
    func logProbability(_ value: Tensor) -> Tensor
    /// The distribution's mean, shown as the decoded image.
    var mean: Tensor { get }
    /// The range of data values this likelihood is defined on.
    static var dataRange: ClosedRange<Float> { get }
}

extension Bernoulli: Likelihood {
    public var mean: Tensor { probabilities }
    public static var dataRange: ClosedRange<Float> { 0...1 }
}
