import VAEDistributions
import VAENN
import VAETensor

/// A VAE composed of parts that each live in one place: an encoder and a decoder from a ``NetworkFamily``, a
/// ``LatentSpace`` (heads, draws, prior), an ``ObservationModel`` (p(x|z)) and an ``Objective`` (the loss).
/// Every model of the collection but VQ-VAE is one of these; the registry's recipes say which parts.
///
/// The ELBO plumbing lives here once: a training draw and its reconstruction term for the objectives, the exact
/// one-sample −ELBO for evaluation, importance weights for IWAE and the NLL.
///
/// A conditional model (`cvae`) takes a one-hot label per row through the network; ``conditioned(on:)`` returns
/// a view with the labels bound that shares these parameters. Without bound labels it conditions on an all-zero
/// label vector, a class it was never trained on.
public final class ComposedVAE: Module, VariationalAutoencoder {
    public let specification: ModelSpecification
    public let encoder: any EncoderNetwork
    public let latent: any LatentSpace
    public let decoder: any DecoderNetwork
    public let observation: ObservationModel
    public let objective: any Objective
    public let conditionClasses: Int
    public static let classCount = Setting<Int>(
        "class_count", default: 0, .integers(0...65536),
        doc: "classes of a conditional model's one-hot labels; 0 = one more than the largest training label")
    /// True when a part normalises by batch statistics (BatchNorm): a batch's loss is then not a mean of per-row
    /// losses and may not be split into data-parallel shards.
    private var holdsBatchStatistics = false
    /// One-hot labels bound by ``conditioned(on:)``.
    private let condition: Tensor?
    /// ``condition`` where the rows it conditions live, moved there once for the encoder and the decoder.
    private var placedCondition: Tensor?

    /// Builds the parts in the order their weights are drawn from `random`: encoder, latent heads, decoder.
    public init(_ specification: ModelSpecification, network: NetworkFamily, conditionClasses: Int,
                latent: (_ featureSize: Int, inout RandomStream) throws -> any LatentSpace,
                objective: any Objective, random: inout RandomStream) throws {
        self.specification = specification
        encoder = try network.encoder(specification, conditionSize: conditionClasses, random: &random)
        self.latent = try latent(encoder.featureSize, &random)
        decoder = try network.decoder(specification, codeSize: self.latent.codeSize + conditionClasses, random: &random)
        observation = try ObservationModel(specification)
        self.objective = objective
        self.conditionClasses = conditionClasses
        condition = nil
        super.init()
        holdsBatchStatistics = modules.contains { $0 is BatchNorm }
        self.latent.attachPrior { [unowned self] input in self.features(input) }
        (objective as? AuxiliaryObjective)?.attach { [unowned self] input in self.gaussianPosterior(input)! }
    }

    /// An objective's auxiliary weights (FactorVAE's discriminator), trained by the trainer's second optimiser.
    public var auxiliaryTraining: (any AuxiliaryTraining)? { (objective as? AuxiliaryObjective)?.auxiliary }

    /// The auxiliary weights are part of the model's state (`discriminator.…`)…
    override public var additionalChildren: [(name: String, module: Module)] {
        auxiliaryTraining.map { [($0.name, $0.module)] } ?? []
    }

    /// …but not among the parameters its optimiser moves.
    override public var namedParameters: [(name: String, parameter: Parameter)] {
        guard let auxiliary = auxiliaryTraining else { return super.namedParameters }
        return super.namedParameters.filter { !$0.name.hasPrefix(auxiliary.name + ".") }
    }

    /// A view of `model` with `condition` bound, sharing its parts.
    private init(sharing model: ComposedVAE, condition: Tensor) {
        specification = model.specification
        encoder = model.encoder
        latent = model.latent
        decoder = model.decoder
        observation = model.observation
        objective = model.objective
        conditionClasses = model.conditionClasses
        self.condition = condition
        super.init()
        holdsBatchStatistics = model.holdsBatchStatistics
    }

    public var latentSize: Int { latent.codeSize }
    /// Each shard of a conditional model binds its own rows' labels (``VariationalAutoencoder/bound(_:)``).
    public var lossSplitsOverRows: Bool { objective.splitsOverRows && !holdsBatchStatistics }

    public func conditioned(on labels: [Int]) -> any VariationalAutoencoder {
        guard conditionClasses > 0 else { return self }
        return ComposedVAE(sharing: self, condition: Self.oneHot(labels, classes: conditionClasses))
    }

