import Foundation
import Testing
import VAEModels
import VAENN
import VAETensor
@testable import VAETraining

/// Data-parallel steps: a sharded batch must give exactly what its shards give one by one, weighted by their rows,
/// and only models whose loss is a row mean may be sharded.
@Suite(.serialized) struct BatchGradientsTests {
    static func model(_ yaml: String, seed: UInt64 = 3) throws -> any VariationalAutoencoder {
        var config = try ConfigLoader.parse(yaml, source: "test")
        config.experiment.seed = seed
        return try Factory.model(config, inputShape: [1, 28, 28])
    }

    static func input(rows: Int) -> Tensor {
        var random = RandomStream(seed: 11, name: "batch-input")
        return random.uniform(shape: [rows, 784])
    }

    /// Shards of 35 and 34 rows (69 is odd: the first shard takes the extra row) against the same rows computed
    /// whole, one shard at a time, with the shard's window of the noise stream.
    @Test(arguments: ["model_params: {name: mlp}", "model_params: {name: iwae, importance_samples: 3}",
                      "model_params: {name: categorical-vae, latent_size: 0, categorical_size: 4, categories: 5}"])
    func shardedStepEqualsItsShardsOneByOne(_ yaml: String) throws {
        let model = try Self.model(yaml)
        let input = Self.input(rows: 69)
        var noise = RandomStream(seed: 5, name: "noise")
        let start = noise
        let sharded = BatchGradients(model: model, input: input, labels: nil, noise: &noise, step: 7, shards: 2)
        #expect(sharded.shards == 2)

        var parts: [BatchGradients] = []
        var ends: [RandomStream] = []
        for range in [0..<35, 35..<69] {
            var shardNoise = start.rows(range, of: 69)
            parts.append(BatchGradients(model: model, input: input.slice(range), labels: nil, noise: &shardNoise, step: 7, shards: 1))
            ends.append(shardNoise)
        }
        let weights: [Float] = [35 / 69, 34 / 69]
        let loss = weights[0] * parts[0].loss + weights[1] * parts[1].loss
        #expect(abs(sharded.loss - loss) <= 1e-4 * abs(loss), "loss \(sharded.loss) vs \(loss)")
        for (position, term) in sharded.terms.enumerated() {
            let expected = weights[0] * parts[0].terms[position].value + weights[1] * parts[1].terms[position].value
            #expect(term.name == parts[0].terms[position].name)
            #expect(abs(term.value - expected) <= 1e-4 * max(abs(expected), 1), "\(term.name)")
        }
        for (index, gradient) in sharded.gradients.enumerated() {
            let expected = zip(parts[0].gradients[index].scalars, parts[1].gradients[index].scalars)
                .map { weights[0] * $0 + weights[1] * $1 }
            let scale = expected.map(abs).max() ?? 0
            let error = zip(gradient.scalars, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-4 * max(scale, 1e-3), "gradient \(index): error \(error), scale \(scale)")
        }
        // The stream continues after the whole batch's draws, as the unsplit step's does.
        var whole = start
        _ = BatchGradients(model: model, input: input, labels: nil, noise: &whole, step: 7, shards: 1)
        #expect(noise == start.joined(ends))
        #expect(noise == whole)
        #expect(noise.counter > start.counter)
    }

    /// The claim behind `lossSplitsOverRows`: two shards' weighted losses and gradients add up to the whole
    /// batch's, to rounding — they draw the whole batch's noise for their rows, so a data-parallel step computes
    /// the one-tape step's numbers (the sums over rows split differently).
    @Test(arguments: ["mlp", "beta-vae", "conv", "iwae", "categorical-vae"])
    func shardsAddUpToTheWholeBatch(_ name: String) throws {
        let model = try Factory.model(try ConfigLoader.load(name), inputShape: [1, 28, 28])
        let input = Self.input(rows: 64)
        let start = RandomStream(seed: 4, name: "noise")
        var whole = start, sharded = start
        let batch = BatchGradients(model: model, input: input, labels: nil, noise: &whole, step: 0, shards: 1)
        let split = BatchGradients(model: model, input: input, labels: nil, noise: &sharded, step: 0, shards: 2)
        #expect(split.shards == 2)
        #expect(sharded == whole)
        #expect(abs(batch.loss - split.loss) <= 1e-5 * abs(batch.loss), "\(name): \(batch.loss) vs \(split.loss)")
        for (index, gradient) in batch.gradients.enumerated() {
            let expected = split.gradients[index].scalars
            let scale = max(expected.map(abs).max() ?? 0, 1e-3)
            let error = zip(gradient.scalars, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-3 * scale, "\(name) gradient \(index): error \(error), scale \(scale)")
        }
    }

