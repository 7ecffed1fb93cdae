import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// N categorical variables of K classes (`categorical_size`, `categories`) with a uniform prior, optionally after a
/// Gaussian part of `latent_size` dimensions with a ``LatentPrior`` (N(0, I) by default; a joint latent, Dupont
/// 2018): a code is `[z_gaussian | one-hot (N·K)]`.
///
/// Training draws go through the Gumbel-Softmax relaxation (Jang, Gu & Poole 2017) at the temperature
/// τ = max(τ_min, τ₀·exp(−r·step)) (`temperature`, `temperature_min`, `temperature_rate`), straight-through when
/// `hard`; the draws evaluation and the NLL use are exact one-hot codes (Gumbel-max), so the test −ELBO and the NLL
/// bound the discrete model. Heads: `mean`, `log_variance` (when there is a Gaussian part) and `logits`.
public final class CategoricalLatent: Module, LatentSpace {
    public let mean: Linear?
    public let logVariance: Linear?
    public let logits: Linear
    public let variables: Int
    public let categories: Int
    public let schedule: TemperatureSchedule
    public let hard: Bool
    /// The Gaussian part's prior.
    public let prior: any LatentPrior
    override public var namesItsChildren: Bool { false }

    /// τ₀, τ_min and the rate r of τ = max(τ_min, τ₀·exp(−r·step)).
    public struct TemperatureSchedule: Equatable, Sendable {
        public var initial: Double
        public var minimum: Double
        public var rate: Double

        public init(initial: Double, minimum: Double, rate: Double) {
            self.initial = initial
            self.minimum = minimum
            self.rate = rate
        }

        public func temperature(atStep step: Int) -> Float {
            Float(max(minimum, initial * Foundation.exp(-rate * Double(max(step, 0)))))
        }
    }

    public init(featureSize: Int, continuousSize: Int, variables: Int, categories: Int, schedule: TemperatureSchedule,
                hard: Bool, prior: any LatentPrior = StandardNormalPrior(), random: inout RandomStream) throws {
        guard variables >= 1 else {
            throw ModelError("model_params.categorical_size: a categorical latent needs at least one variable, got \(variables)")
        }
        guard variables * categories <= 65536 else {
            throw ModelError("model_params.categorical_size: \(variables) variables × \(categories) categories = \(variables * categories) one-hot coordinates; at most 65536 are supported")
        }
        guard schedule.minimum <= schedule.initial else {
            throw ModelError("model_params.temperature_min: \(schedule.minimum) is above the initial temperature \(schedule.initial)")
        }
        mean = continuousSize > 0 ? Linear(inputSize: featureSize, outputSize: continuousSize, random: &random) : nil
        logVariance = continuousSize > 0 ? Linear(inputSize: featureSize, outputSize: continuousSize, random: &random) : nil
        logits = Linear(inputSize: featureSize, outputSize: variables * categories, random: &random)
        self.variables = variables
        self.categories = categories
        self.schedule = schedule
        self.hard = hard
        self.prior = prior
        super.init()
    }

    public var continuousSize: Int { mean?.outputSize ?? 0 }
    public var codeSize: Int { continuousSize + variables * categories }
    /// The most KL the codes can carry under the uniform prior: N·log K nats.
    public var discreteCeiling: Double { Double(variables) * Foundation.log(Double(categories)) }

    /// The posterior: an optional diagonal Gaussian and the categorical variables.
    public func posterior(_ features: Tensor) -> (gaussian: DiagonalNormal?, categorical: Categorical) {
        var gaussian: DiagonalNormal?
        if let mean, let logVariance { gaussian = DiagonalNormal(mean: mean(features), logVariance: logVariance(features)) }
        return (gaussian, Categorical(logits: logits(features), categories: categories))
    }

    /// `[gaussian | codes]`, or the codes alone.
    func code(_ gaussian: Tensor?, _ codes: Tensor) -> Tensor {
        guard let gaussian else { return codes }
        return Tensor.concatenate([gaussian, codes], alongAxis: 1)
    }

    /// A reparameterised Gaussian draw, then a Gumbel-Softmax draw; KL parts `kl_continuous` (when there is a
    /// Gaussian part) and `kl_discrete`.
    public func trainingDraw(_ features: Tensor, noise: inout RandomStream, step: Int) -> (code: Tensor, kl: [KLPart]) {
        let posterior = posterior(features)
        let gaussian = posterior.gaussian?.sample(using: &noise)
        let relaxed = RelaxedOneHotCategorical(logits: posterior.categorical.logits, categories: categories,
                                               temperature: schedule.temperature(atStep: step))
        let codes = relaxed.sample(using: &noise, hard: hard)
        var parts = [KLPart(name: "kl_discrete", kind: .discrete, values: posterior.categorical.klDivergenceFromUniform(),
                            ceiling: discreteCeiling)]
        if let posterior = posterior.gaussian, let gaussian {
            parts.insert(KLPart(name: "kl_continuous", kind: .continuous, values: prior.kl(posterior, draw: gaussian)), at: 0)
        }
        return (code(gaussian, codes), parts)
    }

