import VAEDistributions
import VAENN
import VAETensor

/// The VampPrior (Tomczak & Welling 2018): p(z) = (1/K) Σ_k q(z | u_k), the mixture of the encoder's posteriors of K
/// learned pseudo-inputs u_k (`pseudo_inputs`, drawn uniform in [0, 1] and trained with the model). The KL term
/// becomes the one-sample estimate log q(z|x) − log p(z) at the training draw; the NLL's importance weights and
/// samples use the same mixture. The model attaches its encoder (``LatentPrior/attach(posterior:)``) when it is built.
public final class VampPrior: Module, LatentPrior {
    /// `[K, input size]`.
    public let pseudoInputs: Parameter
    /// q(z|u) of the model this prior belongs to.
    private var posteriorOf: ((Tensor) -> DiagonalNormal)?
    /// Rows of z per pass when evaluating log p(z): the `[rows, K, d]` differences stay near 64 MB.
    static let rowsPerPass = 4096

    public init(components: Int, inputSize: Int, random: inout RandomStream) {
        pseudoInputs = Parameter(random.uniform(shape: [components, inputSize], in: 0...1))
        super.init()
    }

    public var components: Int { pseudoInputs.value.shape[0] }

    public func attach(posterior: @escaping (Tensor) -> DiagonalNormal) { posteriorOf = posterior }

    /// The mixture's components q(z | u_k), as `[1, K, d]` means and log-variances.
    func mixture() -> DiagonalNormal {
        guard let posteriorOf else { preconditionFailure("VampPrior: no encoder attached (ComposedVAE attaches it)") }
        let posterior = posteriorOf(pseudoInputs.tensor)
        let shape = [1] + posterior.mean.shape
        return DiagonalNormal(mean: posterior.mean.reshaped(shape), logVariance: posterior.logVariance.reshaped(shape))
    }

    public func kl(_ posterior: DiagonalNormal, draw z: Tensor) -> Tensor {
        posterior.logProbability(z) - logProbability(z)
    }

    /// log (1/K) Σ_k q(z | u_k) per row, a pass of `rowsPerPass` rows at a time.
    public func logProbability(_ z: Tensor) -> Tensor {
        let mixture = mixture()
        let (rows, width) = (z.shape[0], z.shape[1])
        let passes = stride(from: 0, to: rows, by: Self.rowsPerPass).map { start -> Tensor in
            let part = z.slice(start..<min(start + Self.rowsPerPass, rows))
            return mixture.logProbability(part.reshaped([part.shape[0], 1, width])).logMeanExp(alongAxis: 1)
        }
        return passes.count == 1 ? passes[0] : Tensor.concatenate(passes, alongAxis: 0)
    }

    /// Per coordinate, KL(q_d ‖ N(m_d, s_d²)) from the mixture's moment-matched marginal (its mean m_d and variance
    /// s_d² over the components): the mixture's KL does not split over coordinates, this ranks them the same way
    /// (it is the KL to N(0, 1) per coordinate when every component is N(0, 1)).
    public func klPerDimension(_ posterior: DiagonalNormal) -> Tensor {
        let mixture = mixture()
        let k = Float(components)
        let mean = mixture.mean.sum(alongAxis: 1) * (1 / k)                                             // [1, d]
        let second = (mixture.mean.squared() + mixture.logVariance.exp()).sum(alongAxis: 1) * (1 / k)
        let logVariance = (second - mean.squared()).log()
        let standardized = ((posterior.mean - mean).squared() + posterior.logVariance.exp()) * (-logVariance).exp()
        return (standardized + logVariance - posterior.logVariance - 1) * 0.5
    }

    /// A component k uniform in 0..<K per row, then z ~ q(z | u_k).
    public func sample(count: Int, dimensions: Int, random: inout RandomStream) -> Tensor {
        let mixture = mixture()
        let picks = (0..<count).map { _ in random.integer(below: components) }
        let flat = DiagonalNormal(mean: mixture.mean.reshaped([components, dimensions]).gathering(picks),
                                  logVariance: mixture.logVariance.reshaped([components, dimensions]).gathering(picks))
        return flat.sample(using: &random)
    }
}

extension VampPrior {
    public static let componentsSetting = Setting<Int>(
        "pseudo_inputs", default: 500, .integers(1...65536),
        doc: "learned pseudo-inputs K of the VampPrior, whose posteriors' mixture is the prior")

    public static let part = PriorPart(settings: [componentsSetting.declaration]) { specification, random in
        VampPrior(components: specification[componentsSetting], inputSize: specification.inputSize, random: &random)
    }
}
