import Dispatch
import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The system BLAS: OpenBLAS on Linux, Accelerate on macOS. Every matrix multiply goes through here.
public enum BLAS {
    /// C[m×n] = α·op(A)·op(B) + β·C, row-major; op(A) is m×k and op(B) is k×n.
    @inline(__always)
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float = 0,
                     c: UnsafeMutablePointer<Float>) {
        if let recorder = GEMMRecorder.current {
            recorder.record(GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k))
        }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        #if canImport(Accelerate)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
        #else
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(n))
        #endif
    }

    /// Sets the number of threads for the BLAS and for the library's own parallel work (``Parallel``); results
    /// are reproducible for a fixed count.
    public static func setThreadCount(_ count: Int) {
        Parallel.setThreadCount(count)
    }

    /// Sets the BLAS library's thread count alone (``Parallel/forEachShard(_:_:)`` drops it to 1 meanwhile).
    static func setLibraryThreads(_ count: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(count))
        #endif
    }

    public static var threadCount: Int {
        #if canImport(Accelerate)
        return 1
        #else
        return Int(openblas_get_num_threads())
        #endif
    }

    /// The BLAS build and kernel in use (recorded in run directories: results depend on it).
    public static var configuration: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config) core=\(core)"
        #endif
    }
}

/// The shape of one sgemm call: op(A) is m×k, op(B) is k×n.
public struct GEMMShape: Hashable, Codable, Sendable, CustomStringConvertible {
    public var transposeA: Bool
    public var transposeB: Bool
    public var m: Int
    public var n: Int
    public var k: Int

    public init(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int) {
        (self.transposeA, self.transposeB, self.m, self.n, self.k) = (transposeA, transposeB, m, n, k)
    }

    /// Multiply-adds counted as two floating-point operations.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    public var description: String { "\(m)×\(k)\(transposeA ? "ᵀ" : "")·\(k)×\(n)\(transposeB ? "ᵀ" : "")" }
}

/// Counts the sgemm calls made while ``recording(_:)`` runs: the FLOP count of whatever the body computes through
/// BLAS (every Linear, Conv2d and ConvTranspose2d, forward and backward) plus the direct convolutions' FLOPs, and
/// the shapes a benchmark should time.
/// Task-local, so concurrent work elsewhere is not counted.
public final class GEMMRecorder {
    @TaskLocal static var current: GEMMRecorder?
    /// Distinct shapes in order of first call, with their call counts.
    public private(set) var shapes: [GEMMShape] = []
    public private(set) var calls: [Int] = []
    var positions: [GEMMShape: Int] = [:]

    public init() {}

    private let lock = NSLock()

    func record(_ shape: GEMMShape) {
        lock.lock()
        defer { lock.unlock() }
        if let position = positions[shape] { calls[position] += 1; return }
        positions[shape] = shapes.count
        shapes.append(shape)
        calls.append(1)
    }

    /// FLOPs of work done outside sgemm (direct convolutions: 2 per multiply-add), counted in ``flops``.
    public private(set) var directFLOPs: Double = 0

    func recordDirect(flops: Double) {
        lock.lock()
        defer { lock.unlock() }
        directFLOPs += flops
    }

    /// FLOPs of the recorded sgemm calls.
    public var gemmFLOPs: Double { zip(shapes, calls).reduce(0) { $0 + $1.0.flops * Double($1.1) } }

    /// Total FLOPs: the sgemm calls' and the direct convolutions'.
    public var flops: Double { gemmFLOPs + directFLOPs }

    /// Runs `body` with this recorder counting sgemm calls (nested recorders: only the innermost counts).
    public func recording<Result>(_ body: () throws -> Result) rethrows -> Result {
        try GEMMRecorder.$current.withValue(self) { try body() }
    }
}

extension BLAS {
    /// Seconds per call of an sgemm of `shape` (median of `rounds` timings of `repetitions` calls each) on
    /// operands filled with small values; the output is overwritten (β = 0).
    public static func time(_ shape: GEMMShape, repetitions: Int, rounds: Int = 3) -> Double {
        let a = [Float](repeating: 0.5, count: shape.m * shape.k)
        let b = [Float](repeating: 0.25, count: shape.k * shape.n)
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        var timings: [Double] = []
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let (pa, pb, pc) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    let call = {
                        gemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n,
                             k: shape.k, a: pa, b: pb, c: pc)
                    }
                    call()   // warm-up: thread start, page faults
                    for _ in 0..<max(rounds, 1) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        for _ in 0..<max(repetitions, 1) { call() }
                        timings.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(max(repetitions, 1)))
                    }
                }
            }
        }
        return timings.sorted()[timings.count / 2]
    }
}

/// Process-wide settings for numeric work.
public enum Runtime {
    /// Keeps freed large buffers in the heap for reuse instead of returning them to the kernel: glibc otherwise
    /// maps and unmaps every array over 128 KiB–32 MiB, and training allocates many of them each step, so the
    /// kernel spends its time zeroing fresh pages. Call once at start-up (the `vae` command does).
    public static func configureAllocator() {
        #if !canImport(Accelerate)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }
}
