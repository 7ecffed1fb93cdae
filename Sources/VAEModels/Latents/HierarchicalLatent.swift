import VAEDistributions
import VAENN
import VAETensor

/// A stack of L Gaussian stochastic layers z₁ … z_L with the generative model
/// p(z_L) p(z_{L−1} | z_L) … p(z₁ | z₂) p(x | z₁): the decoder network reads z₁ (the code), each p(z_i | z_{i+1}) is
/// an MLP block with mean and log-variance heads, and p(z_L) = N(0, I). Two ways to infer the layers:
///
/// - ``Inference/bottomUp`` (Burda et al. 2016's two-layer model, `hvae`): q(z₁|x) from the encoder's features,
///   then q(z_{i+1} | z_i), each a block on the layer below's draw.
/// - ``Inference/topDown`` (Sønderby et al. 2016's ladder VAE, `ladder-vae`): a deterministic bottom-up pass
///   d₁ = features, d_{i+1} = MLP(d_i) gives a Gaussian factor per layer; q(z_L|x) is the top one, and going down,
///   q(z_i | z_{i+1}, x) is the precision-weighted product of layer i's factor and p(z_i | z_{i+1}).
///
/// The KL term is the one-sample estimate log q(z₁…z_L | x) − log p(z₁…z_L) at the draw; importance weights use
/// the same densities. Blocks between layers have `latent_hidden_layers` layers of the gap's width, with the
/// network's activation and, when the network reads it and it is on, its `batch_norm` (none on the heads).
/// Checkpoint names: `upward.I.…` (q(z₁|x), q(z₂|z₁) … or the ladder's factors) and `downward.I.…` (p(z_{I+1} | z_{I+2})).
public final class HierarchicalLatent: Module, LatentSpace {
    public enum Inference: String, Sendable {
        case bottomUp = "bottom-up"
        case topDown = "top-down"
    }

    public let inference: Inference
    /// Widths of z₁ … z_L.
    public let sizes: [Int]
    /// Layer by layer from the bottom: q(z₁|x) (heads on the features), then each layer's block on the draw of the
    /// layer below (bottom-up) or on the deterministic output of the block below (top-down).
    let upward: [GaussianBlock]
    /// p(z_i | z_{i+1}) for i = 1 … L−1.
    let downward: [GaussianBlock]
    override public var namesItsChildren: Bool { false }

    /// `gaps` holds one list of hidden widths per pair of neighbouring layers (L − 1 of them).
    public init(inference: Inference, featureSize: Int, sizes: [Int], gaps: [[Int]], activation: Activation,
                batchNorm: Bool, random: inout RandomStream) {
        precondition(!sizes.isEmpty && gaps.count == sizes.count - 1, "HierarchicalLatent: \(sizes.count) layers, \(gaps.count) gaps")
        self.inference = inference
        self.sizes = sizes
        var upward = [GaussianBlock(inputSize: featureSize, hidden: [], outputSize: sizes[0], activation: activation,
                                    batchNorm: batchNorm, random: &random)]
        var below = featureSize
        for layer in 1..<sizes.count {
            let input = inference == .bottomUp ? sizes[layer - 1] : below
            upward.append(GaussianBlock(inputSize: input, hidden: gaps[layer - 1], outputSize: sizes[layer],
                                        activation: activation, batchNorm: batchNorm, random: &random))
            below = gaps[layer - 1].last ?? below
        }
        self.upward = upward
        downward = (0..<sizes.count - 1).map { layer in
            GaussianBlock(inputSize: sizes[layer + 1], hidden: gaps[layer].reversed(), outputSize: sizes[layer],
                          activation: activation, batchNorm: batchNorm, random: &random)
        }
        super.init()
    }

    public var codeSize: Int { sizes[0] }

    /// One pass through the layers: each layer's posterior and draw (its mean when `noise` is nil), and the
    /// conditional priors p(z_i | z_{i+1}) at the draws.
    struct Pass {
        var posteriors: [DiagonalNormal]
        var draws: [Tensor]
        var priors: [DiagonalNormal]

        var logPosterior: Tensor {
            zip(posteriors, draws).map { $0.logProbability($1) }.dropFirst().reduce(posteriors[0].logProbability(draws[0]), +)
        }

        var logPrior: Tensor {
            let top = DiagonalNormal.standardLogProbability(draws.last!)
            return zip(priors, draws).reduce(top) { $0 + $1.0.logProbability($1.1) }
        }
    }

    func pass(_ features: Tensor, noise: inout RandomStream?) -> Pass {
        func draw(_ normal: DiagonalNormal) -> Tensor {
            noise == nil ? normal.mean : normal.sample(using: &noise!)
        }
        switch inference {
        case .bottomUp:
            var posteriors: [DiagonalNormal] = [], draws: [Tensor] = []
            var input = features
            for block in upward {
                let posterior = block(input).normal
                posteriors.append(posterior)
                draws.append(draw(posterior))
                input = draws.last!
            }
            let priors = downward.enumerated().map { $1(draws[$0 + 1]).normal }
            return Pass(posteriors: posteriors, draws: draws, priors: priors)
        case .topDown:
            var factors: [DiagonalNormal] = []
            var input = features
            for block in upward {
                let (hidden, factor) = block(input)
                factors.append(factor)
                input = hidden
            }
            var posteriors = [factors.last!], draws = [draw(factors.last!)], priors: [DiagonalNormal] = []
            for layer in (0..<sizes.count - 1).reversed() {
                let prior = downward[layer](draws[0]).normal
                let posterior = factors[layer].precisionWeighted(with: prior)
                priors.insert(prior, at: 0)
                posteriors.insert(posterior, at: 0)
                draws.insert(draw(posterior), at: 0)
            }
            return Pass(posteriors: posteriors, draws: draws, priors: priors)
        }
    }

