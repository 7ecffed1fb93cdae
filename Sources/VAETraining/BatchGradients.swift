import VAEModels
import VAENN
import VAEOptimizers
import VAETensor

/// One optimiser step's loss, logged terms and parameter gradients for a batch — the work the trainer and
/// `vae bench` time.
///
/// With more than one thread and a model whose loss is a row mean (`VariationalAutoencoder/lossSplitsOverRows`),
/// the batch is split into one shard of rows per thread; each shard runs forward and backward on its own tape and
/// core with a single-threaded BLAS (`Parallel/forEachShard(_:_:)`), its loss weighted by its share of the rows,
/// and the shards' gradients are added in shard order. Each shard draws its rows of the noise the whole batch would
/// draw (`RandomStream/rows(_:of:)`), so a run is bit-identical for a fixed thread count and differs between
/// counts only by rounding (the sums over rows split differently). Other models, and one thread, compute the
/// whole batch on one tape with the BLAS threaded.
public struct BatchGradients {
    /// The weighted sum of the shards' totals: the batch's loss.
    public var loss: Float
    /// Each logged term, combined like `loss`.
    public var terms: [(name: String, value: Float)]
    /// The gradients, one per parameter in `Module/parameters` order, as one part per shard: their sum (in part
    /// order) is the batch's gradient. Hand them to `Optimizer/update(_:summing:)`, which can add them inside
    /// its own pass over memory.
    public var parts: [[Tensor]]
    /// The first parameter (index) with a non-finite gradient in any part, or nil. (Finite parts could still
    /// overflow when added — values near 3·10³⁸ — and the next step's loss would then stop the run.)
    public var nonFiniteGradient: Int?

    /// The batch's gradient: the parts added in order.
    public var gradients: [Tensor] { parts.count == 1 ? parts[0] : sumOfParts(parts) }
    /// Number of shards the batch was split into.
    public var shards: Int

    public func value(_ name: String) -> Float? { terms.first { $0.name == name }?.value }

    /// Shards for `rows` rows of `model` on `threads` threads: one per thread when the loss splits and every shard
    /// gets at least `minimumRows` rows, else 1. (A trainer passes its configured count, so its results do not
    /// depend on what other code sets process-wide.)
    public static func shardCount(for model: any VariationalAutoencoder, rows: Int, threads: Int = Parallel.threadCount,
                                  minimumRows: Int = 16) -> Int {
        guard model.lossSplitsOverRows else { return 1 }
        return max(1, min(threads, rows / max(minimumRows, 1)))
    }

    /// Computes the loss and gradients of `model` on `input` (`labels`: one per row for a conditional model),
    /// drawing from `noise` and advancing it. `parameters`: `model.parameters`, which a training loop holds (found
    /// here when nil). `part`: when `input` holds only rows `part.rows` of a batch of `part.total` rows (one MPI
    /// rank's), they draw those rows of the batch's noise and weigh their loss by their share of the batch, so
    /// that the ranks' results add up to the batch's (the model's loss must split over rows).
    public init(model: any VariationalAutoencoder, parameters: [Parameter]? = nil, input: Tensor,
                labels: ArraySlice<Int>?, noise: inout RandomStream, step: Int, shards requested: Int? = nil,
                part: (rows: Range<Int>, total: Int)? = nil) {
        let parameters = parameters ?? model.parameters
        let rows = input.shape[0]
        precondition(part == nil || part!.rows.count == rows, "BatchGradients: part \(part!.rows) is not the input's \(rows) rows")
        let shards = min(requested ?? BatchGradients.shardCount(for: model, rows: rows), max(rows, 1))
        self.shards = shards
        let start = noise
        let results: [Shard]
        if shards == 1 && part == nil {
            results = [Shard(model: model, parameters: parameters, input: input, labels: labels, noise: start, step: step,
                             weight: 1)]
        } else {
            let (offset, total) = part.map { ($0.rows.lowerBound, $0.total) } ?? (0, rows)
            let ranges = Parallel.partition(rows, into: shards)
            results = Parallel.mapShards(shards) { shard in
                let range = ranges[shard]
                return Shard(model: model, parameters: parameters, input: input.slice(range),
                             labels: labels.map { $0[($0.startIndex + range.lowerBound)..<($0.startIndex + range.upperBound)] },
                             noise: start.rows((offset + range.lowerBound)..<(offset + range.upperBound), of: total),
                             step: step, weight: Float(range.count) / Float(total))
            }
        }
        self.loss = results.dropFirst().reduce(results[0].loss) { $0 + $1.loss }
        self.terms = results[0].terms.indices.map { position in
            (results[0].terms[position].name,
             results.dropFirst().reduce(results[0].terms[position].value) { $0 + $1.terms[position].value })
        }
        self.parts = results.map(\.gradients)
        self.nonFiniteGradient = results.compactMap(\.nonFinite).min()
        noise = start.joined(results.map(\.noise))
    }

    /// One shard's loss (weighted by its share of the batch's rows), weighted terms and gradients, computed on the
    /// calling thread with its own tape.
    struct Shard {
        let loss: Float
        let terms: [(name: String, value: Float)]
        let gradients: [Tensor]
        /// The shard's noise stream after its draws.
        let noise: RandomStream
        /// The first parameter (index) whose gradient is not finite; checked on the shard's thread, while the
        /// values are in its cache.
        let nonFinite: Int?

        init(model: any VariationalAutoencoder, parameters: [Parameter], input: Tensor, labels: ArraySlice<Int>?,
             noise: RandomStream, step: Int, weight: Float) {
            let context = LossContext(noise: noise, step: step)
            let shardModel = model.bound(labels)
            var terms: LossTerms?
            let (value, gradients) = model.valueWithGradients(for: parameters) {
                terms = shardModel.loss(input, context: context)
                return weight == 1 ? terms!.total : terms!.total * weight
            }
            let (values, nonFinite) = Tensor.scalarValues([value] + terms!.terms.map(\.value), checkingFinite: gradients)
            self.loss = values[0]
            self.terms = zip(terms!.terms, values.dropFirst()).map { ($0.name, $1 * weight) }
            self.gradients = gradients
            self.noise = context.noise
            self.nonFinite = nonFinite
        }
    }
}
