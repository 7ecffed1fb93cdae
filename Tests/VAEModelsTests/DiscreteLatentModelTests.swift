import Foundation
import Testing
import VAETensor
import VAENN
import VAEDistributions
@testable import VAEModels

/// Small specifications of the models whose latent is not (only) Gaussian, on the 16-pixel prototype data.
private func discreteSpecification(_ name: String, latentSize: Int? = 0, settings: ModelSettings,
                                   hiddenSizes: [Int] = [16], inputShape: [Int] = [1, 4, 4]) -> ModelSpecification {
    var specification = ModelSpecification(name: name, inputShape: inputShape, settings: settings)
    specification[NetworkSettings.hiddenSizes] = hiddenSizes
    if let latentSize { specification[GaussianLatent.latentSize] = latentSize }
    return specification
}

private let categoricalSpecification = discreteSpecification(
    "categorical-vae", settings: ["categorical_size": 2, "categories": 4, "temperature": 1, "temperature_min": 0.5, "temperature_rate": 1e-3])
private let hardCategoricalSpecification = discreteSpecification(
    "categorical-vae", settings: ["categorical_size": 2, "categories": 4, "hard": true])
private let jointSpecification = discreteSpecification(
    "joint-vae", latentSize: 2, settings: ["capacity_max": 3, "capacity_steps": 100, "gamma": 5, "categorical_size": 1, "categories": 4, "temperature": 0.67, "temperature_min": 0.67, "temperature_rate": 0, "discrete_capacity_max": 5, "discrete_capacity_steps": 100])
/// 8×8 images → one stride-2 conv to 8 channels → a 4×4 map of 3-dimensional codes from 6 entries.
private let vqSpecification = discreteSpecification(
    "vq-vae", latentSize: nil, settings: ["codebook_size": 6, "code_size": 3], hiddenSizes: [8], inputShape: [1, 8, 8])
private let vqEMASpecification = discreteSpecification(
    "vq-vae", latentSize: nil, settings: ["codebook_size": 6, "code_size": 3, "ema_decay": 0.9], hiddenSizes: [8],
    inputShape: [1, 8, 8])

private let allSpecifications = [categoricalSpecification, hardCategoricalSpecification, jointSpecification,
                                 vqSpecification, vqEMASpecification]

/// The prototype data as the model's input: 16 pixels, or for 8×8 inputs each pixel doubled in both directions.
private func data(for specification: ModelSpecification, rows: Int, seed: UInt64) -> Tensor {
    let small = prototypeData(rows: rows, seed: seed)
    guard specification.inputSize == 64 else { return small }
    return small.reshaped([rows, 1, 4, 4]).upsampledNearest(factor: 2).reshaped([rows, 64])
}

extension VAEModelsTests {
    @Suite("categorical-vae, joint-vae and vq-vae")
    struct DiscreteLatentModelTests {
        @Test(arguments: allSpecifications)
        func lossIsFiniteAndEveryParameterLearns(_ specification: ModelSpecification) throws {
            let model = try makeModel(specification)
            let input = data(for: specification, rows: 16, seed: 1)
            let context = LossContext(noise: RandomStream(seed: 2, name: "noise"), step: 50)
            // vq-vae's first training step sets the codebook from the encoder's outputs (and gives it no gradient).
            if model is VQVAE { _ = withoutGradients { model.loss(input, context: context) } }
            let gradients = checkedLossGradients(model, input, context: context)
            expectEveryParameterLearns(model.namedParameters, gradients)
            if let vq = model as? VQVAE {
                #expect(!model.namedParameters.contains { $0.name.hasPrefix("prior.") }, "the prior is fitted separately")
                #expect(model.namedParameters.contains { $0.name == "codebook" } == (specification[VectorQuantizer.emaDecay] == 0))
                let maps = vq.codeMaps(input)
                let (_, priorGradients) = vq.prior.valueWithGradients { vq.prior.negativeLogProbability(maps).mean() }
                expectEveryParameterLearns(vq.prior.namedParameters, priorGradients, prefix: "prior.")
            }
        }