    /// One-hot rows `[labels.count, classes]`; every label must be in 0..<classes (callers check user data).
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor { Tensor.oneHot(RowIndices(labels), classes: classes) }

    /// The condition for `count` rows: none for an unconditional model; the bound labels, each repeated
    /// `count / bound` times for image-major importance samples; all zeros when none are bound.
    private func conditionRows(_ count: Int, beside other: Tensor) -> Tensor? {
        guard conditionClasses > 0 else { return nil }
        guard var condition else { return .zeros([count, conditionClasses]) }
        if condition.backend !== other.backend {
            if placedCondition == nil || placedCondition!.backend !== other.backend { placedCondition = condition.moved(to: other.backend) }
            condition = placedCondition!
        }
        let bound = condition.shape[0]
        if count == bound { return condition }
        precondition(bound > 0 && count % bound == 0, "\(count) rows for \(bound) bound labels")
        return condition.repeatingEachRow(count / bound)
    }

    /// The encoder's features for `input` `[batch, features]`.
    public func features(_ input: Tensor) -> Tensor {
        encoder.features(input, condition: conditionRows(input.shape[0], beside: input))
    }

    /// q(z|x) of the Gaussian part of the latent, when it has one.
    public func gaussianPosterior(_ input: Tensor) -> DiagonalNormal? {
        switch latent {
        case let gaussian as GaussianLatent: return gaussian.posterior(features(input))
        case let categorical as CategoricalLatent: return categorical.posterior(features(input)).gaussian
        default: return nil
        }
    }

    public func decode(_ latent: Tensor) -> any Likelihood {
        let code = conditionRows(latent.shape[0], beside: latent).map { Tensor.concatenate([latent, $0], alongAxis: 1) } ?? latent
        return observation(decoder.output(code))
    }

    public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        objective.loss(self, input: input, context: context)
    }

    /// The latent's training draw (relaxed for a categorical latent, at the context's step): the code `[batch,
    /// latentSize]`, p(x|z) decoded from it, and the KL parts per row.
    public func trainingDraw(_ input: Tensor, context: LossContext) -> (code: Tensor, likelihood: any Likelihood, kl: [KLPart]) {
        let draw = latent.trainingDraw(features(input), noise: &context.noise, step: context.step)
        return (draw.code, decode(draw.code), draw.kl)
    }

    /// For objectives that need the Gaussian posterior itself (β-TCVAE, DIP-VAE): q(z|x), one reparameterised draw
    /// from it and the batch-mean −log p(x|z) at the draw. The model's latent must be a ``GaussianLatent``.
    public func gaussianDraw(_ input: Tensor, context: LossContext) -> (posterior: DiagonalNormal, code: Tensor, reconstruction: Tensor) {
        guard let gaussian = latent as? GaussianLatent else {
            preconditionFailure("\(specification.name): this objective needs a Gaussian latent (its recipe builds one)")
        }
        let posterior = gaussian.posterior(features(input))
        let code = posterior.sample(using: &context.noise)
        return (posterior, code, decode(code).negativeLogProbability(input).mean())
    }

    /// Per row: −log p(x|z) at the latent's training draw and the KL parts.
    public func trainingTerms(_ input: Tensor, context: LossContext) -> (reconstruction: Tensor, kl: [KLPart]) {
        let draw = trainingDraw(input, context: context)
        return (draw.likelihood.negativeLogProbability(input), draw.kl)
    }

    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let draw = latent.exactDraw(features(input), noise: &noise)
        return (decode(draw.code).negativeLogProbability(input), draw.kl)
    }

    public func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        let batch = input.shape[0]
        let draw = latent.importanceDraw(features(input), samples: samples, noise: &noise)
        let logLikelihood = decode(draw.code).logProbability(input.repeatingEachRow(samples))
        return draw.logWeights(logLikelihood: logLikelihood).reshaped([batch, samples])
    }

    public func latentSummary(_ input: Tensor) -> LatentSummary { latent.summary(features(input)) }

    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        latent.samplePrior(count: count, random: &random)
    }

    /// The prior's codes beside `other` (a loss's codes): on a device, drawn there where the prior can.
    public func samplePrior(count: Int, random: inout RandomStream, beside other: Tensor) -> Tensor {
        latent.samplePrior(count: count, random: &random, on: other.backend)
    }
}
