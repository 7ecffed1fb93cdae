import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// The categorical VAE (`categorical-vae`, Jang, Gu & Poole 2017): the latent is N categorical variables of K
/// classes (`categorical_size`, `categories`) with a uniform prior, trained through the Gumbel-Softmax
/// relaxation at temperature τ = max(τ_min, τ₀·exp(−r·step)) (`temperature`, `temperature_min`,
/// `temperature_rate`), optionally straight-through (`hard`: one-hot forward, relaxed gradient).
///
/// An optional Gaussian part (`latent_size` > 0) sits before the one-hot codes, so a latent code is
/// `[z_gaussian (latent_size) | one-hot (N·K)]`; ``JointVAE`` is this model with Dupont's capacity objective.
///
/// Training minimises the relaxed objective: −log p(x|y) at a relaxed draw y plus the closed-form KL of q to
/// the prior. ``negativeELBO(_:noise:)`` and ``logImportanceWeights(_:samples:noise:)`` draw exact one-hot codes
/// instead, so the test −ELBO and the NLL are bounds of the discrete model, comparable with the other models'.
///
/// ```yaml
/// model_params: {name: categorical-vae, hidden_sizes: [512, 256], latent_size: 0, categorical_size: 30, categories: 10}
/// ```
public class CategoricalVAE: Module, VariationalAutoencoder {
    public let specification: ModelSpecification
    public let encoder: MLP          // x → hidden
    public let mean: Linear?         // hidden → μ of the Gaussian part (when latent_size > 0)
    public let logVariance: Linear?  // hidden → log σ²
    public let logits: Linear        // hidden → N·K logits of q(c|x)
    public let decoder: MLP          // [z, one-hot codes] → logits of p(x|z)
    public let observation: ObservationModel

    /// The posterior: an optional diagonal Gaussian and the categorical variables.
    public struct Posterior {
        public var gaussian: DiagonalNormal?
        public var categorical: Categorical
    }

