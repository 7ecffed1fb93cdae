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

    /// Sets the number of BLAS threads (results are reproducible for a fixed count).
    public static func setThreadCount(_ count: Int) {
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
