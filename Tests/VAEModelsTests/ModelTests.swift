import Foundation
import TestSupport
import Testing
import VAETensor
import VAENN
import VAEDistributions
@testable import VAEModels

private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

extension VAEModelsTests {
    @Suite("MLPVAE and the shared ELBO plumbing")
    struct MLPVAETests {
        @Test func defaultModelParameterNamesAndShapes() throws {
            let specification = ModelSpecification(name: "mlp", inputShape: [1, 28, 28])
            var random = RandomStream(seed: 1, name: "init")
            let model = try #require(try ModelRegistry.make(specification, random: &random) as? ComposedVAE)
            let named = model.namedParameters
            #expect(named.map(\.name) == ["encoder.layers.0.weight", "encoder.layers.0.bias", "mean.weight", "mean.bias",
                                          "log_variance.weight", "log_variance.bias", "decoder.layers.0.weight",
                                          "decoder.layers.0.bias", "decoder.layers.1.weight", "decoder.layers.1.bias"])
            #expect(named.map(\.parameter.shape) == [[400, 784], [400], [20, 400], [20], [20, 400], [20],
                                                     [400, 20], [400], [784, 400], [784]])
            #expect(model.parameterCount == 784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + 400 * 784 + 784)
            #expect(model.latentSize == 20)
        }

        @Test func lossIsFiniteAndSumOfTerms() throws {
            let model = try makeSmallModel()
            let data = prototypeData(rows: 16, seed: 1)
            let context = LossContext(noise: RandomStream(seed: 2, name: "noise"))
            var noiseCopy = context.noise
            let terms = model.loss(data, context: context)
            #expect(terms.terms.map(\.name) == ["reconstruction", "kl"])
            let reconstruction = try #require(terms.value("reconstruction"))
            let kl = try #require(terms.value("kl"))
            #expect(terms.total.isFinite && terms.total.shape == [])
            #expect(abs(Double(terms.total.scalar) - Double(reconstruction) - Double(kl)) <= 1e-5 * Double(abs(terms.total.scalar)))
            #expect(kl >= 0 && reconstruction > 0)
            // The loss consumed the context's stream exactly as negativeELBO does, and its terms are the
            // batch means of negativeELBO's rows.
            let (rows, klRows) = model.negativeELBO(data, noise: &noiseCopy)
            #expect(noiseCopy == context.noise)
            #expect(abs(mean(doubles(rows)) - Double(reconstruction)) <= 1e-5 * Double(reconstruction))
            #expect(abs(mean(doubles(klRows)) - Double(kl)) <= 1e-5 * Double(kl) + 1e-7)
            // The KL term is the closed form of the encoder's output, recomputed in Double.
            let posterior = model.encode(data)
            let (m, v) = (doubles(posterior.mean), doubles(posterior.logVariance))
            var klSum = 0.0
            for i in m.indices {
                let term: Double = m[i] * m[i] + Foundation.exp(v[i]) - 1 - v[i]
                klSum += 0.5 * term
            }
            let klDouble = klSum / 16
            #expect(abs(klDouble - Double(kl)) <= 1e-5 * klDouble + 1e-7)
        }

        @Test func everyParameterReceivesGradient() throws {
            let model = try makeSmallModel()
            let data = prototypeData(rows: 16, seed: 1)
            let context = LossContext(noise: RandomStream(seed: 2, name: "noise"))
            let (value, gradients) = model.valueWithGradients { model.loss(data, context: context).total }
            #expect(value.isFinite)
            #expect(gradients.count == 10)
            for ((name, parameter), gradient) in zip(model.namedParameters, gradients) {
                #expect(gradient.shape == parameter.shape, "\(name)")
                #expect(gradient.isFinite, "\(name)")
                #expect(gradient.scalars.map(abs).max()! > 0, "\(name) got no gradient")
            }
        }

        @Test func lossGradientMatchesFiniteDifferencesForOneLayer() throws {
            // The whole model through the Module API: perturb `mean.bias` and compare with a fixed noise stream.
            let model = try makeSmallModel()
            let data = prototypeData(rows: 8, seed: 3)
            let start = RandomStream(seed: 4, name: "noise")
            func loss() -> Double { Double(model.loss(data, context: LossContext(noise: start)).total.scalar) }
            let (_, gradients) = model.valueWithGradients { model.loss(data, context: LossContext(noise: start)).total }
            let index = try #require(model.namedParameters.firstIndex { $0.name == "mean.bias" })
            let original = model.gaussianLatent.mean.bias!.value
            // h = 1e-2 on a loss of ≈ 11 in Float32: rounding ≈ 1e-6·11/1e-2 ≈ 1e-3, truncation ≈ h² ≈ 1e-4.
            for position in 0..<3 {
                var scalars = original.scalars
                scalars[position] += 1e-2
                model.gaussianLatent.mean.bias!.value = Tensor(shape: [3], scalars: scalars)
                let plus = loss()
                scalars[position] -= 2e-2
                model.gaussianLatent.mean.bias!.value = Tensor(shape: [3], scalars: scalars)
                let minus = loss()
                model.gaussianLatent.mean.bias!.value = original
                let numeric = (plus - minus) / 2e-2
                let analytic = Double(gradients[index].scalars[position])
                #expect(abs(numeric - analytic) <= 5e-3 + 1e-2 * abs(numeric), "mean.bias[\(position)]: \(analytic) vs \(numeric)")
            }
        }

        /// With one sample, the bound's draws are negativeELBO's draws: both take batch·latent normals from the
        /// stream, row-major (the k = 1 repetition is the identity). But negativeELBO's `kl` is the closed form
        /// while log w uses the one-sample estimate log q(z|x) − log p(z); so the per-row identity is
        /// IWAE₁ = −(reconstruction + log q(z|x) − log p(z)), and −(reconstruction + kl) agrees only in
        /// expectation over ε.
        @Test func oneSampleBoundUsesTheSameDrawsAsTheELBO() throws {
            let model = try makeSmallModel()
            let data = prototypeData(rows: 16, seed: 5)
            let start = RandomStream(seed: 6, name: "noise")
            var elboStream = start, boundStream = start, replay = start
            let (reconstruction, kl) = model.negativeELBO(data, noise: &elboStream)
            let bound = model.importanceWeightedBound(data, samples: 1, noise: &boundStream)
            #expect(bound.shape == [16])
            #expect(elboStream == boundStream, "both consume the stream identically")

            let posterior = model.encode(data)
            let latent = posterior.sample(noise: replay.normal(shape: [16, 3]))
            let estimate = posterior.logProbability(latent) - DiagonalNormal.standard(shape: [16, 3]).logProbability(latent)
            let expected = zip(doubles(reconstruction), doubles(estimate)).map { -($0 + $1) }
            expectClose(bound.scalars, expected, absolute: 1e-5, relative: 1e-4, "IWAE₁ vs −(rec + log q − log p)")
            // The log weights themselves, per row.
            var weightStream = start
            let weights = model.logImportanceWeights(data, samples: 1, noise: &weightStream)
            #expect(weights.shape == [16, 1])
            expectClose(weights.scalars, expected, absolute: 1e-5, relative: 1e-4, "log w")
            _ = kl
        }

        @Test func oneSampleBoundEqualsTheELBOInExpectation() throws {
            let model = try makeSmallModel()
            let data = prototypeData(rows: 4, seed: 7)
            var elboStream = RandomStream(seed: 8, name: "noise")
            var boundStream = RandomStream(seed: 9, name: "noise")
            let draws = 4000
            var elbo = [Double](repeating: 0, count: 4), boundSum = [Double](repeating: 0, count: 4)
            var boundSquares = [Double](repeating: 0, count: 4)
            for _ in 0..<draws {
                let (reconstruction, kl) = model.negativeELBO(data, noise: &elboStream)
                for row in 0..<4 { elbo[row] -= Double(reconstruction.scalars[row] + kl.scalars[row]) / Double(draws) }
            }
            // k = 1 with 4000 draws in one call: each row's 4000 log weights average to an unbiased ELBO.
            let weights = model.logImportanceWeights(data, samples: draws, noise: &boundStream)
            for row in 0..<4 {
                let values = weights.row(row).map(Double.init)
                boundSum[row] = mean(values)
                boundSquares[row] = values.reduce(0.0) { $0 + ($1 - boundSum[row]) * ($1 - boundSum[row]) } / Double(draws - 1)
            }
            for row in 0..<4 {
                // Both estimates average 4000 draws; the log-weight one is the noisier (its KL part is sampled),
                // so 5·√(2·var/n) bounds their difference.
                let tolerance = 5 * (2 * boundSquares[row] / Double(draws)).squareRoot()
                #expect(abs(boundSum[row] - elbo[row]) < tolerance, "row \(row): \(boundSum[row]) vs \(elbo[row])")
            }
        }

        /// IWAE_k ≥ ELBO in expectation and grows with k (Burda et al. 2016, Theorem 1). The model is trained
        /// first (1000 steps) so q(z|x) is informative and the gap — KL(q ‖ p(z|x)) shrinking — is large: on these
        /// data ≈ 0.17 nats between the ELBO and k = 1000, against a standard error of ≈ 0.015 for the ELBO
        /// estimate (64 rows × 500 draws) and ≈ 0.005 for the k = 1000 bound (64 rows × 3 repetitions). The
        /// ordering 10 → 1000 (expected gap ≈ 0.02) is checked on averages with standard errors ≈ 0.003 each.
        @Test func importanceWeightedBoundTightensWithSamples() throws {
            let model = try makeSmallModel()
            train(model, data: prototypeData(rows: 512, seed: 10), steps: 1000, learningRate: 3e-3)
            let data = prototypeData(rows: 64, seed: 11)
            var noise = RandomStream(seed: 12, name: "noise")
            func averageBound(samples: Int, repetitions: Int) -> Double {
                var values: [Double] = []
                for _ in 0..<repetitions {
                    let bound = model.importanceWeightedBound(data, samples: samples, noise: &noise)
                    #expect(bound.shape == [64] && bound.isFinite)
                    values += doubles(bound)
                }
                return mean(values)
            }
            let bound1 = averageBound(samples: 1, repetitions: 20)
            let bound10 = averageBound(samples: 10, repetitions: 30)
            let bound100 = averageBound(samples: 100, repetitions: 5)
            let bound1000 = averageBound(samples: 1000, repetitions: 3)

            var elboValues: [Double] = []
            for _ in 0..<500 {
                let (reconstruction, kl) = model.negativeELBO(data, noise: &noise)
                elboValues += zip(doubles(reconstruction), doubles(kl)).map { -($0 + $1) }
            }
            let elbo = mean(elboValues)
            let variance = elboValues.reduce(0.0) { $0 + ($1 - elbo) * ($1 - elbo) } / Double(elboValues.count - 1)
            let elboError = (variance / Double(elboValues.count)).squareRoot()
            let summary = "k=1 \(bound1), 10 \(bound10), 100 \(bound100), 1000 \(bound1000); ELBO \(elbo) ± \(elboError)"
            #expect(bound1000 >= elbo, "\(summary)")
            #expect(bound1000 - elbo > 4 * elboError, "the gap is resolved, not noise: \(summary)")
            #expect(bound10 > elbo, "\(summary)")
            #expect(bound1000 > bound10, "\(summary)")
            #expect(bound100 > bound1, "\(summary)")
            // k = 1 is an unbiased ELBO estimate (1280 draws, SE ≈ 0.05 with its sampled KL).
            #expect(abs(bound1 - elbo) < 0.25, "\(summary)")
            // And every bound stays below 0 (log-probabilities of binary data).
            #expect([bound1, bound10, bound100, bound1000].allSatisfy { $0 < 0 })
        }

        @Test func importanceWeightedBoundIsDifferentiable() throws {
            let model = try makeSmallModel()
            let data = prototypeData(rows: 8, seed: 13)
            var noise = RandomStream(seed: 14, name: "noise")
            let (value, gradients) = model.valueWithGradients {
                -model.importanceWeightedBound(data, samples: 10, noise: &noise).mean()
            }
            #expect(value.isFinite)
            for ((name, _), gradient) in zip(model.namedParameters, gradients) {
                #expect(gradient.isFinite, "\(name)")
                #expect(gradient.scalars.map(abs).max()! > 0, "\(name) got no gradient")
            }
        }

        @Test func shortTrainingLowersTheLoss() throws {
            let model = try makeSmallModel()
            let data = prototypeData(rows: 512, seed: 15)
            func evaluate() -> Double {
                let context = LossContext(noise: RandomStream(seed: 16, name: "evaluation"))
                return Double(withoutGradients { model.loss(data, context: context).total.scalar })
            }
            let before = evaluate()
            train(model, data: data, steps: 300)
            let after = evaluate()
            // A structure-blind model pays ≈ 11.1 nats, the best ≈ 6.6; 300 steps at lr 1e-3 must win back at
            // least 0.8 nats of that on a fixed evaluation (same noise before and after).
            #expect(before > 10.5, "untrained loss \(before)")
            #expect(after < before - 0.8, "loss \(before) → \(after)")
        }

        @Test func stateDictionaryLoadsIntoAFreshModel() throws {
            let source = try makeSmallModel(seed: 1)
            let target = try makeSmallModel(seed: 2)
            var random = RandomStream(seed: 17, name: "latent")
            let latent = random.normal(shape: [5, 3])
            let input = prototypeData(rows: 5, seed: 18)
            #expect(source.decode(latent).mean.scalars != target.decode(latent).mean.scalars)
            let state = Dictionary(uniqueKeysWithValues: source.stateDictionary.map { ($0.name, $0.value) })
            #expect(state.count == 10)
            for (name, parameter) in target.namedParameters {
                parameter.value = try #require(state[name], "missing \(name)")
            }
            #expect(source.decode(latent).mean.scalars == target.decode(latent).mean.scalars)
            let (sourcePosterior, targetPosterior) = (source.encode(input), target.encode(input))
            #expect(sourcePosterior.mean.scalars == targetPosterior.mean.scalars)
            #expect(sourcePosterior.logVariance.scalars == targetPosterior.logVariance.scalars)
            // A copy, not shared storage: training the target leaves the source alone.
            let before = source.stateDictionary.map(\.value.scalars)
            train(target, data: prototypeData(rows: 32, seed: 19), steps: 2)
            #expect(source.stateDictionary.map(\.value.scalars) == before)
            #expect(target.stateDictionary.map(\.value.scalars) != before)
        }
    }

    @Suite("ModelRegistry")
    struct ModelRegistryTests {
        @Test func knownNameBuildsTheModel() throws {
            #expect(ModelRegistry.names.contains("mlp"))
            let model = try makeSmallModel()
            #expect((model as ComposedVAE).objective is ELBOObjective)
            #expect(model.specification == smallSpecification)
        }

        @Test func unknownNameThrowsAndListsChoices() {
            var specification = smallSpecification
            specification.name = "no_such_model"
            var random = RandomStream(seed: 1, name: "init")
            do {
                _ = try ModelRegistry.make(specification, random: &random)
                Issue.record("expected ModelError")
            } catch let error as ModelError {
                #expect(error.description.contains("model_params.name"))
                #expect(error.description.contains("mlp"))
                #expect(error.description.contains("no_such_model"))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }

        @Test func unsupportedLikelihoodThrows() {
            var specification = smallSpecification
            specification[ObservationModel.likelihood] = "poisson"
            var random = RandomStream(seed: 1, name: "init")
            let error = #expect(throws: ModelError.self) { try ModelRegistry.make(specification, random: &random) }
            #expect(error?.description.contains("model_params.likelihood") == true)
        }
    }
}
