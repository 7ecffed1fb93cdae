import VAEDistributions
import VAENN
import VAETensor

/// A diagonal Gaussian posterior q(z|x) = N(μ, σ²) from two linear heads (`mean`, `log_variance`) and a
/// ``LatentPrior`` p(z), N(0, I) by default (Kingma & Welling 2014): draws are reparameterised, z = μ + σ·ε.
public final class GaussianLatent: Module, LatentSpace {
    public let mean: Linear
    public let logVariance: Linear
    public let prior: any LatentPrior
    override public var namesItsChildren: Bool { false }

    public convenience init(featureSize: Int, latentSize: Int, prior: any LatentPrior = StandardNormalPrior(),
                            random: inout RandomStream) {
        let mean = Linear(inputSize: featureSize, outputSize: latentSize, random: &random)
        self.init(mean: mean, logVariance: Linear(inputSize: featureSize, outputSize: latentSize, random: &random),
                  prior: prior)
    }

    public init(mean: Linear, logVariance: Linear, prior: any LatentPrior) {
        self.mean = mean
        self.logVariance = logVariance
        self.prior = prior
        super.init()
    }

    /// Gives the prior this latent's posterior of any input, through the model's encoder `features`.
    public func attachPrior(features: @escaping (Tensor) -> Tensor) {
        prior.attach { [unowned self] input in self.posterior(features(input)) }
    }

    public var codeSize: Int { mean.outputSize }

    public func posterior(_ features: Tensor) -> DiagonalNormal {
        DiagonalNormal(mean: mean(features), logVariance: logVariance(features))
    }

    public func trainingDraw(_ features: Tensor, noise: inout RandomStream, step: Int) -> (code: Tensor, kl: [KLPart]) {
        let (code, kl) = exactDraw(features, noise: &noise)
        return (code, [KLPart(name: "kl", kind: .continuous, values: kl)])
    }

    public func exactDraw(_ features: Tensor, noise: inout RandomStream) -> (code: Tensor, kl: Tensor) {
        let posterior = posterior(features)
        let code = posterior.sample(using: &noise)
        return (code, prior.kl(posterior, draw: code))
    }

    public func importanceDraw(_ features: Tensor, samples: Int, noise: inout RandomStream) -> ImportanceDraw {
        let posterior = posterior(features)
        let repeated = posterior.repeatingEachRow(samples)
        let code = repeated.sample(using: &noise)
        return ImportanceDraw(code: code, added: prior.logProbability(code), subtracted: repeated.logProbability(code))
    }

    /// The posterior means and the prior's KL per coordinate.
    public func summary(_ features: Tensor) -> LatentSummary {
        let posterior = posterior(features)
        return LatentSummary(code: posterior.mean, klPerDimension: prior.klPerDimension(posterior))
    }

    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        samplePrior(count: count, random: &random, on: nil)
    }

    public func samplePrior(count: Int, random: inout RandomStream, on backend: (any TensorBackend)?) -> Tensor {
        prior.sample(count: count, dimensions: codeSize, random: &random, on: backend)
    }
}

extension GaussianLatent {
    public static let latentSize = Setting<Int>(
        "latent_size", default: 20, .integers(0...4096),
        doc: "dimensions of the Gaussian latent z (0 only where a model's code has other parts)")

    /// The Gaussian part's width, or an error naming the model when it must be at least 1.
    static func size(_ specification: ModelSpecification, required: Bool) throws -> Int {
        let size = specification[latentSize]
        if required && size < 1 {
            throw ModelError("model_params.latent_size: model '\(specification.name)' needs a latent of at least 1 dimension, got \(size)")
        }
        return size
    }

    /// `latent_size` dimensions (at least 1) and the standard normal prior.
    public static let part = withPrior(StandardNormalPrior.part)

    /// `latent_size` dimensions and the prior `prior` builds, with its settings; the prior's weights are drawn
    /// after the heads'.
    public static func withPrior(_ prior: PriorPart) -> LatentPart {
        LatentPart(settings: [latentSize.declaration] + prior.settings) { specification, features, random in
            let size = try size(specification, required: true)
            let mean = Linear(inputSize: features, outputSize: size, random: &random)
            let logVariance = Linear(inputSize: features, outputSize: size, random: &random)
            return GaussianLatent(mean: mean, logVariance: logVariance, prior: try prior.make(specification, &random))
        }
    }
}
