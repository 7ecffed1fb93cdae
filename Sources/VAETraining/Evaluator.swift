import Foundation
import VAEData
import VAEFormats
import VAEModels
import VAETensor

/// Computes −ELBO, the IWAE NLL estimate, per-dimension KL and active units, all without gradients.
///
/// With `threads` > 1 the images are cut into that many contiguous shards, evaluated concurrently with a
/// single-threaded BLAS each (`Parallel/forEachShard(_:_:)`), and the sums are added in shard order. Image i's
/// noise is the same for any split (`RandomStream/rows(_:of:)`: each batch draws its images' rows of one draw
/// over all the images), so a result is bit-identical for a fixed thread count and batch size, and differs
/// between them only by rounding.
public struct Evaluator {
    public let model: any VariationalAutoencoder
    /// One class per image, for a conditional model (checked with `VariationalAutoencoder/checkLabels(_:rows:source:)`);
    /// ignored by the others.
    public let labels: [Int]
    public let batchSize: Int
    /// Shards the images are split into on each rank (see above).
    public let threads: Int
    /// The ranks the shards are spread over (`threads` shards each): N ranks of one thread evaluate exactly as
    /// one process with N threads, and every rank gets the result.
    public let group: any ProcessGroup
    /// Decoder rows per pass of the importance-weighted NLL: k samples of one image, or the samples of
    /// ⌊chunk / k⌋ images together. 2048 keeps a CPU's passes in cache; on a GPU a larger pass issues fewer
    /// launches and reads back fewer times (`vae eval --chunk`). The estimate does not depend on it (the noise is
    /// drawn by row) beyond rounding.
    public var importanceChunk = 2048

    public init(model: any VariationalAutoencoder, labels: [Int] = [], batchSize: Int = 1000,
                threads: Int = Parallel.threadCount, group: any ProcessGroup = SingleProcess()) {
        self.model = model
        self.labels = labels
        self.batchSize = batchSize
        self.threads = max(threads, 1)
        self.group = group
    }

    /// Contiguous image ranges, one per shard of every rank (fewer when there are fewer images).
    func shards(_ count: Int) -> [Range<Int>] {
        Parallel.partition(count, into: max(1, min(threads * group.size, count)))
    }

    /// Every shard's `body` values in shard order, each rank computing its own shards (concurrently, one thread
    /// each) and receiving the others'; `noise` ends past the furthest any shard drew. `width`: values per shard.
    func shardValues(_ shardCount: Int, width: Int, noise: inout RandomStream,
                     _ body: (Int) -> (values: [Double], noise: RandomStream)) -> [[Double]] {
        let start = noise
        guard group.size > 1 else {
            let parts = Parallel.mapShards(shardCount, body)
            noise = start.joined(parts.map(\.noise))
            return parts.map(\.values)
        }
        // Each rank sends a row for every shard (zeros for others' shards; a counter < 2⁵³ is exact in a Double).
        let owners = Parallel.partition(shardCount, into: group.size)
        let mine = owners[group.rank]
        let local = Parallel.mapShards(mine.count) { body(mine.lowerBound + $0) }
        var row = [Double](repeating: 0, count: shardCount * (width + 1))
        for (offset, part) in local.enumerated() {
            let first = (mine.lowerBound + offset) * (width + 1)
            row.replaceSubrange(first..<(first + width), with: part.values)
            row[first + width] = Double(part.noise.counter)
        }
        let gathered = group.allGather(row)
        var counter = start.counter
        let values = (0..<shardCount).map { shard -> [Double] in
            let rank = owners.firstIndex { $0.contains(shard) }!
            let first = rank * row.count + shard * (width + 1)
            counter = max(counter, UInt64(gathered[first + width]))
            return Array(gathered[first..<(first + width)])
        }
        noise = RandomStream(seed: start.seed, streamIdentifier: start.streamIdentifier, counter: counter)
        return values
    }

    /// The model conditioned on the labels of images `range` (itself when unconditional or unlabelled).
    func model(for range: Range<Int>) -> any VariationalAutoencoder {
        model.bound(labels.count >= range.upperBound ? labels[range] : nil)
    }

    /// Mean −ELBO, reconstruction and KL per image over `images` (rows), one z per image from `noise`.
    public func negativeELBO(_ images: Tensor, noise: inout RandomStream) -> (total: Double, reconstruction: Double, kl: Double) {
        let count = images.shape[0]
        let ranges = shards(count)
        let start = noise
        // Each shard takes batches of batchSize / shards images, so the shards together hold one batch's memory.
        let shardBatch = max(1, batchSize / ranges.count)
        let parts = shardValues(ranges.count, width: 2, noise: &noise) { shard in
            var end = start
            var reconstruction = 0.0, kl = 0.0
            withoutGradients {
                for first in stride(from: ranges[shard].lowerBound, to: ranges[shard].upperBound, by: shardBatch) {
                    let range = first..<min(first + shardBatch, ranges[shard].upperBound)
                    var noise = start.rows(range, of: count)
                    let terms = model(for: range).negativeELBO(images.slice(range), noise: &noise)
                    reconstruction += Double(terms.reconstruction.sum().scalar)
                    kl += Double(terms.kl.sum().scalar)
                    end = noise
                }
            }
            return ([reconstruction, kl], end)
        }
        let reconstruction = parts.reduce(0.0) { $0 + $1[0] }, kl = parts.reduce(0.0) { $0 + $1[1] }
        let n = Double(max(count, 1))
        return ((reconstruction + kl) / n, reconstruction / n, kl / n)
    }

