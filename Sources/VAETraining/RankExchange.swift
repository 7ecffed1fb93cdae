import Foundation
import VAEModels
import VAETensor

/// Training across the ranks of a ``ProcessGroup``: which rows of each batch a rank computes, and how the ranks'
/// gradients, logged terms and random streams become one step that every rank applies identically.
///
/// Rank r computes rows `Parallel.partition(rows, into: ranks)[r]` of each global batch (on its own threads, split
/// again), drawing those rows of the batch's noise and weighing its loss by its share of the batch (see
/// ``BatchGradients``). With ``RankReduction/ordered``, every rank receives every rank's gradient and adds them in
/// rank order: N ranks of one thread then compute exactly what one process with N threads computes (the same
/// shards, added in the same order) for every batch of at least 16·N rows (`BatchGradients/shardCount(for:rows:threads:minimumRows:)`
/// gives one process fewer shards below that), and every rank holds the same weights after every step.
extension Trainer {
    /// Refuses a model or data that cannot be split across ranks, naming what and why.
    func checkRanks() throws {
        guard group.size > 1 else { return }
        let ranks = group.size
        guard model.lossSplitsOverRows else {
            throw TrainingError("\(config.model.name): its loss couples the rows of a batch (batch statistics, a batch-level estimator or a batch-norm layer), so it cannot be split across \(ranks) MPI ranks; train it with one process (threads still apply)")
        }
        if let auxiliary = model.auxiliaryTraining {
            throw TrainingError("\(config.model.name): its \(auxiliary.name) trains on whole batches beside the model and cannot be split across \(ranks) MPI ranks yet; train it with one process")
        }
        let batchSize = config.data.batchSize
        let last = train.count % batchSize
        if batchSize < ranks || (last > 0 && last < ranks) {
            let rows = batchSize < ranks ? batchSize : last
            throw TrainingError("data_params.batch_size \(batchSize) with \(train.count) training examples gives a batch of \(rows) row\(rows == 1 ? "" : "s"), fewer than the \(ranks) MPI ranks (each needs one); pick another batch_size or train_limit, or fewer ranks")
        }
    }

    /// The rows of a batch of `count` rows this rank computes.
    func rankRows(ofBatch count: Int) -> Range<Int> {
        group.size > 1 ? Parallel.partition(count, into: group.size)[group.rank] : 0..<count
    }

    /// Turns this rank's part of a step into the whole batch's: the gradients as one part (the ranks' added in rank
    /// order, or MPI's sum with ``RankReduction/allreduce``), loss and terms added in rank order, the first non-finite
    /// gradient of any rank, and each of `streams` past the furthest any rank drew (every rank draws its rows of
    /// the same draws, so they agree; the maximum also covers a rank with nothing to draw).
    func exchange(_ batch: inout BatchGradients, streams: inout [RandomStream]) {
        guard group.size > 1 else { return }
        let started = Date()
        let local = batch.gradients
        let gradientCount = local.reduce(0) { $0 + $1.count }
        // The small tail every rank needs from every other: loss, terms, the non-finite flag, stream counters.
        var tail = [batch.loss] + batch.terms.map(\.value) + [Float(batch.nonFiniteGradient ?? -1)]
        for stream in streams {
            tail += [Float(bitPattern: UInt32(truncatingIfNeeded: stream.counter)), Float(bitPattern: UInt32(truncatingIfNeeded: stream.counter >> 32))]
        }
        var flat = [Float]()
        flat.reserveCapacity(gradientCount + tail.count)
        for gradient in local { flat.append(contentsOf: gradient.scalars) }
        let tails: [Float]
        switch rankReduction {
        case .ordered:
            flat.append(contentsOf: tail)
            let gathered = timingCollective { group.allGather(flat) }
            let width = flat.count
            batch.parts = [sumsInRankOrder(gathered, width: width, shapedLike: local)]
            tails = (0..<group.size).flatMap { rank in gathered[(rank * width + gradientCount)..<((rank + 1) * width)] }
        case .allreduce:
            batch.parts = [tensors(timingCollective { group.allReduceSum(flat) }, shapedLike: local)]
            tails = timingCollective { group.allGather(tail) }
        }
        let width = tail.count
        let perRank = (0..<group.size).map { Array(tails[($0 * width)..<(($0 + 1) * width)]) }
        batch.loss = perRank.dropFirst().reduce(perRank[0][0]) { $0 + $1[0] }
        for position in batch.terms.indices {
            batch.terms[position].value = perRank.dropFirst().reduce(perRank[0][1 + position]) { $0 + $1[1 + position] }
        }
        let flagIndex = 1 + batch.terms.count
        batch.nonFiniteGradient = perRank.compactMap { $0[flagIndex] >= 0 ? Int($0[flagIndex]) : nil }.min()
        for index in streams.indices {
            let counter = perRank.map { values -> UInt64 in
                let low = UInt64(values[flagIndex + 1 + 2 * index].bitPattern), high = UInt64(values[flagIndex + 2 + 2 * index].bitPattern)
                return low | high << 32
            }.max()!
            let stream = streams[index]
            streams[index] = RandomStream(seed: stream.seed, streamIdentifier: stream.streamIdentifier, counter: counter)
        }
        exchangeSeconds += Date().timeIntervalSince(started)
    }

    /// `body`'s result, its seconds added to ``collectiveSeconds`` (the time inside MPI, waiting for the slowest
    /// rank included).
    private func timingCollective<Result>(_ body: () -> Result) -> Result {
        let started = Date()
        defer { collectiveSeconds += Date().timeIntervalSince(started) }
        return body()
    }

    /// Tensors shaped like `shapes`, read one after another from `values`.
    private func tensors(_ values: [Float], shapedLike shapes: [Tensor]) -> [Tensor] {
        var offset = 0
        return shapes.map { shape in
            defer { offset += shape.count }
            return Tensor(shape: shape.shape, scalars: Array(values[offset..<(offset + shape.count)]))
        }
    }

    /// Tensors shaped like `shapes` holding, element by element, rank 0's value + rank 1's + … in rank order, from
    /// `gathered` (each rank's `width` values one after another, the tensors first): the sum the optimiser would
    /// form from one part per rank (`Optimizer/update(_:summing:)` adds parts in order), in one pass.
    private func sumsInRankOrder(_ gathered: [Float], width: Int, shapedLike shapes: [Tensor]) -> [Tensor] {
        var offset = 0
        let ranks = group.size
        return gathered.withUnsafeBufferPointer { all in
            shapes.map { shape in
                let count = shape.count
                defer { offset += count }
                let sums = [Float](unsafeUninitializedCapacity: count) { target, initialized in
                    let first = all.baseAddress! + offset
                    target.baseAddress!.initialize(from: first, count: count)
                    for rank in 1..<ranks {
                        let part = first + rank * width
                        for index in 0..<count { target[index] += part[index] }
                    }
                    initialized = count
                }
                return Tensor(shape: shape.shape, scalars: sums)
            }
        }
    }
}
