import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// What every model in the collection is: a decoder p(x|z) from a latent code, an amortised posterior q(z|x)
/// and a training loss.
///
/// The requirements are what training, evaluation and the pictures use, so a model whose latent is not a
/// Gaussian (categorical, vector-quantised) fits beside the Gaussian ones. ``ComposedVAE`` implements them once
/// for every composition of network, latent and objective; ``VQVAE`` on its own.
public protocol VariationalAutoencoder: Module {
    /// The specification the model was built from (saved with checkpoints).
    var specification: ModelSpecification { get }
    /// Width of the codes ``decode(_:)`` takes, e.g. `latent_size`, or N·K for N one-hot variables of K classes.
    var latentSize: Int { get }
    /// p(x|z) for a batch of latent codes `[batch, latentSize]`.
    func decode(_ latent: Tensor) -> any Likelihood
    /// The training objective's terms for a batch; `total` is minimised.
    func loss(_ input: Tensor, context: LossContext) -> LossTerms
    /// Per row: the reconstruction term −log p(x|z) at one z ~ q(z|x) and KL(q(z|x) ‖ p(z)); their sum is −ELBO.
    func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor)
    /// log w = log p(x|z) + log p(z) − log q(z|x) for `samples` draws z ~ q(z|x) per row: `[batch, samples]`.
    /// Differentiable, so it serves the IWAE objective as well as NLL evaluation.
    func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor
    /// A deterministic code per row (the posterior mean, or class probabilities) and the KL split over its
    /// coordinates, both `[batch, latentSize]`: what reconstructions, latent pictures and active units use.
    func latentSummary(_ input: Tensor) -> LatentSummary
    /// `count` codes drawn from the prior p(z): `[count, latentSize]`.
    func samplePrior(count: Int, random: inout RandomStream) -> Tensor
    /// Number of classes a conditional model takes (one label per row); 0 for an unconditional model.
    var conditionClasses: Int { get }
    /// The model with one label per row bound, so that every requirement above is conditioned on them
    /// (`conditionClasses` > 0); an unconditional model returns itself. Labels must be in
    /// `0..<conditionClasses` (check user data with ``checkLabels(_:rows:source:)`` first).
    func conditioned(on labels: [Int]) -> any VariationalAutoencoder
    /// True when ``loss(_:context:)`` is the mean over rows of a per-row objective and changes no state (no batch
    /// statistics, no buffer updates): a batch may then be split into shards whose losses, weighted by their
    /// share of the rows, add up to the batch's, and the shards may run on separate threads (data-parallel
    /// training). False by default.
    var lossSplitsOverRows: Bool { get }
    /// True when the model reads its input's values on the host (the text models' token ids): a trainer on a
    /// device then leaves the batch on the host instead of copying it there and back. False by default.
    var readsInputOnHost: Bool { get }
    /// Work to do once the training epochs are done, with the trained weights fixed (VQ-VAE fits its prior over
    /// codes): the trainer runs it without knowing the model. Nil (the default) when there is none.
    var postTrainingFit: (any PostTrainingFit)? { get }
    /// Weights trained beside the model's with a second optimiser (FactorVAE's discriminator); nil (the
    /// default) when there are none.
    var auxiliaryTraining: (any AuxiliaryTraining)? { get }
    /// The values of the model's schedules at an optimiser step (β, capacities, KL weight, temperature), for
    /// TensorBoard; empty (the default) when it has none.
    func scheduleValues(atStep step: Int) -> [(name: String, value: Double)]
    /// The codes of the latent space nearest to `codes` (`[count, latentSize]`): what a code drawn by a post-hoc
    /// sampler (a Gaussian mixture, a second-stage VAE) becomes before decoding. VQ-VAE snaps each position's
    /// vector to its nearest codebook entry (its decoder has only seen codebook vectors); the identity (the
    /// default) for continuous latents.
    func nearestLatentCodes(_ codes: Tensor) -> Tensor
}

/// Randomness and schedule position handed to a loss.
public final class LossContext {
    /// The reparameterisation noise stream.
    public var noise: RandomStream
    /// Optimiser steps taken so far (for schedules: β, capacity, temperature, warm-up).
    public var step: Int

    public init(noise: RandomStream, step: Int = 0) {
        self.noise = noise
        self.step = step
    }
}

/// Named scalar loss terms, each a batch mean, each a quantity to minimise (KL ≥ 0, NLL in nats).
public struct LossTerms {
    public var total: Tensor
    /// Terms in a fixed order, e.g. `[("reconstruction", …), ("kl", …)]`.
    public var terms: [(name: String, value: Tensor)]

    public init(total: Tensor, terms: [(name: String, value: Tensor)]) {
        self.total = total
        self.terms = terms
    }

    public func value(_ name: String) -> Float? { terms.first { $0.name == name }?.value.scalar }
}

extension VariationalAutoencoder {
    public var conditionClasses: Int { 0 }
    public var lossSplitsOverRows: Bool { false }
    public var readsInputOnHost: Bool { false }
    public var postTrainingFit: (any PostTrainingFit)? { nil }
    public var auxiliaryTraining: (any AuxiliaryTraining)? { nil }
    public func scheduleValues(atStep step: Int) -> [(name: String, value: Double)] { [] }
    public func nearestLatentCodes(_ codes: Tensor) -> Tensor { codes }
    public func conditioned(on labels: [Int]) -> any VariationalAutoencoder { self }

    /// The model conditioned on `labels` when it is conditional and they are given; otherwise itself.
    public func bound(_ labels: ArraySlice<Int>?) -> any VariationalAutoencoder {
        guard conditionClasses > 0, let labels else { return self }
        return conditioned(on: Array(labels))
    }

    /// Checks that `labels` can condition this model on `rows` images from `source`: present, one per image and
    /// each in 0..<conditionClasses. An unconditional model takes anything.
    public func checkLabels(_ labels: [Int], rows: Int, source: String) throws {
        guard conditionClasses > 0 else { return }
        guard !labels.isEmpty else {
            throw ModelError("\(source): model '\(specification.name)' is conditioned on class labels, but the data has none (use IDX files with a labels file, or an image folder with one sub-folder per class)")
        }
        guard labels.count == rows else {
            throw ModelError("\(source): \(labels.count) labels for \(rows) images")
        }
        if let bad = labels.first(where: { !(0..<conditionClasses).contains($0) }) {
            throw ModelError("\(source): label \(bad) is outside the model's \(conditionClasses) classes (model_params.class_count)")
        }
    }
    /// The importance-weighted bound log (1/k) Σ w (Burda et al. 2016) per row; k = 1 gives the ELBO.
    public func importanceWeightedBound(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        logImportanceWeights(input, samples: samples, noise: &noise).logMeanExp(alongAxis: 1)
    }

    /// Decoder means for `count` prior draws from `random`.
    public func sampleImages(count: Int, random: inout RandomStream) -> Tensor {
        decode(samplePrior(count: count, random: &random)).mean
    }
}

/// Numbers about a model's latent beyond the ELBO terms (VQ-VAE's codebook usage), printed after each epoch and
/// saved by `vae eval`. Names are snake_case keys.
public protocol LatentDiagnostics {
    func diagnostics(_ input: Tensor) -> [(name: String, value: Double)]
}