    private func sampledPass(_ features: Tensor, noise: inout RandomStream) -> Pass {
        var stream: RandomStream? = noise
        defer { noise = stream! }
        return pass(features, noise: &stream)
    }

    public func trainingDraw(_ features: Tensor, noise: inout RandomStream, step: Int) -> (code: Tensor, kl: [KLPart]) {
        let (code, kl) = exactDraw(features, noise: &noise)
        return (code, [KLPart(name: "kl", kind: .continuous, values: kl)])
    }

    public func exactDraw(_ features: Tensor, noise: inout RandomStream) -> (code: Tensor, kl: Tensor) {
        let pass = sampledPass(features, noise: &noise)
        return (pass.draws[0], pass.logPosterior - pass.logPrior)
    }

    public func importanceDraw(_ features: Tensor, samples: Int, noise: inout RandomStream) -> ImportanceDraw {
        let pass = sampledPass(features.repeatingEachRow(samples), noise: &noise)
        return ImportanceDraw(code: pass.draws[0], added: pass.logPrior, subtracted: pass.logPosterior)
    }

    /// The code is z₁'s posterior mean with every layer at its mean; the KL per coordinate is z₁'s, against
    /// p(z₁ | z₂) at z₂'s mean (N(0, I) for one layer): what active units count.
    public func summary(_ features: Tensor) -> LatentSummary {
        var none: RandomStream? = nil
        let pass = pass(features, noise: &none)
        let prior = pass.priors.first ?? .standard(shape: pass.draws[0].shape)
        return LatentSummary(code: pass.draws[0], klPerDimension: pass.posteriors[0].klPerDimension(from: prior))
    }

    /// z_L ~ N(0, I), then each z_i ~ p(z_i | z_{i+1}) down to z₁.
    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        var code = random.normal(shape: [count, sizes.last!])
        for block in downward.reversed() { code = block(code).normal.sample(using: &random) }
        return code
    }
}

/// A Gaussian over one stochastic layer: an optional block of activated hidden layers, then mean and log-variance
/// heads. Returns the block's output (the input when it has no layers) with the Gaussian.
final class GaussianBlock: Module {
    let hidden: MLP?
    let mean: Linear
    let logVariance: Linear

    init(inputSize: Int, hidden widths: [Int], outputSize: Int, activation: Activation, batchNorm: Bool,
         random: inout RandomStream) {
        hidden = widths.isEmpty ? nil : MLP(sizes: [inputSize] + widths, activation: activation, activatesOutput: true,
                                            batchNorm: batchNorm, random: &random)
        let width = widths.last ?? inputSize
        mean = Linear(inputSize: width, outputSize: outputSize, random: &random)
        logVariance = Linear(inputSize: width, outputSize: outputSize, random: &random)
        super.init()
    }

    func callAsFunction(_ input: Tensor) -> (hidden: Tensor, normal: DiagonalNormal) {
        let output = hidden.map { $0(input) } ?? input
        return (output, DiagonalNormal(mean: mean(output), logVariance: logVariance(output)))
    }
}

extension HierarchicalLatent {
    public static let latentSizes = Setting<[Int]>(
        "latent_sizes", default: [100, 50], .nonEmptyList(1...4096),
        doc: "widths of the stochastic layers z1 … zL, bottom (the decoder's code) first")
    public static let hiddenSizes = Setting<[Int]>(
        "latent_hidden_sizes", default: [50], .nonEmptyList(1...65536),
        doc: "width of the deterministic layers between stochastic layers i and i+1, one per gap (one value serves every gap)")
    public static let hiddenLayers = Setting<Int>(
        "latent_hidden_layers", default: 2, .integers(0...16),
        doc: "deterministic layers between neighbouring stochastic layers (in q and in p)")

    static let settings = [latentSizes.declaration, hiddenSizes.declaration, hiddenLayers.declaration]

    /// The widths of each gap's layers, or an error naming `latent_hidden_sizes`.
    static func gaps(_ specification: ModelSpecification) throws -> [[Int]] {
        let layers = specification[latentSizes].count, widths = specification[hiddenSizes]
        guard widths.count == 1 || widths.count == layers - 1 else {
            throw ModelError("model_params.latent_hidden_sizes: expected one width, or one per gap between the \(layers) stochastic layers of latent_sizes (\(layers - 1)), got \(widths.count)")
        }
        let depth = specification[hiddenLayers]
        return (0..<layers - 1).map { [Int](repeating: widths.count == 1 ? widths[0] : widths[$0], count: depth) }
    }

    static func part(_ inference: Inference) -> LatentPart {
        LatentPart(settings: settings) { specification, featureSize, random in
            HierarchicalLatent(inference: inference, featureSize: featureSize, sizes: specification[latentSizes],
                               gaps: try gaps(specification), activation: specification.activation,
                               batchNorm: specification.batchNorm, random: &random)
        }
    }

    /// Bottom-up inference (`hvae`).
    public static let bottomUp = part(.bottomUp)
    /// Top-down inference with precision-weighted merging (`ladder-vae`).
    public static let topDown = part(.topDown)
}
