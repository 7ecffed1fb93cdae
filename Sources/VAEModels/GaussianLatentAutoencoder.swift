import Foundation
import VAEDistributions
import VAETensor

/// A VAE whose posterior is a diagonal Gaussian and whose prior is N(0, I) (Kingma & Welling 2014): it
/// provides `encode`, and everything else the protocol asks for follows from it here, once.
public protocol GaussianLatentAutoencoder: VariationalAutoencoder {
    /// q(z|x) for a batch of flattened inputs `[batch, features]`.
    func encode(_ input: Tensor) -> DiagonalNormal
}

extension GaussianLatentAutoencoder {
    /// Reconstruction −log p(x|z) at one reparameterised z = μ + σ·ε, and the closed-form KL to N(0, I).
    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let posterior = encode(input)
        let latent = posterior.sample(using: &noise)
        let reconstruction = -decode(latent).logProbability(input)
        return (reconstruction, posterior.klDivergenceFromStandardNormal())
    }

    public func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        let batch = input.shape[0]
        let posterior = encode(input)
        let rows = repeatedRows(batch, samples: samples)
        let repeated = DiagonalNormal(mean: posterior.mean.gathering(rows),
                                      logVariance: posterior.logVariance.gathering(rows))
        let latent = repeated.sample(using: &noise)
        let logPrior = DiagonalNormal.standard(shape: latent.shape).logProbability(latent)
        let logLikelihood = decode(latent).logProbability(input.gathering(rows))
        let logWeights = logLikelihood + logPrior - repeated.logProbability(latent)
        return logWeights.reshaped([batch, samples])
    }

    /// The posterior means and ½(μ² + σ² − 1 − log σ²) per coordinate.
    public func latentSummary(_ input: Tensor) -> LatentSummary {
        let posterior = encode(input)
        let (mean, logVariance) = (posterior.mean, posterior.logVariance)
        return LatentSummary(code: mean, klPerDimension: (mean.squared() + logVariance.exp() - logVariance - 1) * 0.5)
    }

    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        random.normal(shape: [count, latentSize])
    }
}
