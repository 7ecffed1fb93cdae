import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// VQ-VAE (`vq-vae`, van den Oord, Vinyals & Kavukcuoglu 2017): a conv encoder gives a map of D-dimensional
/// vectors (`code_size`), each replaced by its nearest entry of a K-entry codebook (`codebook_size`); the decoder
/// sees the quantised map, and the gradient skips the quantiser (straight-through). The loss per image is
///
///     −log p(x|z_q) + ‖sg[z_e] − e‖² + β‖z_e − sg[e]‖²      (β = `commitment`)
///
/// or, with `ema_decay` γ > 0, the codebook follows exponential moving averages of the vectors assigned to each
/// entry (Laplace-smoothed counts) and the second term goes (the codebook is then a buffer, not a parameter).
///
/// The posterior is deterministic (one code per position), so KL(q ‖ p) = −log p(codes): P·log K under the
/// uniform prior during training, and under the autoregressive ``CodePrior`` once the trainer has fitted it to
/// the training set's code maps (`prior_epochs`); `vae sample` then draws code maps from it. Parts: its own
/// fully convolutional network (``VQConvNetwork``), the ``VectorQuantizer`` latent, the ``ObservationModel`` and the
/// ``CodePrior`` fitted after training (`CodePriorFit`).
public final class VQVAE: Module, VariationalAutoencoder {
    public let specification: ModelSpecification
    public let encoder: Sequential
    /// The codebook and its upkeep (``VectorQuantizer``); its weights are named as VQ-VAE's own.
    public let quantizer: VectorQuantizer
    public let decoder: Sequential
    public let observation: ObservationModel
    /// Fitted after training; not trained by the loss above (excluded from ``namedParameters``).
    public let prior: CodePrior
    /// 1 once the prior has been fitted (a buffer, so it travels with checkpoints; kept on the host, as every
    /// step reads it).
    public let priorFitted: Parameter

