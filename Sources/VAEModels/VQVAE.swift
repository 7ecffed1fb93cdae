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
/// the training set's code maps (`prior_epochs`); `vae sample` then draws code maps from it. Layers: stride-2
/// Conv(4×4) + ReLU for each width of `hidden_sizes`, a 1×1 conv to D; decoder Conv(3×3) to the last width,
/// mirrored stride-2 ConvTranspose(4×4) + ReLU, the last to the image's channels.
public final class VQVAE: Module, VariationalAutoencoder {
    public let specification: ModelSpecification
    public let encoder: Sequential
    /// `[K, D]`; trainable unless the codebook follows moving averages.
    public let codebook: Parameter
    /// EMA state (buffers): smoothed assignment counts `[K]` and sums of assigned vectors `[K, D]`.
    public let clusterSize: Parameter?
    public let embeddingSum: Parameter?
    public let decoder: Sequential
    public let observation: ObservationModel
    /// Fitted after training; not trained by the loss above (excluded from ``namedParameters``).
    public let prior: CodePrior
    /// 1 once the prior has been fitted (a buffer, so it travels with checkpoints).
    public let priorFitted: Parameter
    /// 1 once the codebook has been set from the first training batch's encoder outputs.
    public let codebookInitialized: Parameter
    /// Moving average (decay 0.9) of each entry's assignments per training batch; an entry whose average falls
    /// below ``deadUsage`` is restarted at an encoder output of the current batch (Dhariwal et al. 2020).
    public let usage: Parameter
    public static let deadUsage: Float = 0.05

