import Foundation
import TestSupport
import Testing
import VAEFormats
import VAEModels
import VAETensor
@testable import VAETraining

/// Ranks as threads of this process, exchanging through memory: the trainer's side of MPI training (rows per rank,
/// gradients added in rank order, the evaluation's shards) tested without MPI. `scripts/test_mpi.sh` runs the same
/// comparison with real ranks under mpirun.
final class ThreadRanks: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var slots: [Any?]
    private var arrived = 0
    private var generation = 0
    private var result: [Any] = []

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    /// Every rank's `value`, in rank order, once all ranks have called with theirs.
    func exchange(_ value: Any, rank: Int) -> [Any] {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        slots[rank] = value
        arrived += 1
        if arrived == size {
            result = slots.map { $0! }
            (arrived, generation) = (0, generation + 1)
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        return result
    }

    func member(_ rank: Int) -> Member { Member(ranks: self, rank: rank) }

    final class Member: ProcessGroup {
        let ranks: ThreadRanks
        let rank: Int
        var size: Int { ranks.size }
        var name: String { "threads" }
        var failureAdvice = ""
        init(ranks: ThreadRanks, rank: Int) { (self.ranks, self.rank) = (ranks, rank) }
        func allGather(_ values: [Float]) -> [Float] { ranks.exchange(values, rank: rank).flatMap { $0 as! [Float] } }
        func allGather(_ values: [Double]) -> [Double] { ranks.exchange(values, rank: rank).flatMap { $0 as! [Double] } }
        func allReduceSum(_ values: [Float]) -> [Float] {
            let all = ranks.exchange(values, rank: rank).map { $0 as! [Float] }
            return all.dropFirst().reduce(all[0]) { sum, part in zip(sum, part).map { $0 + $1 } }
        }
        func broadcast(_ bytes: [UInt8]) -> [UInt8] { ranks.exchange(bytes, rank: rank)[0] as! [UInt8] }
        func abort() -> Never { fatalError("a rank aborted") }
    }
}

