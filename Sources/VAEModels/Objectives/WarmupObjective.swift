import VAETensor

/// The ELBO with the KL weighted by min(1, step / `warmup_steps`): Bowman et al. 2016's KL annealing, which keeps
/// a strong decoder from ignoring z early in training. Logs `kl_weight`. Before the warm-up ends the loss is not a
/// bound; the trainer's test columns are the plain one-sample −ELBO throughout.
public struct WarmupObjective: Objective {
    public var steps: Int

    public init(steps: Int) { self.steps = steps }

    /// A mean of per-row terms: data-parallel shards are fine.
    public var splitsOverRows: Bool { true }

    /// The KL weight at an optimiser step.
    public func weight(atStep step: Int) -> Float {
        steps > 0 ? Float(min(1, Double(max(step, 0)) / Double(steps))) : 1
    }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let weight = weight(atStep: context.step)
        return LossTerms(total: terms.reconstruction + terms.kl * weight,
                         terms: terms.logged + [("kl_weight", Tensor(weight))])
    }
}

extension WarmupObjective {
    public static let stepsSetting = Setting<Int>(
        "warmup_steps", default: 10_000, .integers(0...Int.max),
        doc: "optimiser steps over which the KL weight grows linearly from 0 to 1 (0 = the ELBO from the start)")

    public static let part = ObjectivePart(settings: [stepsSetting.declaration]) { specification in
        WarmupObjective(steps: specification[stepsSetting])
    }
}
