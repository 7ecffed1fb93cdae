import Foundation
import Testing
import VAETensor
import VAENN
import VAEDistributions
@testable import VAEModels

/// `smallSpecification` (16 → 8 → 3) under another registry name and objective.
private func variantSpecification(_ name: String, hiddenSizes: [Int] = [8], activation: Activation = .relu,
                                  settings: ModelSettings = [:]) -> ModelSpecification {
    var specification = ModelSpecification(name: name, inputShape: [1, 4, 4], settings: settings)
    specification[NetworkSettings.hiddenSizes] = hiddenSizes
    specification[NetworkSettings.activation] = activation.rawValue
    specification[GaussianLatent.latentSize] = 3
    return specification
}

/// C at a step of a β-VAE with a capacity objective.
private func capacity(_ model: ComposedVAE, atStep step: Int) -> Double {
    (model.objective as! BetaObjective).capacity.capacity(atStep: step)
}

private func make(_ specification: ModelSpecification, seed: UInt64 = 1) throws -> ComposedVAE {
    try gaussian(makeModel(specification, seed: seed))
}

/// One small specification per variant, with settings that exercise what makes each different.
private let variantSpecifications: [ModelSpecification] = [
    variantSpecification("beta-vae", settings: ["beta": 4]),
    variantSpecification("warmup-vae", settings: ["warmup_steps": 50]),
    variantSpecification("wae-mmd", settings: ["mmd_weight": 10]),
    variantSpecification("wae-mmd", settings: ["kernel": "rbf", "mmd_weight": 10, "latent_var": 2]),
    variantSpecification("swae", settings: ["projections": 20, "sw_weight": 10]),
    variantSpecification("info-vae", settings: ["alpha": 0.5, "mmd_weight": 10]),
    variantSpecification("logcosh-vae", settings: ["logcosh_alpha": 10]),
    variantSpecification("beta-tcvae", settings: ["tc_beta": 6, "dataset_size": 512]),
    variantSpecification("beta-tcvae", settings: ["tc_beta": 6, "dataset_size": 512, "tc_sampling": "mss"]),
    variantSpecification("dip-vae", settings: ["lambda_od": 10, "lambda_d": 100]),
    variantSpecification("factor-vae", settings: ["tc_weight": 6, "discriminator_sizes": [16, 16]]),
    variantSpecification("dip-vae", settings: ["dip_type": "ii", "lambda_od": 10, "lambda_d": 10]),
    variantSpecification("beta-vae", settings: ["capacity_max": 5, "capacity_steps": 100, "gamma": 10]),
    variantSpecification("iwae", hiddenSizes: [8, 8], activation: .tanh, settings: ["importance_samples": 5]),
    variantSpecification("miwae", hiddenSizes: [8, 8], activation: .tanh,
                         settings: ["importance_samples": 3, "importance_groups": 2]),
]

extension VAEModelsTests {
    @Suite("β-VAE, IWAE and MIWAE")
    struct VariantTests {
        @Test(arguments: variantSpecifications)
        func lossIsFiniteAndEveryParameterLearns(_ specification: ModelSpecification) throws {
            let model = try make(specification)
            let data = prototypeData(rows: 16, seed: 1)
            let context = LossContext(noise: RandomStream(seed: 2, name: "noise"), step: 50)
            let gradients = checkedLossGradients(model, data, context: context)
            // The MLP's ten parameters, named as MLPVAE names them (checkpoints of variants read the same way).
            var expectedNames: [String] = []
            for layer in 0..<specification.hiddenSizes.count {
                expectedNames += ["encoder.layers.\(layer).weight", "encoder.layers.\(layer).bias"]
            }
            expectedNames += ["mean.weight", "mean.bias", "log_variance.weight", "log_variance.bias"]
            for layer in 0...specification.hiddenSizes.count {
                expectedNames += ["decoder.layers.\(layer).weight", "decoder.layers.\(layer).bias"]
            }
            #expect(model.namedParameters.map(\.name) == expectedNames)
            expectEveryParameterLearns(model.namedParameters, gradients)
        }

        /// 300 Adam steps on the prototype data (structure-blind ≈ 11.1 nats, best ≈ 6.6): each variant's own
        /// objective, measured on fixed noise before and after, must drop by at least 0.8 nats per image (for the
        /// capacity objective: the reconstruction term, since γ·|KL − C| rises with C by design).
        @Test(arguments: variantSpecifications)
        func shortTrainingLowersTheLoss(_ specification: ModelSpecification) throws {
            let model = try make(specification)
            let data = prototypeData(rows: 512, seed: 15)
            let usesCapacity = specification[CapacitySchedule.maximumSetting] > 0
            func evaluate(step: Int) -> Double {
                let context = LossContext(noise: RandomStream(seed: 16, name: "evaluation"), step: step)
                let terms = withoutGradients { model.loss(data, context: context) }
                return Double(usesCapacity ? terms.value("reconstruction")! : terms.total.scalar)
            }
            let before = evaluate(step: 0)
            train(model, data: data, steps: 300)
            let after = evaluate(step: 0)
            #expect(after < before - 0.8, "\(specification.name): loss \(before) → \(after)")
        }