        /// 300 Adam steps on the prototype data: the model's −ELBO (exact discrete draws, fixed noise, uniform
        /// prior for vq-vae) must fall by at least 0.8 nats per image (structure-blind ≈ 11.1, best ≈ 6.6); for
        /// joint-vae the reconstruction term, since its capacity objective raises the KL to C by design.
        @Test(arguments: allSpecifications)
        func shortTrainingLowersTheNegativeELBO(_ specification: ModelSpecification) throws {
            let model = try makeModel(specification)
            let input = data(for: specification, rows: 512, seed: 15)
            func negativeELBO() -> Double {
                var noise = RandomStream(seed: 16, name: "evaluation")
                let terms = withoutGradients { model.negativeELBO(input, noise: &noise) }
                return Double(((model as? ComposedVAE)?.objective is CapacityObjective ? terms.reconstruction : terms.reconstruction + terms.kl).mean().scalar)
            }
            let before = negativeELBO()
            model.setTraining(true)
            train(model, data: input, steps: 300)
            model.setTraining(false)
            let after = negativeELBO()
            #expect(after < before - 0.8, "\(specification.name): −ELBO \(before) → \(after)")
        }

        @Test(arguments: allSpecifications)
        func samplesAreInTheDataRangeAndReloadExactly(_ specification: ModelSpecification) throws {
            let source = try makeModel(specification, seed: 1)
            let target = try makeModel(specification, seed: 2)
            // Move the buffers (codebook initialisation, usage, EMA state) away from their initial values first.
            source.setTraining(true)
            _ = withoutGradients { source.loss(data(for: specification, rows: 8, seed: 3), context: LossContext(noise: RandomStream(seed: 3, name: "noise"))) }
            source.setTraining(false)
            var random = RandomStream(seed: 17, name: "latent")
            let latent = source.samplePrior(count: 32, random: &random)
            #expect(latent.shape == [32, source.latentSize])
            let images = source.decode(latent).mean
            #expect(images.shape == [32, specification.inputSize])
            #expect(images.scalars.allSatisfy { (0...1).contains($0) }, "Bernoulli means are pixel values in [0, 1]")
            let state = Dictionary(uniqueKeysWithValues: source.stateDictionary.map { ($0.name, $0.value) })
            for (name, parameter) in target.namedStates { parameter.value = try #require(state[name], "missing \(name)") }
            target.setTraining(false)
            #expect(target.decode(latent).mean.scalars == images.scalars)
            let input = data(for: specification, rows: 8, seed: 18)
            var first = RandomStream(seed: 3, name: "noise"), second = first
            #expect(source.negativeELBO(input, noise: &first).reconstruction.scalars
                    == target.negativeELBO(input, noise: &second).reconstruction.scalars)
        }

        /// Two trainings from the same seeds give the same bits: weights and buffers (vq-vae's codebook
        /// initialisation, EMA state, usage and restarts included).
        @Test(arguments: allSpecifications)
        func trainingIsBitReproducible(_ specification: ModelSpecification) throws {
            func trained() throws -> [[Float]] {
                let model = try makeModel(specification)
                model.setTraining(true)
                train(model, data: data(for: specification, rows: 128, seed: 20), steps: 40)
                return model.stateDictionary.map(\.value.scalars)
            }
            #expect(try trained() == trained())
        }

        @Test func temperatureFollowsTheSchedule() throws {
            let model = try #require(try makeModel(categoricalSpecification) as? ComposedVAE)
            #expect(model.categoricalLatent.schedule.temperature(atStep: 0) == 1)
            #expect(abs(Double(model.categoricalLatent.schedule.temperature(atStep: 200)) - Foundation.exp(-0.2)) < 1e-6)
            #expect(model.categoricalLatent.schedule.temperature(atStep: 100_000) == 0.5, "never below temperature_min")
        }

