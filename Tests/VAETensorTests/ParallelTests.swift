import Foundation
import Testing
@testable import VAETensor

@Suite(.serialized) struct ParallelTests {
    /// Every shard runs once, on its own thread, with the BLAS single-threaded meanwhile (so work inside a shard is
    /// not split again) and the configured count back afterwards.
    @Test func shardsRunOnceWithSingleThreadedBLAS() {
        BLAS.setThreadCount(2)
        let seen = Locked([Int]())
        let blasInside = Locked([Int]())
        Parallel.forEachShard(4) { shard in
            seen.withLock { $0.append(shard) }
            blasInside.withLock { $0.append(BLAS.threadCount) }
            var chunks = 0
            Parallel.forEachChunk(of: 1 << 20, grain: 1) { _ in chunks += 1 }   // inline: one chunk
            #expect(chunks == 1)
        }
        #expect(seen.withLock { $0.sorted() } == [0, 1, 2, 3])
        #if !canImport(Accelerate)
        #expect(blasInside.withLock { $0 } == [1, 1, 1, 1])
        #endif
        #expect(Self.countRestoredOrRegionActive())
    }

    /// The BLAS has the configured count back, unless a shard region (of a test running alongside) is active.
    static func countRestoredOrRegionActive() -> Bool {
        #if canImport(Accelerate)
        return true
        #else
        return Parallel.state.withLock { $0.activeShardRegions > 0 || BLAS.threadCount == $0.threads }
        #endif
    }

    /// Overlapping shard regions (two trainers at once) leave the BLAS single-threaded until the last one ends.
    @Test func overlappingRegionsRestoreTheCountOnce() {
        BLAS.setThreadCount(2)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            Parallel.forEachShard(2) { _ in usleep(2000) }
        }
        #expect(Self.countRestoredOrRegionActive())
    }

    /// Matrix products on several threads at once (single-threaded BLAS each) equal the same products in turn.
    @Test func concurrentProductsMatchSerialOnes() {
        BLAS.setThreadCount(2)
        var random = RandomStream(seed: 4, name: "parallel-gemm")
        let a = (0..<4).map { _ in random.uniform(shape: [64, 300], in: -1...1) }
        let b = random.uniform(shape: [300, 200], in: -1...1)
        BLAS.setThreadCount(1)
        let serial = a.map { $0.matmul(b).scalars }
        BLAS.setThreadCount(2)
        let results = Locked([[Float]](repeating: [], count: 4))
        for _ in 0..<5 {
            Parallel.forEachShard(4) { index in
                let product = a[index].matmul(b).scalars
                results.withLock { $0[index] = product }
            }
            #expect(results.withLock { $0 } == serial)
        }
    }

    @Test func addInPlaceMatchesTheSerialSum() {
        BLAS.setThreadCount(2)
        var random = RandomStream(seed: 5, name: "add")
        let (x, y) = (random.normal(shape: [300_001]), random.normal(shape: [300_001]))
        var sum = x
        sum.addInPlace(y)
        #expect(sum.scalars == zip(x.scalars, y.scalars).map { $0 + $1 })
    }
}