    public let side: Int

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        let widths = specification.hiddenSizes
        let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
        let (codes, width) = (specification[VectorQuantizer.codebookSize], specification[VectorQuantizer.codeWidth])
        // The prior's context map is (positions·32)² weights and its logits positions·K per image: keep both sane.
        guard side * side <= 256 else {
            throw ModelError("model_params.hidden_sizes: vq-vae's code map would be \(side)×\(side) positions; the prior over codes supports at most 16×16 (add a stride-2 layer, e.g. hidden_sizes: \(widths + [widths.last!]))")
        }
        guard codes * side * side <= 1 << 20 else {
            throw ModelError("model_params.codebook_size: \(codes) entries × \(side * side) positions is more than the prior over codes handles (at most 1048576); use a smaller codebook")
        }
        self.specification = specification
        self.side = side
        // Weights are drawn in the order encoder, codebook, decoder, prior.
        encoder = VQConvNetwork.encoder(specification, codeWidth: width, random: &random)
        quantizer = VectorQuantizer(codes: codes, width: width, decay: specification[VectorQuantizer.emaDecay], random: &random)
        decoder = VQConvNetwork.decoder(specification, codeWidth: width, random: &random)
        observation = try ObservationModel(specification)
        prior = CodePrior(codes: codes, side: side, random: &random)
        priorFitted = Parameter(.zeros([]), trainable: false, keptOnHost: true)
        super.init()
    }

    public var codes: Int { quantizer.codes }
    public var codeSize: Int { quantizer.codeSize }
    public var positions: Int { side * side }
    public var latentSize: Int { codeSize * positions }
    public var isPriorFitted: Bool { priorFitted.value.scalar != 0 }

    /// The parameters the VQ-VAE loss trains: all but the prior's, which `fitPrior` (in the trainer) fits.
    public override var namedParameters: [(name: String, parameter: Parameter)] {
        super.namedParameters.filter { !$0.name.hasPrefix("prior.") }
    }

    /// z_e as rows `[batch·positions, D]`, image-major, positions in raster order.
    public func encodedRows(_ input: Tensor) -> Tensor {
        let batch = input.shape[0]
        let map = encoder(input.reshaped([batch] + specification.inputShape))
        return map.transposed([0, 2, 3, 1]).reshaped([batch * positions, codeSize])
    }

    /// The latent code `[batch, D·positions]` (the quantised map in NCHW order) of rows `[batch·positions, D]`.
    func latent(_ rows: Tensor) -> Tensor {
        let batch = rows.shape[0] / positions
        return rows.reshaped([batch, side, side, codeSize]).transposed([0, 3, 1, 2]).reshaped([batch, latentSize])
    }

    /// The latent code of code maps (`positions` codebook indices per image).
    public func latent(codes maps: [Int]) -> Tensor { latent(codes: RowIndices(maps)) }

    func latent(codes maps: RowIndices) -> Tensor { latent(quantizer.codebook.tensor.gathering(maps)) }

    public func decode(_ latent: Tensor) -> any Likelihood {
        let batch = latent.shape[0]
        let output = decoder(latent.reshaped([batch, codeSize, side, side]))
        return observation(output.reshaped([batch, specification.inputSize]))
    }

    /// Each position's vector replaced by its nearest codebook entry.
    public func nearestLatentCodes(_ codes: Tensor) -> Tensor {
        let batch = codes.shape[0]
        let rows = codes.reshaped([batch, codeSize, side, side]).transposed([0, 2, 3, 1]).reshaped([batch * positions, codeSize])
        return withoutGradients { latent(codes: quantizer.nearestCodes(rows)) }
    }

    /// The code map of each image, `batch · positions` indices.
    public func codeMaps(_ input: Tensor) -> [Int] { withoutGradients { quantizer.nearestCodes(encodedRows(input)).values } }

    /// −log p(codes) per image `[batch]`: under the fitted prior, else uniform (P·log K).
    public func negativeLogPrior(_ maps: [Int]) -> Tensor { negativeLogPrior(RowIndices(maps)) }

    /// The uniform prior needs only the count (indices on a device stay there).
    func negativeLogPrior(_ maps: RowIndices) -> Tensor {
        let count = maps.count / positions
        guard isPriorFitted else {
            return Tensor(repeating: -Categorical.uniformLogProbability(variables: positions, categories: codes), shape: [count])
        }
        return prior.negativeLogProbability(maps.values)
    }

    public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        let batch = Float(input.shape[0])
        let rows = encodedRows(input)
        let initializing = isTraining && quantizer.codebookInitialized.value.scalar == 0
        if initializing { quantizer.initializeCodebook(from: rows.detached, random: &context.noise) }
        let maps = quantizer.nearestCodes(rows)
        // The tape watched the codebook before the loss ran: on the initialising step, `tensor` would still be
        // the random entries, so that step reads the new values (and gives the codebook no gradient).
        let quantized = (initializing ? quantizer.codebook.value : quantizer.codebook.tensor).gathering(maps)
        let reconstruction = decode(latent(rows.passingGradient(withValue: quantized.detached))).negativeLogProbability(input).mean()
        let commitment = (rows - quantized.detached).squared().sum() * (Float(specification[VectorQuantizer.commitment]) / batch)
        // −log p(codes) is logged as `kl` (the KL of the point-mass posterior, P·log K under the uniform prior) so
        // that train and test columns compare; it is not part of the objective (the prior is fitted afterwards).
        let kl = withoutGradients { negativeLogPrior(maps).mean() }
        var terms: [(name: String, value: Tensor)] = [("reconstruction", reconstruction), ("kl", kl), ("commitment", commitment)]
        var total = reconstruction + commitment
        if isTraining { quantizer.restartDeadCodes(rows: rows.detached, maps: maps, random: &context.noise) }
        if !quantizer.usesMovingAverages {
            let codebookLoss = (rows.detached - quantized).squared().sum() * (1 / batch)
            terms.append(("codebook", codebookLoss))
            total = total + codebookLoss
        } else if isTraining {
            quantizer.updateMovingAverages(rows: rows.detached, maps: maps)
        }
        return LossTerms(total: total, terms: terms)
    }

    /// −log p(x|z_q) and −log p(codes) (the KL of a deterministic posterior); no noise is drawn.
    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let maps = withoutGradients { quantizer.nearestCodes(encodedRows(input)) }
        return (decode(latent(codes: maps)).negativeLogProbability(input), negativeLogPrior(maps))
    }

    /// The posterior is a point mass, so every importance weight of an image is the same, log p(x|z_q) + log p(codes).
    public func logImportanceWeights(_ input: Tensor, samples: Int, noise: inout RandomStream) -> Tensor {
        let (reconstruction, kl) = negativeELBO(input, noise: &noise)
        let logWeight = -(reconstruction + kl)
        return logWeight.reshaped([input.shape[0], 1]).gathering([Int](repeating: 0, count: samples), alongAxis: 1)
    }

    /// The quantised map, and each position's −log p(code) spread evenly over its D coordinates.
    public func latentSummary(_ input: Tensor) -> LatentSummary {
        let maps = codeMaps(input)
        let batch = input.shape[0]
        var perPosition = [Float](repeating: -Categorical.uniformLogProbability(variables: 1, categories: codes), count: maps.count)
        if isPriorFitted {
            // Per-position terms of −log p(codes): the prior's factors, one per (image, position).
            let logits = prior.logits(maps: maps, rows: maps.indices.map { (map: $0 / positions, position: $0 % positions) })
            let (normalizers, values) = (logits.logSumExp(alongAxis: 1).scalars, logits.scalars)
            perPosition = maps.indices.map { normalizers[$0] - values[$0 * codes + maps[$0]] }
        }
        let spread = Tensor(shape: [batch * positions, 1], scalars: perPosition.map { $0 / Float(codeSize) })
            * Tensor.ones([1, codeSize])
        return LatentSummary(code: latent(codes: maps), klPerDimension: latent(spread))
    }

    /// Code maps from the fitted prior (uniform before it is fitted), looked up in the codebook.
    public func samplePrior(count: Int, random: inout RandomStream) -> Tensor {
        let maps = isPriorFitted ? prior.sample(count: count, random: &random)
            : (0..<(count * positions)).map { _ in random.integer(below: codes) }
        return withoutGradients { latent(codes: maps) }
    }

    /// Codebook usage over `input`: perplexity exp(−Σ p_k log p_k) of the code frequencies (K when all entries
    /// are used equally, 1 when one is) and the number of entries used.
    public func codeUsage(_ input: Tensor) -> (perplexity: Double, used: Int) {
        var counts = [Double](repeating: 0, count: codes)
        // 1000 images at a time: the whole test set in one pass would need gigabytes of im2col columns.
        for start in stride(from: 0, to: input.shape[0], by: 1000) {
            for code in codeMaps(input.slice(start..<Swift.min(start + 1000, input.shape[0]))) { counts[code] += 1 }
        }
        let total = counts.reduce(0, +)
        let entropy = counts.filter { $0 > 0 }.reduce(0.0) { $0 - $1 / total * Foundation.log($1 / total) }
        return (Foundation.exp(entropy), counts.filter { $0 > 0 }.count)
    }
}

extension VQVAE: LatentDiagnostics {
    public func diagnostics(_ input: Tensor) -> [(name: String, value: Double)] {
        let usage = codeUsage(input)
        return [("code_perplexity", usage.perplexity), ("codes_used", Double(usage.used))]
    }
}

extension VQVAE {
    /// Its encoder widths, the quantiser's settings, the observation model's and the prior fit's.
    public static let settings = [NetworkSettings.hiddenSizes.declaration] + VectorQuantizer.settings
        + ObservationModel.settings + [CodePriorFit.epochsSetting.declaration]
}
