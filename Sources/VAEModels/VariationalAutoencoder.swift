import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// What every model in the collection is: an encoder q(z|x), a decoder p(x|z) and a training loss.
///
/// The ELBO plumbing (sample z, reconstruction term, KL, named terms, the importance-weighted bound) is
/// written once in the extension below; a variant overrides only what makes it different.
public protocol VariationalAutoencoder: Module {
    /// The specification the model was built from (saved with checkpoints).
    var specification: ModelSpecification { get }
    /// q(z|x) for a batch of flattened inputs `[batch, features]`.
    func encode(_ input: Tensor) -> DiagonalNormal
    /// p(x|z) for a batch of latent codes `[batch, latentSize]`.
    func decode(_ latent: Tensor) -> any Likelihood
    /// The training objective's terms for a batch; `total` is minimised.
    func loss(_ input: Tensor, context: LossContext) -> LossTerms
}

/// Randomness and schedule position handed to a loss.
public final class LossContext {
    /// The reparameterisation noise stream.
    public var noise: RandomStream
    /// Optimiser steps taken so far (for schedules: β, capacity, temperature, warm-up).
    public var step: Int

    public init(noise: RandomStream, step: Int = 0) {
        self.noise = noise
        self.step = step
    }
}

/// Named scalar loss terms, each a batch mean, each a quantity to minimise (KL ≥ 0, NLL in nats).
public struct LossTerms {
    public var total: Tensor
    /// Terms in a fixed order, e.g. `[("reconstruction", …), ("kl", …)]`.
    public var terms: [(name: String, value: Tensor)]

    public init(total: Tensor, terms: [(name: String, value: Tensor)]) {
        self.total = total
        self.terms = terms
    }

    public func value(_ name: String) -> Float? { terms.first { $0.name == name }?.value.scalar }
}

extension VariationalAutoencoder {
    public var latentSize: Int { specification.latentSize }

    /// The negative ELBO per row: reconstruction −log p(x|z) and KL(q(z|x) ‖ N(0, I)), one sample of z.
    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let posterior = encode(input)
        let latent = posterior.sample(using: &noise)
        let reconstruction = -decode(latent).logProbability(input)
        return (reconstruction, posterior.klDivergenceFromStandardNormal())
    }

    /// The standard VAE objective: mean over the batch of reconstruction + KL.
    public func elboLoss(_ input: Tensor, context: LossContext, klWeight: Float = 1) -> LossTerms {
        let (reconstruction, kl) = negativeELBO(input, noise: &context.noise)
        let (meanReconstruction, meanKL) = (reconstruction.mean(), kl.mean())
        let total = klWeight == 1 ? meanReconstruction + meanKL : meanReconstruction + meanKL * klWeight
        return LossTerms(total: total, terms: [("reconstruction", meanReconstruction), ("kl", meanKL)])
    }

    public func loss(_ input: Tensor, context: LossContext) -> LossTerms { elboLoss(input, context: context) }

    /// log w = log p(x|z) + log p(z) − log q(z|x) for `samples` draws z ~ q(z|x) per row: `[batch, samples]`.
    /// Differentiable, so it serves the IWAE objective as well as NLL evaluation.
    public func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        let batch = input.shape[0]
        let posterior = encode(input)
        let rows = (0..<batch).flatMap { [Int](repeating: $0, count: samples) }
        let repeated = DiagonalNormal(mean: posterior.mean.gathering(rows),
                                      logVariance: posterior.logVariance.gathering(rows))
        let latent = repeated.sample(using: &noise)
        let logPrior = DiagonalNormal.standard(shape: latent.shape).logProbability(latent)
        let logLikelihood = decode(latent).logProbability(input.gathering(rows))
        let logWeights = logLikelihood + logPrior - repeated.logProbability(latent)
        return logWeights.reshaped([batch, samples])
    }

    /// The importance-weighted bound log (1/k) Σ w (Burda et al. 2016) per row; k = 1 gives the ELBO.
    public func importanceWeightedBound(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        logImportanceWeights(input, samples: samples, noise: &noise).logSumExp(alongAxis: 1)
            - Float(Foundation.log(Double(samples)))
    }
}