    /// Same inputs, same shards: bit-identical results whichever thread ran which shard.
    @Test func shardedStepIsReproducible() throws {
        let model = try Self.model("model_params: {name: mlp}")
        let input = Self.input(rows: 128)
        var results: [BatchGradients] = []
        for _ in 0..<3 {
            var noise = RandomStream(seed: 9, name: "noise")
            results.append(BatchGradients(model: model, input: input, labels: nil, noise: &noise, step: 0,
                                          shards: BatchGradients.shardCount(for: model, rows: 128, threads: 2)))
        }
        #expect(results[0].shards == 2)
        for result in results.dropFirst() {
            #expect(result.loss.bitPattern == results[0].loss.bitPattern)
            #expect(result.gradients.map(\.scalars) == results[0].gradients.map(\.scalars))
        }
    }

    /// A conditional model's shards bind their own rows' labels.
    @Test func conditionalShardsBindTheirOwnLabels() throws {
        let model = try Self.model("model_params: {name: cvae, class_count: 10}")
        let input = Self.input(rows: 40)
        let labels = ArraySlice((0..<40).map { ($0 * 7) % 10 })
        var noise = RandomStream(seed: 2, name: "noise")
        let start = noise
        let sharded = BatchGradients(model: model, input: input, labels: labels, noise: &noise, step: 0, shards: 2)
        var first = start.rows(0..<20, of: 40), second = start.rows(20..<40, of: 40)
        let a = BatchGradients(model: model, input: input.slice(0..<20), labels: labels[0..<20], noise: &first, step: 0, shards: 1)
        let b = BatchGradients(model: model, input: input.slice(20..<40), labels: labels[20..<40], noise: &second, step: 0, shards: 1)
        #expect(abs(sharded.loss - (a.loss + b.loss) / 2) <= 1e-4 * abs(sharded.loss))
        // With every row given label 0 instead, the loss differs: the labels reached the shards.
        var again = start
        let relabelled = BatchGradients(model: model, input: input, labels: ArraySlice(repeating: 0, count: 40),
                                        noise: &again, step: 0, shards: 2)
        #expect(abs(relabelled.loss - sharded.loss) > 1e-3)
    }

    /// Only losses that are row means split: a capacity penalty on the batch-mean KL, Joint VAE's penalties and
    /// VQ-VAE's codebook updates keep the batch whole, as does a model with batch normalisation.
    @Test func onlyRowMeanLossesAreSharded() throws {
        let splitting = try ["mlp", "beta-vae", "iwae", "miwae", "categorical-vae", "conv"].map {
            try Factory.model(try ConfigLoader.load($0), inputShape: [1, 28, 28])
        } + [try Self.model("model_params: {name: cvae, class_count: 10}")]
        let whole = try ["joint-vae", "vq-vae"].map { try Factory.model(try ConfigLoader.load($0), inputShape: [1, 28, 28]) }
            + [try Self.model("model_params: {name: beta-vae, capacity_max: 25}")]
        for model in splitting {
            #expect(BatchGradients.shardCount(for: model, rows: 128, threads: 2) == 2, "\(model.specification.name)")
        }
        for model in whole {
            #expect(BatchGradients.shardCount(for: model, rows: 128, threads: 2) == 1, "\(model.specification.name)")
        }
        // Too few rows for two shards of 16.
        #expect(BatchGradients.shardCount(for: splitting[0], rows: 31, threads: 2) == 1)
        #expect(BatchGradients.shardCount(for: splitting[0], rows: 128, threads: 1) == 1)
        #expect(BatchGradients.shardCount(for: splitting[0], rows: 128, threads: 4) == 4)
    }
}
