import Foundation
import TestSupport
import Testing
import VAETensor
import VAEDistributions
@testable import VAEModels

private func makeVQ(emaDecay: Double = 0, codes: Int = 6) throws -> VQVAE {
    let specification = ModelSpecification(
        name: "vq-vae", inputShape: [1, 8, 8],
        settings: ["hidden_sizes": [8], "codebook_size": .integer(codes), "code_size": 3, "ema_decay": .number(emaDecay)])
    var random = RandomStream(seed: 1, name: "init")
    return try VQVAE(specification, random: &random)
}

private func images(_ rows: Int, seed: UInt64) -> Tensor {
    var random = RandomStream(seed: seed, name: "images")
    return Tensor(shape: [rows, 64], scalars: random.uniform(count: rows * 64).map { $0 < 0.4 ? 0 : 1 })
}

extension VAEModelsTests {
    @Suite("VQ-VAE and its prior")
    struct VQVAETests {
        /// A 32×32 code map (64×64 images, one stride-2 layer) is more than the prior handles: a clear error.
        @Test func oversizedCodeMapsAreRefused() {
            let specification = ModelSpecification(name: "vq-vae", inputShape: [1, 64, 64], settings: ["hidden_sizes": [8]])
            var random = RandomStream(seed: 1, name: "init")
            do {
                _ = try VQVAE(specification, random: &random)
                Issue.record("a 32×32 code map was accepted")
            } catch let error as ModelError {
                #expect(error.description.hasPrefix("model_params.hidden_sizes: vq-vae's code map would be 32×32"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }

        @Test func nearestCodesAreTheClosestEntries() throws {
            let model = try makeVQ()
            var random = RandomStream(seed: 2, name: "rows")
            model.quantizer.codebook.value = random.normal(shape: [6, 3])
            let rows = random.normal(shape: [40, 3])
            let entries = model.quantizer.codebook.value.scalars
            let expected = (0..<40).map { row in
                (0..<6).min { a, b in
                    let distance = { (code: Int) in (0..<3).reduce(Float(0)) { $0 + pow(rows.scalars[row * 3 + $1] - entries[code * 3 + $1], 2) } }
                    return distance(a) < distance(b)
                }!
            }
            #expect(model.quantizer.nearestCodes(rows).values == expected)
        }

        /// A post-hoc sampler's code near a code map's latent snaps back to that map; other models keep codes as
        /// they are.
        @Test func nearestLatentCodesSnapToTheCodebook() throws {
            let model = try makeVQ()
            var random = RandomStream(seed: 4, name: "maps")
            model.quantizer.codebook.value = random.normal(shape: [6, 3]) * 3
            let maps = (0..<(2 * 16)).map { _ in random.integer(below: 6) }
            let exact = model.latent(codes: maps)
            let nudged = exact + random.normal(shape: exact.shape) * 0.01
            #expect(model.nearestLatentCodes(nudged).scalars == exact.scalars)
            #expect(model.nearestLatentCodes(nudged).shape == [2, model.latentSize])
        }

        /// The straight-through estimator: the reconstruction's gradient reaches the encoder, and the decoder
        /// sees the quantised vectors (so the decoded latent equals the codebook lookup of the code maps).
        @Test func decoderSeesCodebookEntriesAndEncoderGetsGradients() throws {
            let model = try makeVQ()
            let input = images(4, seed: 3)
            model.setTraining(false)
            let maps = model.codeMaps(input)
            #expect(maps.count == 4 * 16 && maps.allSatisfy { (0..<6).contains($0) })
            let latent = model.latentSummary(input).code
            #expect(latent.shape == [4, 3 * 16])
            // Channel d of position p of image b is entry maps[b·16 + p]'s coordinate d (NCHW flattening).
            for (index, code) in maps.enumerated() {
                let (image, position) = (index / 16, index % 16)
                for d in 0..<3 {
                    #expect(latent.scalars[image * 48 + d * 16 + position] == model.quantizer.codebook.value.scalars[code * 3 + d])
                }
            }
        }

        @Test func logImportanceWeightsAreTheNegativeELBOForEverySample() throws {
            let model = try makeVQ()
            model.setTraining(false)
            let input = images(3, seed: 4)
            var noise = RandomStream(seed: 5, name: "noise")
            let (reconstruction, kl) = model.negativeELBO(input, noise: &noise)
            #expect(kl.scalars.allSatisfy { abs(Double($0) - 16 * Foundation.log(6)) < 1e-4 }, "uniform prior: P·log K")
            let weights = model.logImportanceWeights(input, samples: 5, noise: &noise)
            #expect(weights.shape == [3, 5])
            for row in 0..<3 {
                for sample in 0..<5 {
                    #expect(weights.scalars[row * 5 + sample] == -(reconstruction.scalars[row] + kl.scalars[row]))
                }
            }
        }

        /// N_k ← γN_k + (1 − γ)n_k and m_k ← γm_k + (1 − γ)Σz, e_k = m_k / N̂_k: with one batch, an entry's new
        /// vector is the blend of its old sum and the mean of what was assigned to it.
        @Test func movingAveragesFollowTheAssignedVectors() throws {
            let model = try makeVQ(emaDecay: 0.5, codes: 2)
            model.quantizer.codebook.value = Tensor(shape: [2, 3], scalars: [0, 0, 0, 10, 10, 10])
            model.quantizer.embeddingSum!.value = model.quantizer.codebook.value
            model.quantizer.clusterSize!.value = .ones([2])
            let rows = Tensor(shape: [3, 3], scalars: [1, 1, 1, 3, 3, 3, 9, 9, 9])
            let maps = model.quantizer.nearestCodes(rows)
            #expect(maps.values == [0, 0, 1])
            model.quantizer.updateMovingAverages(rows: rows, maps: maps)
            // N = (0.5 + 1, 0.5 + 0.5) = (1.5, 1); m₀ = 0.5·0 + 0.5·(4, 4, 4), m₁ = 0.5·10 + 0.5·9.
            let sizes = model.quantizer.clusterSize!.value.scalars
            #expect(sizes == [1.5, 1])
            let total: Float = 2.5, epsilon: Float = 1e-5
            let smoothed = sizes.map { ($0 + epsilon) / (total + 2 * epsilon) * total }
            expectClose(model.quantizer.codebook.value.scalars, [2, 2, 2].map { $0 / Double(smoothed[0]) } + [9.5, 9.5, 9.5].map { $0 / Double(smoothed[1]) },
                        absolute: 1e-5)
        }

        /// The first training batch sets the codebook to encoder outputs, and an entry nobody uses for long is
        /// moved to one.
        @Test func codebookStartsAtTheDataAndDeadEntriesRestart() throws {
            let model = try makeVQ(codes: 6)
            model.setTraining(true)
            let input = images(8, seed: 6)
            let context = LossContext(noise: RandomStream(seed: 7, name: "noise"))
            _ = withoutGradients { model.loss(input, context: context) }
            #expect(model.quantizer.codebookInitialized.value.scalar == 1)
            let rows = withoutGradients { model.encodedRows(input) }
            let rowSet = Set((0..<rows.shape[0]).map { Array(rows.row($0)) })
            for code in 0..<6 { #expect(rowSet.contains(Array(model.quantizer.codebook.value.row(code))), "entry \(code) is an encoder output") }
            // Park entry 5 far away: unused, its usage decays below the threshold and it is restarted.
            var entries = model.quantizer.codebook.value.scalars
            entries.replaceSubrange(15..<18, with: [1e6, 1e6, 1e6])
            model.quantizer.codebook.value = Tensor(shape: [6, 3], scalars: entries)
            for _ in 0..<80 { _ = withoutGradients { model.loss(input, context: context) } }
            #expect(model.quantizer.codebook.value.row(5).allSatisfy { abs($0) < 1e5 }, "the dead entry moved back to the data")
        }

        /// On the initialising step the tape has already watched the random codebook; the decoder must still see
        /// the data-initialised entries (the reconstruction equals an evaluation right after).
        @Test func initialisingStepDecodesTheNewCodebook() throws {
            let model = try makeVQ()
            model.setTraining(true)
            let input = images(8, seed: 12)
            var terms: LossTerms?
            _ = model.valueWithGradients {
                terms = model.loss(input, context: LossContext(noise: RandomStream(seed: 13, name: "noise")))
                return terms!.total
            }
            model.setTraining(false)
            var noise = RandomStream(seed: 14, name: "noise")
            let reconstruction = model.negativeELBO(input, noise: &noise).reconstruction.mean().scalar
            #expect(abs(try #require(terms?.value("reconstruction")) - reconstruction) < 1e-3)
        }

        /// The prior is a normalised distribution: with K = 2 codes on a 2×2 map, the 16 maps' probabilities sum to 1.
        @Test func codePriorIsNormalised() {
            var random = RandomStream(seed: 8, name: "init")
            let prior = CodePrior(codes: 2, side: 2, width: 4, hiddenSize: 8, random: &random)
            let maps = (0..<16).flatMap { map in (0..<4).map { (map >> $0) & 1 } }
            let total = prior.negativeLogProbability(maps).scalars.reduce(0.0) { $0 + Foundation.exp(-Double($1)) }
            #expect(abs(total - 1) < 1e-5)
            var draws = RandomStream(seed: 9, name: "sampling")
            let sampled = prior.sample(count: 5, random: &draws)
            #expect(sampled.count == 20 && sampled.allSatisfy { $0 == 0 || $0 == 1 })
        }

        /// Causality: changing the code at position q changes the conditionals of later positions only.
        @Test func codePriorConditionsOnEarlierPositionsOnly() {
            var random = RandomStream(seed: 15, name: "init")
            let prior = CodePrior(codes: 5, side: 3, width: 4, contextSize: 3, hiddenSize: 8, random: &random)
            var draws = RandomStream(seed: 16, name: "maps")
            let maps = (0..<9).map { _ in draws.integer(below: 5) }
            let rows = (0..<9).map { (map: 0, position: $0) }
            let before = prior.logits(maps: maps, rows: rows)
            for changed in [0, 4, 7] {
                var altered = maps
                altered[changed] = (maps[changed] + 1) % 5
                let after = prior.logits(maps: altered, rows: rows)
                for position in 0..<9 {
                    let same = before.row(position) == after.row(position)
                    if position <= changed { #expect(same, "position \(position) saw the code at \(changed)") }
                }
                #expect((changed + 1..<9).contains { before.row($0) != after.row($0) }, "nothing after \(changed) saw it")
            }
        }

        /// Fitting the prior by gradient steps lowers −log p(codes) below the uniform P·log K, and once the model
        /// is marked fitted, its KL term is the prior's.
        @Test func fittedPriorLowersTheCodeCost() throws {
            let model = try makeVQ()
            model.setTraining(false)
            let input = images(32, seed: 10)
            let maps = model.codeMaps(input)
            let uniform = 16 * Foundation.log(6.0)
            let optimizer = MinimalAdam(learningRate: 0.01)
            for _ in 1...200 {
                let (_, gradients) = model.prior.valueWithGradients { model.prior.negativeLogProbability(maps).mean() }
                optimizer.update(model.prior.parameters, gradients: gradients)
            }
            model.priorFitted.value = Tensor(1)
            var noise = RandomStream(seed: 11, name: "noise")
            let kl = model.negativeELBO(input, noise: &noise).kl
            let mean = kl.scalars.reduce(0.0) { $0 + Double($1) } / 32
            #expect(mean < uniform - 1, "−log p(codes) \(mean) vs uniform \(uniform)")
            let summary = model.latentSummary(input)
            let spreadSum = summary.klPerDimension.sum(alongAxis: 1).scalars
            for (a, b) in zip(spreadSum, kl.scalars) { #expect(abs(a - b) < 1e-3 * max(1, abs(b))) }
        }
    }
}
