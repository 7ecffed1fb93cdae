import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// Turns a decoder's raw output `[batch, features]` into p(x|z): Bernoulli on logits, or Gaussian with a fixed
/// or learned variance. Shared by every model, so a config's `likelihood` means the same everywhere.
public final class ObservationModel: Module {
    public enum Kind: String, Sendable { case bernoulli, gaussian }

    public let kind: Kind
    /// The learned log σ² of a Gaussian decoder (absent when fixed or Bernoulli).
    public let logVariance: Parameter?
    private let fixedLogVariance: Float

    public init(_ specification: ModelSpecification) throws {
        guard let kind = Kind(rawValue: specification.likelihood) else {
            throw ModelError("model_params.likelihood: unknown '\(specification.likelihood)'; expected bernoulli or gaussian")
        }
        self.kind = kind
        fixedLogVariance = Float(Foundation.log(specification.likelihoodVariance))
        logVariance = kind == .gaussian && specification.learnVariance ? Parameter(Tensor(fixedLogVariance)) : nil
        super.init()
    }

    /// The data values this decoder can model (a Bernoulli decoder needs [0, 1]).
    public var dataRange: ClosedRange<Float> { kind == .bernoulli ? Bernoulli.dataRange : Gaussian.dataRange }

    public func callAsFunction(_ output: Tensor) -> any Likelihood {
        switch kind {
        case .bernoulli: return Bernoulli(logits: output)
        case .gaussian: return Gaussian(mean: output, logVariance: logVariance?.tensor ?? Tensor(fixedLogVariance))
        }
    }
}