extension ModelComputation {
    @Suite(.serialized) struct RankTrainingTests {
        /// Runs `body(rank)` for every rank on its own thread and waits for all; the results in rank order.
        func onRanks<Result>(_ size: Int, _ body: @escaping @Sendable (Int) throws -> Result) -> [Swift.Result<Result, Error>] {
            let results = Locked([Swift.Result<Result, Error>?](repeating: nil, count: size))
            let done = DispatchSemaphore(value: 0)
            for rank in 0..<size {
                let thread = Thread {
                    let outcome = Swift.Result { try body(rank) }
                    results.withLock { $0[rank] = outcome }
                    done.signal()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            for _ in 0..<size { done.wait() }
            return results.withLock { $0.map { $0! } }
        }

        /// The resume tests' `mlp` on quadrant squares (binarised, so the binarisation stream is split too).
        func config(threads: Int, model: String = "mlp") -> RunConfig {
            var config = ResumeTests().config(epochs: 2)
            config.trainer.threads = threads
            if model != "mlp" { config.model.name = model }
            return config
        }

        /// Three ranks, so that the order of the gradients' additions matters (a + b = b + a, but not (a + b) + c).
        @Test func threeRanksOfOneThreadMatchOneProcessOfThree() throws {
            let single = try trainRun(config(threads: 3), label: "ranks-single")
            defer { removeDirectory(single.directory) }
            let directories = try (0..<3).map { try makeTemporaryDirectory("ranks-\($0)") }
            defer { directories.forEach(removeDirectory) }
            let ranks = ThreadRanks(size: 3)
            let configuration = config(threads: 1)
            let outcomes = onRanks(3) { rank in
                let trainer = try Trainer(config: configuration)
                trainer.group = ranks.member(rank)
                try trainer.run(in: directories[rank], report: { _ in })
                return trainer.epoch
            }
            for outcome in outcomes { #expect(try outcome.get() == 2) }
            // Ranks 1 and 2 wrote nothing; rank 0 wrote what one process writes, with the same losses and weights.
            for directory in directories.dropFirst() { #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty) }
            let (one, two) = (try readMetrics(single.directory), try readMetrics(directories[0]))
            #expect(one.rows.count == 2 && two.rows.count == 2)
            for (a, b) in zip(one.rows, two.rows) {
                for column in one.header where !ResumeTests.timingColumns.contains(column) { #expect(a[column] == b[column], "\(column)") }
            }
            #expect(try AtomicFile.read(single.directory + "/model.safetensors") == AtomicFile.read(directories[0] + "/model.safetensors"))
            var environment = try #require(RunDirectory.recordedEnvironment(in: directories[0]))
            #expect(environment["ranks"] == "3")
            // The thread count is the process's, which suites running beside this one set as they make trainers:
            // the comparison here is of the rank counts only.
            environment["blas_threads"] = nil
            #expect(RunDirectory.environmentDifference(environment, ranks: 3) == nil)
            #expect(RunDirectory.environmentDifference(environment, ranks: 1)?.contains("3 MPI rank(s), this one has 1") == true)
            // Another thread count than this process's is named.
            environment["blas_threads"] = "9999"
            #expect(RunDirectory.environmentDifference(environment, ranks: 3)?.contains("the run started with 9999 threads") == true)
        }

        /// The evaluator's shards spread over 3 ranks of one thread give one process's 3-thread sums, on every rank.
        @Test func evaluationSplitAcrossRanksMatchesThreads() throws {
            let trainer = try Trainer(config: config(threads: 1))
            let images = trainer.testImages
            var noise = RandomStream(seed: 9, name: "evaluation")
            let expected = Evaluator(model: trainer.model, batchSize: 20, threads: 3).negativeELBO(images, noise: &noise)
            let ranks = ThreadRanks(size: 3)
            let model = trainer.model
            let outcomes = onRanks(3) { rank -> [Double] in
                var noise = RandomStream(seed: 9, name: "evaluation")
                let terms = Evaluator(model: model, batchSize: 20, threads: 1, group: ranks.member(rank)).negativeELBO(images, noise: &noise)
                return [terms.total, terms.reconstruction, terms.kl, Double(noise.counter)]
            }
            for outcome in outcomes {
                #expect(try outcome.get() == [expected.total, expected.reconstruction, expected.kl, Double(noise.counter)])
            }
        }

        /// An image folder decoded in three parts (one per rank; 11 images, so the parts differ in length) and
        /// gathered gives every rank the images one process decodes.
        @Test func imageFolderDecodingSharedAcrossRanks() throws {
            let directory = try makeTemporaryDirectory("ranks-folder")
            defer { removeDirectory(directory) }
            for index in 0..<11 {
                let (width, height) = (9 + index % 3, 7)  // resized to 8×8: each image goes through the resampler
                let pixels = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + index * 13) }
                try AtomicFile.write(try PNGEncoder.encode(width: width, height: height, channels: 3, pixels: pixels),
                                     to: "\(directory)/image-\(index).png")
            }
            let configuration = {
                var configuration = RunConfig.defaults
                configuration.data.dataDirectory = directory
                configuration.data.imageSize = 8
                return configuration
            }()
            let alone = try Factory.dataset(configuration, split: .train, limit: 0)
            let ranks = ThreadRanks(size: 3)
            let outcomes = onRanks(3) { rank in
                try Factory.dataset(configuration, split: .train, limit: 0, group: ranks.member(rank)).batch(0..<10).scalars
            }
            #expect(alone.count == 10)  // every 10th image is the test split
            for outcome in outcomes { #expect(try outcome.get() == alone.batch(0..<10).scalars) }
        }

        @Test func modelsAndBatchesThatCannotBeSplitAreRefused() throws {
            for (model, batchSize, expected) in [("beta-tcvae", 64, "beta-tcvae: its loss couples the rows of a batch"),
                                                 ("mlp", 1, "data_params.batch_size 1 with 256 training examples gives a batch of 1 row, fewer than the 2 MPI ranks")] {
                var configuration = config(threads: 1, model: model)
                configuration.data.batchSize = batchSize
                let ranks = ThreadRanks(size: 2)
                let directory = try makeTemporaryDirectory("ranks-refused")
                defer { removeDirectory(directory) }
                let trainer = try Trainer(config: configuration)
                trainer.group = ranks.member(0)
                #expect { try trainer.run(in: directory, report: { _ in }) } throws: { error in
                    "\(error)".contains(expected)
                }
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
            }
        }
    }
}