    public func exactDraw(_ features: Tensor, noise: inout RandomStream) -> (code: Tensor, kl: Tensor) {
        let posterior = posterior(features)
        let gaussian = posterior.gaussian?.sample(using: &noise)
        let codes = posterior.categorical.sample(using: &noise)
        let discreteKL = posterior.categorical.klDivergenceFromUniform()
        guard let continuous = posterior.gaussian, let gaussian else { return (code(nil, codes), discreteKL) }
        return (code(gaussian, codes), prior.kl(continuous, draw: gaussian) + discreteKL)
    }

    public func importanceDraw(_ features: Tensor, samples: Int, noise: inout RandomStream) -> ImportanceDraw {
        let posterior = posterior(features)
        let categorical = Categorical(logits: posterior.categorical.logits.repeatingEachRow(samples), categories: categories)
        var gaussianDraw: Tensor?
        var logRatio = Tensor(Categorical.uniformLogProbability(variables: variables, categories: categories))
        if let gaussian = posterior.gaussian {
            let repeated = gaussian.repeatingEachRow(samples)
            let draw = repeated.sample(using: &noise)
            logRatio = logRatio + prior.logProbability(draw) - repeated.logProbability(draw)
            gaussianDraw = draw
        }
        let codes = categorical.sample(using: &noise)
        return ImportanceDraw(code: code(gaussianDraw, codes), added: logRatio, subtracted: categorical.logProbability(codes))
    }

    /// `[μ | class probabilities]` and `[the prior's KL per coordinate | q_k(log q_k + log K)]`.
    public func summary(_ features: Tensor) -> LatentSummary {
        let posterior = posterior(features)
        let categorical = posterior.categorical
        guard let gaussian = posterior.gaussian else {
            return LatentSummary(code: categorical.probabilities, klPerDimension: categorical.klPerCoordinateFromUniform())
        }
        return LatentSummary(code: code(gaussian.mean, categorical.probabilities),
                             klPerDimension: code(prior.klPerDimension(gaussian),
                                                  categorical.klPerCoordinateFromUniform()))
    }

    /// Draws of the Gaussian part's prior and uniform one-hot codes.
    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        let gaussian = continuousSize > 0 ? prior.sample(count: count, dimensions: continuousSize, random: &random) : nil
        return code(gaussian, Categorical.uniformSample(count: count, variables: variables, categories: categories,
                                                        random: &random))
    }
}

extension CategoricalLatent {
    public static let variables = Setting<Int>(
        "categorical_size", default: 0, .integers(0...4096), doc: "categorical latent variables N")
    public static let categories = Setting<Int>(
        "categories", default: 10, .integers(2...4096), doc: "classes K of each categorical variable")
    public static let temperature = Setting<Double>(
        "temperature", default: 1, .numbers(NumberRange(above: 0, atMost: 1e6)),
        doc: "Gumbel-Softmax temperature τ₀ at step 0 (Jang et al. 2017)")
    public static let temperatureMinimum = Setting<Double>(
        "temperature_min", default: 0.5, .numbers(NumberRange(above: 0, atMost: 1e6)),
        doc: "lowest annealed temperature τ_min")
    public static let temperatureRate = Setting<Double>(
        "temperature_rate", default: 3e-5, .numbers(atLeast: 0),
        doc: "annealing rate r of τ = max(τ_min, τ₀·exp(−r·step)); 0 keeps τ₀")
    public static let hard = Setting<Bool>(
        "hard", default: false, doc: "straight-through samples: one-hot forward, relaxed gradients backward")

    /// N categorical variables of K classes and an optional Gaussian part of `latent_size` dimensions
    /// (`needsGaussian`: at least 1, as joint-vae's).
    public static func part(needsGaussian: Bool) -> LatentPart {
        LatentPart(settings: [GaussianLatent.latentSize, variables, categories].map(\.declaration)
                   + [temperature, temperatureMinimum, temperatureRate].map(\.declaration) + [hard.declaration]) {
            specification, features, random in
            let continuousSize = try GaussianLatent.size(specification, required: needsGaussian)
            guard specification[variables] >= 1 else {
                throw ModelError("model_params.categorical_size: \(specification.name) needs at least one categorical variable, got \(specification[variables])")
            }
            return try CategoricalLatent(
                featureSize: features, continuousSize: continuousSize,
                variables: specification[variables], categories: specification[categories],
                schedule: TemperatureSchedule(initial: specification[temperature],
                                              minimum: specification[temperatureMinimum],
                                              rate: specification[temperatureRate]),
                hard: specification[hard], random: &random)
        }
    }
}
