import Foundation
import VAETensor

/// The log-cosh VAE (Chen et al. 2019, `logcosh-vae`): the reconstruction term is Σ_pixels (1/a)·log cosh(a·(x̂ − x))
/// on the decoder's mean x̂ (a = `logcosh_alpha`), plus the KL. Written as (1/a)·(t + softplus(−2t) − log 2) with
/// t = a·(x̂ − x), which is log cosh exactly and finite for any residual (cosh itself overflows past |t| ≈ 89).
/// The likelihood's −log p(x|z) is still logged as `reconstruction` (not minimised), so test columns compare;
/// logs `logcosh`.
public struct LogCoshObjective: Objective {
    public var alpha: Double

    public init(alpha: Double) { self.alpha = alpha }

    public var splitsOverRows: Bool { true }

    /// Per row: Σ over values of (1/a)·log cosh(a·(mean − target)).
    public func logCosh(_ mean: Tensor, _ target: Tensor) -> Tensor {
        let scaled = (mean - target) * Float(alpha)
        let values = (scaled + (scaled * -2).softplus() - Float(Foundation.log(2.0))) * Float(1 / alpha)
        return values.sum(alongAxis: 1)
    }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let reconstruction = logCosh(terms.likelihood.mean, input).mean()
        return LossTerms(total: reconstruction + terms.kl, terms: terms.logged + [("logcosh", reconstruction)])
    }
}

extension LogCoshObjective {
    public static let alphaSetting = Setting<Double>(
        "logcosh_alpha", default: 10, .numbers(NumberRange(above: 0, atMost: 1e4)),
        doc: "sharpness a of the log-cosh reconstruction loss (1/a)·log cosh(a·(x̂ − x))")

    public static let part = ObjectivePart(settings: [alphaSetting.declaration]) { specification in
        LogCoshObjective(alpha: specification[alphaSetting])
    }
}