        @Test(arguments: variantSpecifications)
        func samplesAreInTheDataRangeAndReloadExactly(_ specification: ModelSpecification) throws {
            let source = try make(specification, seed: 1)
            let target = try make(specification, seed: 2)
            var random = RandomStream(seed: 17, name: "latent")
            let latent = random.normal(shape: [64, 3]) * 3
            let images = source.decode(latent).mean
            #expect(images.shape == [64, 16])
            #expect(images.scalars.allSatisfy { (0...1).contains($0) }, "Bernoulli means are pixel values in [0, 1]")
            #expect(images.scalars != target.decode(latent).mean.scalars)
            let state = Dictionary(uniqueKeysWithValues: source.stateDictionary.map { ($0.name, $0.value) })
            for (name, parameter) in target.namedStates { parameter.value = try #require(state[name], "missing \(name)") }
            #expect(target.decode(latent).mean.scalars == images.scalars)
            let input = prototypeData(rows: 8, seed: 18)
            let (first, second) = (LossContext(noise: RandomStream(seed: 3, name: "noise"), step: 7),
                                   LossContext(noise: RandomStream(seed: 3, name: "noise"), step: 7))
            #expect(source.loss(input, context: first).total.scalar == target.loss(input, context: second).total.scalar)
        }

        // MARK: β-VAE

        @Test func betaOneIsThePlainELBO() throws {
            let plain = try make(variantSpecification("mlp"))
            let beta = try make(variantSpecification("beta-vae", settings: ["beta": 1]))
            #expect(beta.objective is BetaObjective)
            #expect(plain.stateDictionary.map(\.value.scalars) == beta.stateDictionary.map(\.value.scalars),
                    "same architecture, same init stream, same weights")
            let data = prototypeData(rows: 16, seed: 4)
            let plainTerms = plain.loss(data, context: LossContext(noise: RandomStream(seed: 5, name: "noise")))
            let betaTerms = beta.loss(data, context: LossContext(noise: RandomStream(seed: 5, name: "noise")))
            #expect(betaTerms.total.scalar == plainTerms.total.scalar)
            #expect(betaTerms.terms.map(\.name) == ["reconstruction", "kl", "weighted_kl"])
            #expect(betaTerms.value("reconstruction") == plainTerms.value("reconstruction"))
            #expect(betaTerms.value("kl") == plainTerms.value("kl"))
            #expect(betaTerms.value("weighted_kl") == plainTerms.value("kl"))
        }

        @Test func betaWeightsTheKL() throws {
            let model = try make(variantSpecification("beta-vae", settings: ["beta": 4]))
            let terms = model.loss(prototypeData(rows: 16, seed: 4), context: LossContext(noise: RandomStream(seed: 5, name: "noise")))
            let (reconstruction, kl) = (Double(terms.value("reconstruction")!), Double(terms.value("kl")!))
            #expect(kl > 0)
            #expect(abs(Double(terms.total.scalar) - (reconstruction + 4 * kl)) <= 1e-5 * (reconstruction + 4 * kl))
            #expect(abs(Double(terms.value("weighted_kl")!) - 4 * kl) <= 1e-5 * kl)
        }

        @Test func warmupWeightsTheKLByTheStep() throws {
            let model = try make(variantSpecification("warmup-vae", settings: ["warmup_steps": 100]))
            let data = prototypeData(rows: 16, seed: 4)
            for (step, weight) in [(0, 0.0), (25, 0.25), (100, 1.0), (5000, 1.0)] {
                let terms = model.loss(data, context: LossContext(noise: RandomStream(seed: 5, name: "noise"), step: step))
                let (reconstruction, kl) = (Double(terms.value("reconstruction")!), Double(terms.value("kl")!))
                #expect(kl > 0)
                #expect(Double(terms.value("kl_weight")!) == weight)
                #expect(abs(Double(terms.total.scalar) - (reconstruction + weight * kl)) <= 1e-5 * (reconstruction + kl))
            }
        }

