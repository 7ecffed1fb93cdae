import Foundation
import VAENN
import VAETensor

/// The vector-quantised latent of VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017): a codebook of K entries of
/// width D (`codebook_size`, `code_size`); each encoder output vector is replaced by its nearest entry. With
/// `ema_decay` γ > 0 the codebook follows exponential moving averages of the vectors assigned to each entry (it is
/// then a buffer, not a parameter); otherwise it is learned by the codebook loss ‖sg[z_e] − e‖². The codebook is
/// set from the first training batch's encoder outputs, and entries the encoder has left unused are restarted at
/// its outputs (Dhariwal et al. 2020).
///
/// Its weights keep the names VQ-VAE gives them (`codebook`, `cluster_size`, `embedding_sum`, `usage`,
/// `codebook_initialized`): the quantiser adds no prefix.
public final class VectorQuantizer: Module {
    /// `[K, D]`; trainable unless the codebook follows moving averages.
    public let codebook: Parameter
    /// EMA state (buffers): smoothed assignment counts `[K]` and sums of assigned vectors `[K, D]`.
    public let clusterSize: Parameter?
    public let embeddingSum: Parameter?
    /// 1 once the codebook has been set from the first training batch's encoder outputs; kept on the host, as
    /// every training step reads it.
    public let codebookInitialized: Parameter
    /// Moving average (decay 0.9) of each entry's assignments per training batch; an entry whose average falls
    /// below ``deadUsage`` is restarted at an encoder output of the current batch.
    public let usage: Parameter
    public static let deadUsage: Float = 0.05
    /// The moving averages' decay γ (0: the codebook is learned by its loss).
    public let decay: Float
    override public var namesItsChildren: Bool { false }

    /// Draws the initial codebook from `random`, uniform in ±1/K.
    public init(codes: Int, width: Int, decay: Double, random: inout RandomStream) {
        let initial = random.uniform(shape: [codes, width], in: -1 / Float(codes)...1 / Float(codes))
        let usesEMA = decay > 0
        codebook = Parameter(initial, trainable: !usesEMA)
        clusterSize = usesEMA ? Parameter(.ones([codes]), trainable: false) : nil
        embeddingSum = usesEMA ? Parameter(initial, trainable: false) : nil
        codebookInitialized = Parameter(.zeros([]), trainable: false, keptOnHost: true)   // read every step
        usage = Parameter(.ones([codes]), trainable: false)
        self.decay = Float(decay)
        super.init()
    }

    /// K.
    public var codes: Int { codebook.value.shape[0] }
    /// D.
    public var codeSize: Int { codebook.value.shape[1] }
    public var usesMovingAverages: Bool { clusterSize != nil }

    /// The nearest codebook entry of each row (squared Euclidean distance, first on ties): one sgemm for the
    /// cross terms, ‖e‖² per entry; ‖z‖² is the same for every entry of a row, so it is left out. On a device the
    /// indices are found and kept there: the first maximum of 2·z·e − ‖e‖², the same as the first minimum of
    /// ‖e‖² − 2·z·e (negation is exact).
    public func nearestCodes(_ rows: Tensor) -> RowIndices {
        withoutGradients {
            let entries = codebook.value
            let cross = rows.detached.matmul(entries, transposingOther: true)   // [rows, K]
            guard cross.backend == nil else {
                return (cross * 2 - entries.squared().sum(alongAxis: 1).reshaped([1, codes])).positionsOfRowMaxima()
            }
            let crossTerms = cross.scalars
            let norms = entries.squared().sum(alongAxis: 1).scalars
            let (count, codes) = (rows.shape[0], self.codes)
            return RowIndices((0..<count).map { row in
                var (best, bestDistance) = (0, Float.infinity)
                for code in 0..<codes {
                    let distance = norms[code] - 2 * crossTerms[row * codes + code]
                    if distance < bestDistance { (best, bestDistance) = (code, distance) }
                }
                return best
            })
        }
    }

    /// How many rows `maps` assigns to each entry, `[K]`.
    func assignmentCounts(_ maps: RowIndices) -> Tensor {
        guard maps.backend == nil else { return Tensor.oneHot(maps, classes: codes).sum(alongAxis: 0) }
        var counts = [Float](repeating: 0, count: codes)
        for code in maps.values { counts[code] += 1 }
        return Tensor(shape: [codes], scalars: counts)
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
    /// ``deadUsage`` (unused for about 28 steps, or used in fewer than one batch in 20) to a random encoder output
    /// of the batch, so that entries the encoder has moved away from come back into use. Takes effect from the next
    /// batch. On a device the averages are updated there and read back once, to pick the entries to restart; a
    /// restart (rare after the first steps) copies the codebook.
    func restartDeadCodes(rows: Tensor, maps: RowIndices, random: inout RandomStream) {
        let updated = usage.value * 0.9 + assignmentCounts(maps) * 0.1
        var averages = updated.scalars
        // Relative to the expected assignments per entry when they are fewer than one per batch (small batches,
        // large codebooks), so live entries are not restarted by chance.
        let threshold = Self.deadUsage * Swift.min(1, Float(maps.count) / Float(codes))
        let dead = averages.indices.filter { averages[$0] < threshold }
        guard !dead.isEmpty else { return usage.value = updated }
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
        usage.value = Tensor(shape: [codes], scalars: averages)
    }

    /// N_k ← γN_k + (1 − γ)n_k, m_k ← γm_k + (1 − γ)Σ_{z→k} z, e_k = m_k / N̂_k with N̂ the counts smoothed as
    /// (N_k + ε)/(ΣN + Kε)·ΣN, so an unused entry keeps its vector instead of dividing by zero.
    /// On a device, with tensor ops there: the counts and sums of assigned vectors from the one-hot assignments
    /// (a GEMM for the sums).
    func updateMovingAverages(rows: Tensor, maps: RowIndices) {
        guard let clusterSize, let embeddingSum else { return }
        let decay = self.decay
        if maps.backend != nil {
            let assigned = Tensor.oneHot(maps, classes: codes)                                       // [rows, K]
            let sizes = clusterSize.value * decay + assigned.sum(alongAxis: 0) * (1 - decay)
            let vectorSums = embeddingSum.value * decay + assigned.matmul(rows, transposingSelf: true) * (1 - decay)
            let total = sizes.sum(), epsilon: Float = 1e-5
            let smoothed = (sizes + epsilon) / (total + Float(codes) * epsilon) * total
            clusterSize.value = sizes
            embeddingSum.value = vectorSums
            codebook.value = vectorSums / smoothed.reshaped([codes, 1])
            return
        }
        let maps = maps.values
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
}

extension VectorQuantizer {
    public static let codebookSize = Setting<Int>("codebook_size", default: 512, .integers(1...65536), doc: "codebook entries K")
    public static let codeWidth = Setting<Int>("code_size", default: 64, .integers(1...4096), doc: "width D of a code vector")
    public static let commitment = Setting<Double>(
        "commitment", default: 0.25, .numbers(atLeast: 0), doc: "commitment weight β of ‖z_e − sg[e]‖²")
    public static let emaDecay = Setting<Double>(
        "ema_decay", default: 0, .numbers(NumberRange(atLeast: 0, below: 1)),
        doc: "decay γ of the moving-average codebook; 0 learns the codebook by its loss instead")

    public static let settings = [codebookSize, codeWidth].map(\.declaration) + [commitment, emaDecay].map(\.declaration)
}