    /// Row means of reconstruction and KL (the temperature depends on the step only); ``JointVAE``'s capacity
    /// penalties on batch-mean KLs do not split.
    public var lossSplitsOverRows: Bool { true }

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        let objective = specification.objective
        guard objective.categoricalSize >= 1 else {
            throw ModelError("model_params.categorical_size: \(specification.name) needs at least one categorical variable, got \(objective.categoricalSize)")
        }
        guard objective.categoricalSize * objective.categories <= 65536 else {
            throw ModelError("model_params.categorical_size: \(objective.categoricalSize) variables × \(objective.categories) categories = \(objective.categoricalSize * objective.categories) one-hot coordinates; at most 65536 are supported")
        }
        guard objective.temperatureMinimum <= objective.temperature else {
            throw ModelError("model_params.temperature_min: \(objective.temperatureMinimum) is above the initial temperature \(objective.temperature)")
        }
        self.specification = specification
        let hidden = specification.hiddenSizes
        let continuous = specification.latentSize
        let discrete = objective.categoricalSize * objective.categories
        encoder = MLP(sizes: [specification.inputSize] + hidden, activation: specification.activation,
                      activatesOutput: true, random: &random)
        mean = continuous > 0 ? Linear(inputSize: hidden.last!, outputSize: continuous, random: &random) : nil
        logVariance = continuous > 0 ? Linear(inputSize: hidden.last!, outputSize: continuous, random: &random) : nil
        logits = Linear(inputSize: hidden.last!, outputSize: discrete, random: &random)
        decoder = MLP(sizes: [continuous + discrete] + hidden.reversed() + [specification.inputSize],
                      activation: specification.activation, random: &random)
        observation = try ObservationModel(specification)
        super.init()
    }

    public var continuousSize: Int { specification.latentSize }
    public var variables: Int { specification.objective.categoricalSize }
    public var categories: Int { specification.objective.categories }
    public var latentSize: Int { continuousSize + variables * categories }

    /// τ = max(τ_min, τ₀·exp(−r·step)).
    public func temperature(atStep step: Int) -> Float {
        let objective = specification.objective
        return Float(max(objective.temperatureMinimum,
                         objective.temperature * Foundation.exp(-objective.temperatureRate * Double(max(step, 0)))))
    }

    public func encode(_ input: Tensor) -> Posterior {
        let hidden = encoder(input)
        var gaussian: DiagonalNormal?
        if let mean, let logVariance { gaussian = DiagonalNormal(mean: mean(hidden), logVariance: logVariance(hidden)) }
        return Posterior(gaussian: gaussian, categorical: Categorical(logits: logits(hidden), categories: categories))
    }

    public func decode(_ latent: Tensor) -> any Likelihood { observation(decoder(latent)) }

    /// A latent code `[z | codes]` from a Gaussian draw (when there is a Gaussian part) and one-hot or relaxed codes.
    func code(_ gaussian: Tensor?, _ codes: Tensor) -> Tensor {
        guard let gaussian else { return codes }
        return Tensor.concatenate([gaussian, codes], alongAxis: 1)
    }

    /// The relaxed objective's terms per row: −log p(x|y) at a reparameterised Gaussian draw and a
    /// Gumbel-Softmax draw at the step's temperature, and the two closed-form KLs (the Gaussian one nil when absent).
    public func relaxedTerms(_ input: Tensor, context: LossContext)
    -> (reconstruction: Tensor, continuousKL: Tensor?, discreteKL: Tensor) {
        let posterior = encode(input)
        let gaussian = posterior.gaussian?.sample(using: &context.noise)
        let relaxed = RelaxedOneHotCategorical(logits: posterior.categorical.logits, categories: categories,
                                               temperature: temperature(atStep: context.step))
        let codes = relaxed.sample(using: &context.noise, hard: specification.objective.hard)
        let reconstruction = -decode(code(gaussian, codes)).logProbability(input)
        return (reconstruction, posterior.gaussian?.klDivergenceFromStandardNormal(),
                posterior.categorical.klDivergenceFromUniform())
    }

    /// Reconstruction + KL of the relaxed draw, averaged over the batch. Logged: `reconstruction`, `kl`, and
    /// `kl_continuous`/`kl_discrete` when there is a Gaussian part.
    public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        let terms = relaxedTerms(input, context: context)
        let reconstruction = terms.reconstruction.mean()
        let discrete = terms.discreteKL.mean()
        guard let continuousKL = terms.continuousKL else {
            return LossTerms(total: reconstruction + discrete, terms: [("reconstruction", reconstruction), ("kl", discrete)])
        }
        let continuous = continuousKL.mean()
        let kl = continuous + discrete
        return LossTerms(total: reconstruction + kl, terms: [("reconstruction", reconstruction), ("kl", kl),
                                                             ("kl_continuous", continuous), ("kl_discrete", discrete)])
    }

    /// −log p(x|z) at an exact draw (Gaussian reparameterised, one-hot by Gumbel-max) and the closed-form KL.
    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let posterior = encode(input)
        let gaussian = posterior.gaussian?.sample(using: &noise)
        let codes = posterior.categorical.sample(using: &noise)
        let reconstruction = -decode(code(gaussian, codes)).logProbability(input)
        let discreteKL = posterior.categorical.klDivergenceFromUniform()
        return (reconstruction, posterior.gaussian.map { $0.klDivergenceFromStandardNormal() + discreteKL } ?? discreteKL)
    }

    public func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        let batch = input.shape[0]
        let posterior = encode(input)
        let rows = repeatedRows(batch, samples: samples)
        let categorical = Categorical(logits: posterior.categorical.logits.gathering(rows), categories: categories)
        var gaussianDraw: Tensor?
        var logRatio = Tensor(Categorical.uniformLogProbability(variables: variables, categories: categories))
        if let gaussian = posterior.gaussian {
            let repeated = DiagonalNormal(mean: gaussian.mean.gathering(rows), logVariance: gaussian.logVariance.gathering(rows))
            let draw = repeated.sample(using: &noise)
            logRatio = logRatio + DiagonalNormal.standard(shape: draw.shape).logProbability(draw) - repeated.logProbability(draw)
            gaussianDraw = draw
        }
        let codes = categorical.sample(using: &noise)
        let logWeights = decode(code(gaussianDraw, codes)).logProbability(input.gathering(rows))
            + logRatio - categorical.logProbability(codes)
        return logWeights.reshaped([batch, samples])
    }

    /// `[μ | class probabilities]` and `[½(μ² + σ² − 1 − log σ²) | q_k(log q_k + log K)]` per coordinate.
    public func latentSummary(_ input: Tensor) -> LatentSummary {
        let posterior = encode(input)
        let categorical = posterior.categorical
        guard let gaussian = posterior.gaussian else {
            return LatentSummary(code: categorical.probabilities, klPerDimension: categorical.klPerCoordinateFromUniform())
        }
        let (mean, logVariance) = (gaussian.mean, gaussian.logVariance)
        let gaussianKL = (mean.squared() + logVariance.exp() - logVariance - 1) * 0.5
        return LatentSummary(code: code(mean, categorical.probabilities),
                             klPerDimension: code(gaussianKL, categorical.klPerCoordinateFromUniform()))
    }

    /// Gaussian draws and uniform one-hot codes.
    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        let gaussian = continuousSize > 0 ? random.normal(shape: [count, continuousSize]) : nil
        return code(gaussian, Categorical.uniformSample(count: count, variables: variables, categories: categories,
                                                        random: &random))
    }
}