        @Test func capacityGrowsLinearlyThenHolds() throws {
            let model = try make(variantSpecification(
                "beta-vae", settings: ["capacity_max": 25, "capacity_steps": 1000, "gamma": 10]))
            #expect(capacity(model, atStep: 0) == 0)
            #expect(capacity(model, atStep: 500) == 12.5)
            #expect(capacity(model, atStep: 1000) == 25)
            #expect(capacity(model, atStep: 50_000) == 25)
            let constant = try make(variantSpecification(
                "beta-vae", settings: ["capacity_max": 3, "capacity_steps": 0]))
            #expect(capacity(constant, atStep: 0) == 3)

            // The loss uses the context's step: γ·(KL − 0) at step 0, γ·(C − KL) once C exceeds the KL.
            let data = prototypeData(rows: 16, seed: 6)
            for step in [0, 500, 1000] {
                let terms = model.loss(data, context: LossContext(noise: RandomStream(seed: 7, name: "noise"), step: step))
                let (reconstruction, kl) = (Double(terms.value("reconstruction")!), Double(terms.value("kl")!))
                let expected = 10 * abs(kl - capacity(model, atStep: step))
                #expect(abs(Double(terms.value("capacity_penalty")!) - expected) <= 1e-4 * expected + 1e-4, "step \(step)")
                #expect(abs(Double(terms.total.scalar) - reconstruction - expected) <= 1e-4 * (reconstruction + expected), "step \(step)")
            }
        }

        /// The penalty γ·|KL − C| and its gradient γ·sign(KL − C), on both sides of C, exactly.
        @Test func capacityPenaltyIsTheAbsoluteDifference() {
            let schedule = CapacitySchedule(maximum: 2, steps: 0, gamma: 10)
            for kl: Float in [3.25, 0.75] {
                let tape = GradientTape()
                let (penalty, gradient) = tape.recording {
                    let tracked = tape.watch(Tensor(kl))
                    let penalty = schedule.penalty(tracked, step: 0)
                    return (penalty, tape.gradients(of: penalty, withRespectTo: [tracked])[0])
                }
                #expect(penalty.scalar == abs(kl - 2) * 10 && gradient.scalar == (kl > 2 ? 10 : -10), "KL \(kl)")
            }
        }

        // MARK: IWAE / MIWAE

        /// With K = 1, M = 1 the IWAE loss draws exactly negativeELBO's latents, so it equals the one-sample
        /// estimate −(reconstruction + log q(z|x) − log p(z)) on the same noise (the closed-form KL agrees only in
        /// expectation; see MLPVAETests.oneSampleBoundUsesTheSameDrawsAsTheELBO).
        @Test func oneSampleIWAELossIsTheOneSampleELBOEstimate() throws {
            let model = try make(variantSpecification("iwae", settings: ["importance_samples": 1]))
            let data = prototypeData(rows: 16, seed: 5)
            let start = RandomStream(seed: 6, name: "noise")
            var elboStream = start, replay = start
            let context = LossContext(noise: start)
            let terms = model.loss(data, context: context)
            let (reconstruction, _) = model.negativeELBO(data, noise: &elboStream)
            #expect(context.noise == elboStream, "both consume the stream identically")
            let posterior = model.encode(data)
            let latent = posterior.sample(noise: replay.normal(shape: [16, 3]))
            let estimate = posterior.logProbability(latent) - DiagonalNormal.standard(shape: [16, 3]).logProbability(latent)
            let expected = zip(doubles(reconstruction), doubles(estimate)).map { $0 + $1 }.reduce(0, +) / 16
            #expect(terms.terms.map(\.name) == ["negative_iwae_bound"])
            #expect(abs(Double(terms.total.scalar) - expected) <= 1e-5 * abs(expected), "\(terms.total.scalar) vs \(expected)")
        }

        /// M × K: the loss is minus the mean over images and groups of logSumExp over each run of K log weights.
        @Test func groupedBoundsSplitTheWeightsIntoMRunsOfK() throws {
            let model = try make(variantSpecification(
                "miwae", settings: ["importance_samples": 3, "importance_groups": 2]))
            let data = prototypeData(rows: 4, seed: 8)
            var weightStream = RandomStream(seed: 9, name: "noise")
            let weights = model.logImportanceWeights(data, samples: 6, noise: &weightStream)
            var expected = 0.0
            for row in 0..<4 {
                let values = weights.row(row).map(Double.init)
                for group in 0..<2 {
                    let run = values[(group * 3)..<(group * 3 + 3)]
                    let top = run.max()!
                    expected -= top + Foundation.log(run.map { Foundation.exp($0 - top) }.reduce(0, +) / 3)
                }
            }
            expected /= 8
            let context = LossContext(noise: RandomStream(seed: 9, name: "noise"))
            let total = Double(model.loss(data, context: context).total.scalar)
            #expect(abs(total - expected) <= 1e-5 * abs(expected), "\(total) vs \(expected)")
        }

        @Test func iwaeRefusesGroups() {
            var random = RandomStream(seed: 1, name: "init")
            let specification = variantSpecification("iwae", settings: ["importance_samples": 5, "importance_groups": 2])
            let error = #expect(throws: ModelError.self) { try ModelRegistry.make(specification, random: &random) }
            #expect(error?.description.hasPrefix("model_params.importance_groups:") == true)
            #expect(error?.description.contains("(miwae does)") == true)
        }
    }
}