        /// With 2 variables of 3 classes there are 9 codes, so log p(x) = logΣ_c p(x|c)·(1/9) and the expected
        /// −ELBO = Σ_c q(c|x)·(−log p(x|c)) + KL(q ‖ uniform) are exact sums. The importance-weighted estimate with
        /// k = 3000 must be within 0.02 nats of the NLL, and the NLL must not exceed the −ELBO.
        @Test func importanceWeightedNLLMatchesExactEnumeration() throws {
            let specification = discreteSpecification("categorical-vae", settings: ["categorical_size": 2, "categories": 3])
            let model = try #require(try makeModel(specification) as? ComposedVAE)
            train(model, data: prototypeData(rows: 256, seed: 9), steps: 100)
            let input = prototypeData(rows: 4, seed: 10)
            var codes: [Float] = []
            for first in 0..<3 { for second in 0..<3 { codes += (0..<6).map { $0 == first || $0 == 3 + second ? 1 : 0 } } }
            let allCodes = Tensor(shape: [9, 6], scalars: codes)
            withoutGradients {
                for row in 0..<4 {
                    let image = input.slice(row..<(row + 1))
                    let logLikelihoods = model.decode(allCodes).logProbability(image.gathering([Int](repeating: 0, count: 9)))
                    let exact = -Double(logLikelihoods.logSumExp(alongAxis: 0).scalar) + Foundation.log(9)
                    let posterior = model.categoricalLatent.posterior(model.features(image)).categorical
                    let q = posterior.probabilities.scalars.map(Double.init)
                    var expectedELBO = Double(posterior.klDivergenceFromUniform().scalar)
                    for code in 0..<9 { expectedELBO -= q[code / 3] * q[3 + code % 3] * Double(logLikelihoods.scalars[code]) }
                    var noise = RandomStream(seed: 11, name: "importance")
                    let estimate = -Double(model.importanceWeightedBound(image, samples: 3000, noise: &noise).scalar)
                    #expect(abs(estimate - exact) < 0.02, "row \(row): IWAE \(estimate), exact \(exact)")
                    #expect(exact <= expectedELBO + 1e-4, "row \(row): NLL \(exact) above −ELBO \(expectedELBO)")
                }
            }
        }

        @Test func jointCapacitiesPullEachKLTowardsItsTarget() throws {
            let model = try #require(try makeModel(jointSpecification) as? ComposedVAE)
            #expect(model.latentSize == 2 + 4)
            let objective = try #require(model.objective as? CapacityObjective)
            #expect(abs(model.categoricalLatent.discreteCeiling - Foundation.log(4)) < 1e-12, "at most N·log K")
            #expect(objective.discrete.maximum > model.categoricalLatent.discreteCeiling, "the ceiling caps it")
            #expect(objective.continuous.capacity(atStep: 50) == 1.5)
            let input = prototypeData(rows: 16, seed: 1)
            let terms = model.loss(input, context: LossContext(noise: RandomStream(seed: 2, name: "noise"), step: 50))
            let (continuous, discrete) = (Double(terms.value("kl_continuous")!), Double(terms.value("kl_discrete")!))
            let expected = 5 * abs(continuous - 1.5) + 5 * abs(discrete - Foundation.log(4) / 2)
            #expect(abs(Double(terms.value("capacity_penalty")!) - expected) < 1e-3)
            #expect(abs(Double(terms.total.scalar) - Double(terms.value("reconstruction")!) - expected) < 1e-3)
        }

        @Test func jointVAENeedsAGaussianPartAndCategoricalNeedsCodes() throws {
            #expect(throws: ModelError.self) { try makeModel(discreteSpecification("joint-vae", latentSize: 0, settings: ["categorical_size": 1])) }
            #expect(throws: ModelError.self) { try makeModel(discreteSpecification("categorical-vae", settings: ["categorical_size": 0])) }
            let mlp = ModelSpecification(name: "mlp", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_size": 0])
            do {
                _ = try makeModel(mlp)
                Issue.record("mlp with latent_size 0 was accepted")
            } catch let error as ModelError {
                #expect(error.description.hasPrefix("model_params.latent_size: "))
            }
        }
    }
}
