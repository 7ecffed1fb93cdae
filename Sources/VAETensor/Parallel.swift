import CKernels
import Dispatch
#if !canImport(Accelerate)
import CBLAS
#endif

/// The library's own threads: data-parallel shards of a batch, and large elementwise passes split over the
/// cores the matrix products use.
public enum Parallel {
    /// Threads for work the library splits itself; ``BLAS/setThreadCount(_:)`` sets it with the BLAS's.
    public static var threadCount: Int { state.withLock { $0.threads } }

    /// The configured count, and the shard regions running now (the BLAS stays single-threaded while any runs,
    /// then gets `threads` back, even when regions of concurrent trainers overlap).
    struct State {
        var threads: Int
        var activeShardRegions = 0
    }
    static let state = Locked(State(threads: BLAS.threadCount))

    static func setThreadCount(_ count: Int) {
        state.withLock { state in
            state.threads = max(count, 1)
            if state.activeShardRegions == 0 { BLAS.setLibraryThreads(state.threads) }
        }
    }

    /// Calls `body` on contiguous chunks covering `0..<count`: one chunk when `count · minimumWork` is below
    /// `grain` scalars or one thread is configured, else one chunk per BLAS thread, run concurrently. The chunks
    /// must write disjoint memory. Inside ``forEachShard(_:_:)`` (BLAS single-threaded there) it runs inline.
    public static func forEachChunk(of count: Int, minimumWork: Int = 1, grain: Int, _ body: (Range<Int>) -> Void) {
        let threads = min(BLAS.threadCount, count)
        guard threads > 1, count * max(minimumWork, 1) >= grain else {
            body(0..<count)
            return
        }
        let size = (count + threads - 1) / threads
        run(threads) { index in
            let start = index * size
            if start < count { body(start..<min(start + size, count)) }
        }
    }

    /// Runs `body(0)`, …, `body(shards − 1)` concurrently, one thread each, with the BLAS single-threaded
    /// meanwhile: each shard's products run whole on its own core instead of handing every product between
    /// BLAS threads (which costs more than it saves on a training step's small matrices). The bodies must not
    /// share mutable state. Task-local values (the recording tape, a `GEMMRecorder`) reach only the shard that
    /// runs on the caller's thread: a body binds its own (each of `BatchGradients`' shards records its own tape;
    /// the evaluator runs without one).
    public static func forEachShard(_ shards: Int, _ body: (Int) -> Void) {
        guard shards > 1 else {
            if shards == 1 { body(0) }
            return
        }
        singleThreadedBLAS { run(shards, body) }
    }

    /// Runs `body` with the BLAS single-threaded, as a shard's products run: its results then depend neither on
    /// the thread count nor on what other threads set it to meanwhile.
    public static func singleThreadedBLAS<Result>(_ body: () throws -> Result) rethrows -> Result {
        state.withLock { state in
            if state.activeShardRegions == 0 { BLAS.setLibraryThreads(1) }
            state.activeShardRegions += 1
        }
        defer {
            state.withLock { state in
                state.activeShardRegions -= 1
                if state.activeShardRegions == 0 { BLAS.setLibraryThreads(state.threads) }
            }
        }
        return try body()
    }

    /// `body(0)`, …, `body(count − 1)` concurrently on `count` threads: CKernels' spinning pool (no wake-up
    /// latency between the parallel sections of a step), or Dispatch when the pool is busy (nested or concurrent
    /// callers).
    static func run(_ count: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var task = body
            let busy = withUnsafeMutablePointer(to: &task) { pointer in
                vae_pool_run(count, count, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer)
            }
            if busy != 0 { DispatchQueue.concurrentPerform(iterations: count, execute: body) }
        }
    }
}

extension Parallel {
    /// ``forEachShard(_:_:)`` collecting one result per shard, in shard order.
    public static func mapShards<Result>(_ shards: Int, _ body: (Int) -> Result) -> [Result] {
        var results = [Result?](repeating: nil, count: max(shards, 0))
        results.withUnsafeMutableBufferPointer { slots in
            forEachShard(shards) { slots[$0] = body($0) }
        }
        return results.map { $0! }
    }

    /// `0..<count` cut into `shards` contiguous ranges in order; the first `count % shards` are one longer.
    public static func partition(_ count: Int, into shards: Int) -> [Range<Int>] {
        let shards = max(shards, 1)
        let bounds = (0...shards).map { $0 * (count / shards) + min($0, count % shards) }
        return (0..<shards).map { bounds[$0]..<bounds[$0 + 1] }
    }
}

/// A value behind a lock.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    public init(_ value: Value) { self.value = value }
    public func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

import Foundation
