import Foundation
import Testing
import VAEDistributions
import VAETensor
import VAENN
import VAEModels

/// Every test of this target sits under this suite, serialised: `GradientTape.current` is one process-wide
/// variable, so two tests recording tapes at once would see each other's records.
@Suite(.serialized) struct VAEModelsTests {}

/// A 16-pixel model small enough for many steps in a test: 16 → 8 (ReLU) → 3 → 8 → 16.
let smallSpecification = ModelSpecification(name: "mlp", inputShape: [1, 4, 4],
                                            settings: ["hidden_sizes": [8], "latent_size": 3])

func makeSmallModel(seed: UInt64 = 1) throws -> ComposedVAE {
    try gaussian(makeModel(smallSpecification, seed: seed))
}

/// The model `specification` describes, its parameters drawn from the `init` stream of `seed`.
func makeModel(_ specification: ModelSpecification, seed: UInt64 = 1) throws -> any VariationalAutoencoder {
    var random = RandomStream(seed: seed, name: "init")
    return try ModelRegistry.make(specification, random: &random)
}

/// A tensor's values in Double, for comparisons against formulas evaluated in Double.
func doubles(_ tensor: Tensor) -> [Double] { tensor.scalars.map(Double.init) }

/// The model as a composed one with a Gaussian latent (so tests can call `encode`), or a failure naming its type.
func gaussian(_ model: any VariationalAutoencoder) throws -> ComposedVAE {
    guard let composed = model as? ComposedVAE, composed.latent is GaussianLatent else {
        throw ModelError("\(type(of: model)) is not a ComposedVAE with a Gaussian latent")
    }
    return composed
}

extension ComposedVAE {
    /// q(z|x) of a model whose latent has a Gaussian part (tests build only such models with this).
    func encode(_ input: Tensor) -> DiagonalNormal { gaussianPosterior(input)! }
    /// q(z|x, y) and p(x|z, y) of a conditional model for one label per row.
    func encode(_ input: Tensor, labels: [Int]) -> DiagonalNormal { (conditioned(on: labels) as! ComposedVAE).encode(input) }
    func decode(_ latent: Tensor, labels: [Int]) -> any Likelihood { conditioned(on: labels).decode(latent) }
    var gaussianLatent: GaussianLatent { latent as! GaussianLatent }
    var categoricalLatent: CategoricalLatent { latent as! CategoricalLatent }
}

/// Binary data with structure to learn: four fixed random 16-pixel prototypes, each row one of them (chosen
/// by `seed`'s stream) with every pixel flipped with probability 0.1. The best model's loss is near
/// 16·H(0.1) + log 4 ≈ 6.6 nats; a model that ignores the structure pays ≈ 16·log 2 ≈ 11.1.
func prototypeData(rows: Int, seed: UInt64) -> Tensor {
    var patterns = RandomStream(seed: 0, name: "prototypes")
    let prototypes = patterns.uniform(count: 4 * 16).map { $0 < 0.5 ? Float(0) : 1 }
    var random = RandomStream(seed: seed, name: "data")
    var scalars: [Float] = []
    for _ in 0..<rows {
        let which = random.integer(below: 4)
        let flips = random.uniform(count: 16)
        for pixel in 0..<16 {
            let value = prototypes[which * 16 + pixel]
            scalars.append(flips[pixel] < 0.1 ? 1 - value : value)
        }
    }
    return Tensor(shape: [rows, 16], scalars: scalars)
}

/// The gradients of `model.loss` for every parameter (in ``Module/parameters`` order), after checking that the
/// loss is a finite scalar and every logged term a finite quantity to minimise (≥ 0).
func checkedLossGradients(_ model: any VariationalAutoencoder, _ input: Tensor, context: LossContext,
                          sourceLocation: SourceLocation = #_sourceLocation) -> [Tensor] {
    var terms: LossTerms?
    let (value, gradients) = model.valueWithGradients {
        terms = model.loss(input, context: context)
        return terms!.total
    }
    #expect(value.isFinite && value.shape == [], sourceLocation: sourceLocation)
    // Every logged term is a quantity to minimise, ≥ 0 — but the unbiased MMD² estimate (WAE-MMD, InfoVAE), whose
    // expectation is ≥ 0, dips below 0 when the two samples are close, and β-TCVAE's minibatch estimates of log q(z)
    // carry constant offsets (log N·M per density) that can make a single term negative; they must still be finite.
    // FactorVAE's total correlation is a discriminator's mean logit, negative while the discriminator is untrained.
    let estimates: Set<String> = ["mmd", "mutual_information", "total_correlation", "dimension_wise_kl"]
    #expect(terms!.terms.allSatisfy { $0.value.isFinite && ($0.value.scalar >= 0 || estimates.contains($0.name)) },
            "every term is to minimise", sourceLocation: sourceLocation)
    return gradients
}

/// Every gradient has its parameter's shape, is finite and is non-zero somewhere.
func expectEveryParameterLearns(_ named: [(name: String, parameter: Parameter)], _ gradients: [Tensor],
                                prefix: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!named.isEmpty && named.count == gradients.count, sourceLocation: sourceLocation)
    for ((name, parameter), gradient) in zip(named, gradients) {
        #expect(gradient.shape == parameter.shape, "\(prefix)\(name)", sourceLocation: sourceLocation)
        #expect(gradient.isFinite, "\(prefix)\(name)", sourceLocation: sourceLocation)
        #expect(gradient.scalars.contains { $0 != 0 }, "\(prefix)\(name) got no gradient", sourceLocation: sourceLocation)
    }
}

/// Adam with PyTorch's defaults, written out here because this test target depends on VAEModels only
/// (VAEOptimizers' Adam is checked against the same rule in VAENNTests).
final class MinimalAdam {
    let learningRate: Double
    var step = 0
    var first: [[Double]] = [], second: [[Double]] = []

    init(learningRate: Double) { self.learningRate = learningRate }

    func update(_ parameters: [Parameter], gradients: [Tensor]) {
        if first.isEmpty {
            first = parameters.map { [Double](repeating: 0, count: $0.value.count) }
            second = first
        }
        step += 1
        let correction1 = 1 - Foundation.pow(0.9, Double(step)), correction2 = 1 - Foundation.pow(0.999, Double(step))
        for (index, parameter) in parameters.enumerated() {
            var values = parameter.value.scalars
            for position in values.indices {
                let g = Double(gradients[index].scalars[position])
                first[index][position] = 0.9 * first[index][position] + 0.1 * g
                second[index][position] = 0.999 * second[index][position] + 0.001 * g * g
                let denominator = (second[index][position] / correction2).squareRoot() + 1e-8
                values[position] -= Float(learningRate * first[index][position] / correction1 / denominator)
            }
            parameter.value = Tensor(shape: parameter.shape, scalars: values)
        }
    }
}

/// 300-step-style training: Adam on minibatches drawn with replacement from `data`.
func train(_ model: any VariationalAutoencoder, data: Tensor, steps: Int, batchSize: Int = 32,
           learningRate: Double = 1e-3) {
    let optimizer = MinimalAdam(learningRate: learningRate)
    var shuffle = RandomStream(seed: 5, name: "shuffle")
    let context = LossContext(noise: RandomStream(seed: 5, name: "noise"))
    for step in 0..<steps {
        let rows = (0..<batchSize).map { _ in shuffle.integer(below: data.shape[0]) }
        let batch = data.gathering(rows)
        context.step = step
        let (_, gradients) = model.valueWithGradients { model.loss(batch, context: context).total }
        optimizer.update(model.parameters, gradients: gradients)
    }
}
