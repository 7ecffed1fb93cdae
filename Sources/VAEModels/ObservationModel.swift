import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// Turns a decoder's raw output `[batch, features]` into p(x|z): Bernoulli on logits, or Gaussian with a fixed
/// or learned variance. Shared by every model, so a config's `likelihood` means the same everywhere.
public final class ObservationModel: Module {
    public enum Kind: String, CaseIterable, Sendable {
        /// Independent Bernoulli pixels; the decoder outputs logits.
        case bernoulli
        /// Independent Gaussian pixels with one variance (fixed, or learned); the decoder outputs means.
        case gaussian
    }

    public static let likelihood = Setting<String>(
        "likelihood", default: Kind.bernoulli.rawValue, .oneOf(Kind.allCases.map(\.rawValue)), doc: "decoder distribution p(x|z)")
    public static let variance = Setting<Double>(
        "likelihood_variance", default: 1, .numbers(NumberRange(above: 0, atMost: 1e6)),
        doc: "σ² of a Gaussian decoder: fixed, or the starting value when learned")
    public static let learnVariance = Setting<Bool>(
        "learn_variance", default: false, doc: "learn the Gaussian decoder's log-variance (one scalar) with the weights")
    public static let settings = [likelihood.declaration, variance.declaration, learnVariance.declaration]

    public let kind: Kind
    /// The learned log σ² of a Gaussian decoder (absent when fixed or Bernoulli).
    public let logVariance: Parameter?
    private let fixedLogVariance: Float

    public init(_ specification: ModelSpecification) throws {
        let name = specification[Self.likelihood]
        guard let kind = Kind(rawValue: name) else {
            throw ModelError("model_params.likelihood: unknown '\(name)'; expected bernoulli or gaussian")
        }
        self.kind = kind
        fixedLogVariance = Float(Foundation.log(specification[Self.variance]))
        logVariance = kind == .gaussian && specification[Self.learnVariance] ? Parameter(Tensor(fixedLogVariance)) : nil
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
