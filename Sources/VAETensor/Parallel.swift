import Dispatch

/// Splits large elementwise work over the BLAS thread count, so the cores OpenBLAS uses for the matrix
/// products also share the big passes between them (the IWAE estimate's cross-entropy over k·784 values).
enum Parallel {
    /// Calls `body` on contiguous chunks covering `0..<count`: one chunk when `count · minimumWork` is below
    /// `grain` scalars or one thread is configured, else one chunk per BLAS thread, run concurrently. The chunks
    /// must write disjoint memory.
    static func forEachChunk(of count: Int, minimumWork: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let threads = min(BLAS.threadCount, count)
        guard threads > 1, count * max(minimumWork, 1) >= grain else {
            body(0..<count)
            return
        }
        let size = (count + threads - 1) / threads
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: threads) { index in
                let start = index * size
                if start < count { body(start..<min(start + size, count)) }
            }
        }
    }
}