    /// Mean importance-weighted −log p(x) with `samples` draws per image (Burda et al. 2016), processed in
    /// chunks of at most `chunk` decoder rows (default ``importanceChunk``) so memory stays bounded for k = 5000. `progress` gets the number of
    /// images done so far (from any shard's thread, one call at a time).
    public func negativeLogLikelihood(_ images: Tensor, samples: Int, noise: inout RandomStream,
                                      chunk: Int? = nil, progress: ((Int) -> Void)? = nil) -> Double {
        let chunk = chunk ?? importanceChunk
        let ranges = shards(images.shape[0])
        let initial = noise
        let done = Locked(0)
        let parts = shardValues(ranges.count, width: 1, noise: &noise) { shard in
            var noise = initial
            let total = negativeLogLikelihoodSum(images, ranges[shard], of: images.shape[0], samples: samples,
                                                 noise: &noise, chunk: chunk) { images in
                if let progress { done.withLock { $0 += images; progress($0) } }
            }
            return ([total], noise)
        }
        return parts.reduce(0.0) { $0 + $1[0] } / Double(max(images.shape[0], 1))
    }

    /// Σ −log p̂(x) over images `rows` of `imageCount`, on this thread; `finished` gets the number of images of each
    /// block done. Sample s of image i is row i·samples + s of one draw over all images' samples: each piece of a
    /// block draws its rows of it (``RandomStream/rows(_:of:)``; a piece is a run of whole images or a run of one
    /// image's samples, so its rows are contiguous), and the estimate is the same for any chunk, block or shard.
    /// `noise` ends past the whole draw. On a device the blocks' bounds come back ``boundsPerCopy`` blocks at a time
    /// (a copy back waits for the device's queue to drain), summed on the host in the same order as on the CPU.
    func negativeLogLikelihoodSum(_ images: Tensor, _ rows: Range<Int>, of imageCount: Int, samples: Int,
                                  noise: inout RandomStream, chunk: Int, finished: (Int) -> Void) -> Double {
        let initial = noise
        let samplesPerChunk = min(samples, chunk)
        let imagesPerChunk = max(1, chunk / samples)
        var total = 0.0
        var pending: [Tensor] = []
        // Σ of each pending block's bounds (in Double, in order), subtracted from the total block by block.
        func settle() {
            guard !pending.isEmpty else { return }
            let values = pending.count == 1 ? pending[0].scalars : Tensor.concatenate(pending).scalars
            var offset = 0
            for block in pending {
                total -= values[offset..<offset + block.count].reduce(0.0) { $0 + Double($1) }
                offset += block.count
            }
            pending.removeAll(keepingCapacity: true)
        }
        withoutGradients {
            var first = rows.lowerBound
            while first < rows.upperBound {
                let range = first..<min(first + imagesPerChunk, rows.upperBound)
                let (block, blockModel) = (images.slice(range), model(for: range))
                var pieces: [Tensor] = []
                var drawn = 0
                while drawn < samples {
                    let take = min(samplesPerChunk, samples - drawn)
                    let firstRow = range.lowerBound * samples + drawn
                    var pieceNoise = initial.rows(firstRow..<firstRow + range.count * take, of: imageCount * samples)
                    pieces.append(blockModel.logImportanceWeights(block, samples: take, noise: &pieceNoise))
                    noise = initial.joined([pieceNoise])
                    drawn += take
                }
                let logWeights = pieces.count == 1 ? pieces[0] : Tensor.concatenate(pieces, alongAxis: 1)
                pending.append(logWeights.logSumExp(alongAxis: 1) - Float(Foundation.log(Double(samples))))
                if pending[0].backend == nil || pending.count == Self.boundsPerCopy { settle() }
                first += block.shape[0]
                finished(block.shape[0])
            }
            settle()
        }
        return total
    }

    /// The blocks whose bounds one copy back brings from a device in ``negativeLogLikelihoodSum(_:_:of:samples:noise:chunk:finished:)``.
    static let boundsPerCopy = 64

    /// KL per latent dimension (mean over images) and the number of active units
    /// (`VariationalAutoencoder/latentStatistics(_:labels:batchSize:)`).
    public func latentStatistics(_ images: Tensor) -> (klPerDimension: [Double], activeUnits: Int) {
        model.latentStatistics(images, labels: labels, batchSize: batchSize)
    }

    /// Everything in one report; `importanceSamples` 0 skips the NLL.
    public func report(_ images: Tensor, importanceSamples: Int, seed: UInt64,
                       progress: ((Int) -> Void)? = nil) -> EvaluationReport {
        let started = Date()
        var noise = RandomStream(seed: seed, name: "evaluation")
        let elbo = negativeELBO(images, noise: &noise)
        let statistics = latentStatistics(images)
        var nll: Double?
        if importanceSamples > 0 {
            var importanceNoise = RandomStream(seed: seed, name: "importance")
            nll = negativeLogLikelihood(images, samples: importanceSamples, noise: &importanceNoise, progress: progress)
        }
        let dimensions = Double(images.shape[1])
        return EvaluationReport(
            images: images.shape[0], negativeELBO: elbo.total, reconstruction: elbo.reconstruction, kl: elbo.kl,
            negativeLogLikelihood: nll, importanceSamples: importanceSamples > 0 ? importanceSamples : nil,
            bitsPerDimension: nll.map { $0 / (dimensions * Foundation.log(2)) },
            klPerDimension: statistics.klPerDimension, activeUnits: statistics.activeUnits,
            diagnostics: (model as? LatentDiagnostics).map { model in
                withoutGradients { Dictionary(model.diagnostics(images).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }) }
            },
            seconds: Date().timeIntervalSince(started))
    }
}
