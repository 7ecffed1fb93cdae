import Foundation
import Testing
import VAEDistributions
import VAETensor
import VAENN
import VAEModels

/// Every test of this target sits under this suite, serialised: `GradientTape.current` is one process-wide
/// variable, so two tests recording tapes at once would see each other's records.
@Suite(.serialized) struct VAEModelsTests {}

/// Fixed pseudo-random values in ±(0.2…1.2)·scale.
func smoothValues(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var random = RandomStream(seed: seed, name: "values")
    let magnitudes = random.uniform(count: shape.reduce(1, *)).map { (0.2 + $0) * scale }
    let signs = random.uniform(count: magnitudes.count)
    return Tensor(shape: shape, scalars: zip(magnitudes, signs).map { $1 < 0.5 ? -$0 : $0 })
}

/// Finite-difference check of reverse-mode gradients of `function` with respect to each of `inputs`.
///
/// The probe is L = Σ f(x)·w with fixed random weights w (every output element matters), accumulated in
/// Double. Central differences with h = 1e-2 have truncation error O(h²·f‴) ≈ 1e-4 for inputs of order 1,
/// and Float32 rounding of f adds ≈ 1e-7·|L|/h ≈ 1e-4; a tolerance of 2e-3 absolute plus 1e-2 relative is an
/// order of magnitude above that and far below the O(1) error of a wrong derivative.
func checkGradients(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
                    _ function: ([Tensor]) -> Tensor) {
    var random = RandomStream(seed: 99, name: "probe")
    let sample = withoutGradients { function(inputs) }
    let weights = random.uniform(shape: sample.shape, in: -1...1)

    func probe(_ values: [Tensor]) -> Double {
        let output = withoutGradients { function(values) }
        return zip(output.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    let tape = GradientTape()
    let (output, tracked) = tape.recording { () -> (Tensor, [Tensor]) in
        let tracked = inputs.map { tape.watch($0) }
        return ((function(tracked) * weights).sum(), tracked)
    }
    let analytic = tape.gradients(of: output, withRespectTo: tracked)

    let step: Float = 1e-2
    for (inputIndex, input) in inputs.enumerated() {
        #expect(analytic[inputIndex].shape == input.shape, sourceLocation: sourceLocation)
        var anyNonZero = false
        for position in 0..<input.count {
            var plus = inputs, minus = inputs
            var plusScalars = plus[inputIndex].scalars, minusScalars = minus[inputIndex].scalars
            plusScalars[position] += step
            minusScalars[position] -= step
            plus[inputIndex] = Tensor(shape: input.shape, scalars: plusScalars)
            minus[inputIndex] = Tensor(shape: input.shape, scalars: minusScalars)
            let numeric = (probe(plus) - probe(minus)) / (2 * Double(step))
            let exact = Double(analytic[inputIndex].scalars[position])
            if exact != 0 { anyNonZero = true }
            let tolerance = 2e-3 + 1e-2 * max(abs(numeric), abs(exact))
            #expect(abs(numeric - exact) <= tolerance,
                    "input \(inputIndex)[\(position)]: analytic \(exact), numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
        #expect(anyNonZero, "input \(inputIndex) received no gradient", sourceLocation: sourceLocation)
    }
}

/// `|actual − expected| ≤ absolute + relative·|expected|` for every element.
func expectClose(_ actual: [Float], _ expected: [Double], absolute: Double, relative: Double = 0,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count \(actual.count) vs \(expected.count)",
            sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        #expect(abs(Double(a) - e) <= absolute + relative * abs(e),
                "\(what)[\(index)]: got \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}

/// A 16-pixel model small enough for many steps in a test: 16 → 8 (ReLU) → 3 → 8 → 16.
let smallSpecification = ModelSpecification(name: "mlp", inputShape: [1, 4, 4],
                                            settings: ["hidden_sizes": [8], "latent_size": 3])

func makeSmallModel(seed: UInt64 = 1) throws -> ComposedVAE {
    var random = RandomStream(seed: seed, name: "init")
    return try gaussian(ModelRegistry.make(smallSpecification, random: &random))
}

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
    #expect(terms!.terms.allSatisfy { $0.value.isFinite && $0.value.scalar >= 0 }, "every term is to minimise",
            sourceLocation: sourceLocation)
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