    public let side: Int

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        let widths = specification.hiddenSizes
        let side = try ConvBlocks.bottleneckSize(specification, layers: widths.count)
        let (channels, _, _) = specification.imageDimensions
        let (codes, width) = (specification[Self.codebookSize], specification[Self.codeWidth])
        // The prior's context map is (positions·32)² weights and its logits positions·K per image: keep both sane.
        guard side * side <= 256 else {
            throw ModelError("model_params.hidden_sizes: vq-vae's code map would be \(side)×\(side) positions; the prior over codes supports at most 16×16 (add a stride-2 layer, e.g. hidden_sizes: \(widths + [widths.last!]))")
        }
        guard codes * side * side <= 1 << 20 else {
            throw ModelError("model_params.codebook_size: \(codes) entries × \(side * side) positions is more than the prior over codes handles (at most 1048576); use a smaller codebook")
        }
        self.specification = specification
        self.side = side
        var encoderLayers: [any Layer] = []
        for (from, to) in zip([channels] + widths.dropLast(), widths) {
            encoderLayers += [Conv2d(inputChannels: from, outputChannels: to, kernelSize: 4, stride: 2, padding: 1, random: &random),
                              ActivationLayer(.relu)]
        }
        encoderLayers.append(Conv2d(inputChannels: widths.last!, outputChannels: width, kernelSize: 1, random: &random))
        encoder = Sequential(encoderLayers)
        let initial = random.uniform(shape: [codes, width], in: -1 / Float(codes)...1 / Float(codes))
        let usesEMA = specification[Self.emaDecay] > 0
        codebook = Parameter(initial, trainable: !usesEMA)
        clusterSize = usesEMA ? Parameter(.ones([codes]), trainable: false) : nil
        embeddingSum = usesEMA ? Parameter(initial, trainable: false) : nil
        var decoderLayers: [any Layer] = [Conv2d(inputChannels: width, outputChannels: widths.last!, kernelSize: 3, padding: 1,
                                                 random: &random), ActivationLayer(.relu)]
        let reversed = Array(widths.reversed())
        for (index, from) in reversed.enumerated() {
            let to = index + 1 < reversed.count ? reversed[index + 1] : channels
            decoderLayers.append(ConvTranspose2d(inputChannels: from, outputChannels: to, kernelSize: 4, stride: 2,
                                                 padding: 1, random: &random))
            if index + 1 < reversed.count { decoderLayers.append(ActivationLayer(.relu)) }
        }
        decoder = Sequential(decoderLayers)
        observation = try ObservationModel(specification)
        prior = CodePrior(codes: codes, side: side, random: &random)
        priorFitted = Parameter(.zeros([]), trainable: false)
        codebookInitialized = Parameter(.zeros([]), trainable: false)
        usage = Parameter(.ones([codes]), trainable: false)
        super.init()
    }

    public var codes: Int { specification[Self.codebookSize] }
    public var codeSize: Int { specification[Self.codeWidth] }
    public var positions: Int { side * side }
    public var latentSize: Int { codeSize * positions }
    public var isPriorFitted: Bool { priorFitted.value.scalar != 0 }

    /// The parameters the VQ-VAE loss trains: all but the prior's, which ``fitPrior`` (in the trainer) fits.
    public override var namedParameters: [(name: String, parameter: Parameter)] {
        super.namedParameters.filter { !$0.name.hasPrefix("prior.") }
    }

    /// z_e as rows `[batch·positions, D]`, image-major, positions in raster order.
    public func encodedRows(_ input: Tensor) -> Tensor {
        let batch = input.shape[0]
        let map = encoder(input.reshaped([batch] + specification.inputShape))
        return map.transposed([0, 2, 3, 1]).reshaped([batch * positions, codeSize])
    }

    /// The nearest codebook entry of each row (squared Euclidean distance, first on ties): one sgemm for the
    /// cross terms, ‖e‖² per entry; ‖z‖² is the same for every entry of a row, so it is left out.
    public func nearestCodes(_ rows: Tensor) -> [Int] {
        withoutGradients {
            let entries = codebook.value
            let crossTerms = rows.detached.matmul(entries, transposingOther: true).scalars   // [rows, K]
            let norms = entries.squared().sum(alongAxis: 1).scalars
            let (count, codes) = (rows.shape[0], self.codes)
            return (0..<count).map { row in
                var (best, bestDistance) = (0, Float.infinity)
                for code in 0..<codes {
                    let distance = norms[code] - 2 * crossTerms[row * codes + code]
                    if distance < bestDistance { (best, bestDistance) = (code, distance) }
                }
                return best
            }
        }
    }

    /// The latent code `[batch, D·positions]` (the quantised map in NCHW order) of rows `[batch·positions, D]`.
    func latent(_ rows: Tensor) -> Tensor {
        let batch = rows.shape[0] / positions
        return rows.reshaped([batch, side, side, codeSize]).transposed([0, 3, 1, 2]).reshaped([batch, latentSize])
    }

    /// The latent code of code maps (`positions` codebook indices per image).
    public func latent(codes maps: [Int]) -> Tensor { latent(codebook.tensor.gathering(maps)) }

    public func decode(_ latent: Tensor) -> any Likelihood {
        let batch = latent.shape[0]
        let output = decoder(latent.reshaped([batch, codeSize, side, side]))
        return observation(output.reshaped([batch, specification.inputSize]))
    }

    /// The code map of each image, `batch · positions` indices.
    public func codeMaps(_ input: Tensor) -> [Int] { withoutGradients { nearestCodes(encodedRows(input)) } }

    /// −log p(codes) per image `[batch]`: under the fitted prior, else uniform (P·log K).
    public func negativeLogPrior(_ maps: [Int]) -> Tensor {
        let count = maps.count / positions
        guard isPriorFitted else {
            return Tensor(repeating: -Categorical.uniformLogProbability(variables: positions, categories: codes), shape: [count])
        }
        return prior.negativeLogProbability(maps)
    }

    public func loss(_ input: Tensor, context: LossContext) -> LossTerms {
        let batch = Float(input.shape[0])
        let rows = encodedRows(input)
        let initializing = isTraining && codebookInitialized.value.scalar == 0
        if initializing { initializeCodebook(from: rows.detached, random: &context.noise) }
        let maps = nearestCodes(rows)
        // The tape watched the codebook before the loss ran: on the initialising step, `tensor` would still be
        // the random entries, so that step reads the new values (and gives the codebook no gradient).
        let quantized = (initializing ? codebook.value : codebook.tensor).gathering(maps)
        let reconstruction = -decode(latent(rows.passingGradient(withValue: quantized.detached))).logProbability(input).mean()
        let commitment = (rows - quantized.detached).squared().sum() * (Float(specification[Self.commitment]) / batch)
        // −log p(codes) is logged as `kl` (the KL of the point-mass posterior, P·log K under the uniform prior) so
        // that train and test columns compare; it is not part of the objective (the prior is fitted afterwards).
        let kl = withoutGradients { negativeLogPrior(maps).mean() }
        var terms: [(name: String, value: Tensor)] = [("reconstruction", reconstruction), ("kl", kl), ("commitment", commitment)]
        var total = reconstruction + commitment
        if isTraining { restartDeadCodes(rows: rows.detached, maps: maps, random: &context.noise) }
        if clusterSize == nil {
            let codebookLoss = (rows.detached - quantized).squared().sum() * (1 / batch)
            terms.append(("codebook", codebookLoss))
            total = total + codebookLoss
        } else if isTraining {
            updateMovingAverages(rows: rows.detached, maps: maps)
        }
        return LossTerms(total: total, terms: terms)
    }

    /// Sets the codebook to K encoder outputs of the first training batch (distinct rows while there are enough),
    /// so every entry starts where the data is: with the usual small uniform initialisation, the encoder's
    /// outputs all land nearest to a handful of entries and the others never receive a gradient (measured here:
    /// 15 of 512 entries used after two epochs).
    func initializeCodebook(from rows: Tensor, random: inout RandomStream) {
        let count = rows.shape[0]
        let picks = count >= codes ? Array(random.permutation(count).prefix(codes)) : (0..<codes).map { _ in random.integer(below: count) }
        let entries = rows.gathering(picks)
        codebook.value = entries
        embeddingSum?.value = entries
        clusterSize?.value = .ones([codes])
        codebookInitialized.value = Tensor(1)
    }

    /// Updates ``usage`` with this batch's assignments and moves every entry whose usage fell below
    /// ``deadUsage`` (unused for about 28 steps, or used in fewer than one batch in 20) to a random encoder output of the batch, so that entries the
    /// encoder has moved away from come back into use. Takes effect from the next batch.
    func restartDeadCodes(rows: Tensor, maps: [Int], random: inout RandomStream) {
        var counts = [Float](repeating: 0, count: codes)
        for code in maps { counts[code] += 1 }
        var averages = zip(usage.value.scalars, counts).map { 0.9 * $0 + 0.1 * $1 }
        // Relative to the expected assignments per entry when they are fewer than one per batch (small batches,
        // large codebooks), so live entries are not restarted by chance.
        let threshold = Self.deadUsage * Swift.min(1, Float(maps.count) / Float(codes))
        let dead = averages.indices.filter { averages[$0] < threshold }
        if !dead.isEmpty {
            let width = codeSize
            var entries = codebook.value.scalars
            var sums = embeddingSum?.value.scalars
            var sizes = clusterSize?.value.scalars
            let vectors = rows.scalars
            for code in dead {
                let row = random.integer(below: rows.shape[0])
                for d in 0..<width { entries[code * width + d] = vectors[row * width + d] }
                sums?.replaceSubrange((code * width)..<((code + 1) * width), with: vectors[(row * width)..<((row + 1) * width)])
                sizes?[code] = 1
                averages[code] = 1
            }
            codebook.value = Tensor(shape: [codes, width], scalars: entries)
            if let sums { embeddingSum?.value = Tensor(shape: [codes, width], scalars: sums) }
            if let sizes { clusterSize?.value = Tensor(shape: [codes], scalars: sizes) }
        }
        usage.value = Tensor(shape: [codes], scalars: averages)
    }

    /// N_k ← γN_k + (1 − γ)n_k, m_k ← γm_k + (1 − γ)Σ_{z→k} z, e_k = m_k / N̂_k with N̂ the counts smoothed as
    /// (N_k + ε)/(ΣN + Kε)·ΣN, so an unused entry keeps its vector instead of dividing by zero.
    func updateMovingAverages(rows: Tensor, maps: [Int]) {
        guard let clusterSize, let embeddingSum else { return }
        let decay = Float(specification[Self.emaDecay])
        let (codes, width) = (self.codes, codeSize)
        var counts = [Float](repeating: 0, count: codes)
        var sums = [Float](repeating: 0, count: codes * width)
        let vectors = rows.scalars
        for (row, code) in maps.enumerated() {
            counts[code] += 1
            for d in 0..<width { sums[code * width + d] += vectors[row * width + d] }
        }
        let sizes = zip(clusterSize.value.scalars, counts).map { decay * $0 + (1 - decay) * $1 }
        let vectorSums = zip(embeddingSum.value.scalars, sums).map { decay * $0 + (1 - decay) * $1 }
        let total = sizes.reduce(0, +), epsilon: Float = 1e-5
        var entries = [Float](repeating: 0, count: codes * width)
        for code in 0..<codes {
            let smoothed = (sizes[code] + epsilon) / (total + Float(codes) * epsilon) * total
            for d in 0..<width { entries[code * width + d] = vectorSums[code * width + d] / smoothed }
        }
        clusterSize.value = Tensor(shape: [codes], scalars: sizes)
        embeddingSum.value = Tensor(shape: [codes, width], scalars: vectorSums)
        codebook.value = Tensor(shape: [codes, width], scalars: entries)
    }

    /// −log p(x|z_q) and −log p(codes) (the KL of a deterministic posterior); no noise is drawn.
    public func negativeELBO(_ input: Tensor, noise: inout RandomStream) -> (reconstruction: Tensor, kl: Tensor) {
        let maps = codeMaps(input)
        return (-decode(latent(codes: maps)).logProbability(input), negativeLogPrior(maps))
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
            let normalizers = logits.logSumExp(alongAxis: 1).scalars
            perPosition = maps.indices.map { normalizers[$0] - logits.scalars[$0 * codes + maps[$0]] }
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
    public static let codebookSize = Setting<Int>("codebook_size", default: 512, .integers(1...65536), doc: "codebook entries K")
    public static let codeWidth = Setting<Int>("code_size", default: 64, .integers(1...4096), doc: "width D of a code vector")
    public static let commitment = Setting<Double>(
        "commitment", default: 0.25, .numbers(atLeast: 0), doc: "commitment weight β of ‖z_e − sg[e]‖²")
    public static let emaDecay = Setting<Double>(
        "ema_decay", default: 0, .numbers(NumberRange(atLeast: 0, below: 1)),
        doc: "decay γ of the moving-average codebook; 0 learns the codebook by its loss instead")

    /// Its encoder widths, the codebook's settings, the observation model's and the prior fit's.
    public static let settings = [NetworkSettings.hiddenSizes.declaration]
        + [codebookSize, codeWidth].map(\.declaration) + [commitment, emaDecay].map(\.declaration)
        + ObservationModel.settings + [CodePriorFit.epochsSetting.declaration]
}
