import VAECUDA
import VAETensor

extension KernelChecks {
    /// The relative tolerance of a TF32 product of ``products(on:tf32:)``'s sizes and values: its inputs keep 10 bits
    /// of mantissa (each rounded by up to 2⁻¹¹, or 2⁻¹⁰ where a GPU truncates), so over 200 terms in [−1, 1] a sum
    /// moves by about 5·10⁻³ at worst (measured on simulated TF32 rounding); a wrong layout moves it by more than 1.
    public static let tf32Tolerance: Float = 2e-2

    /// A 96×200 by 200×80 product through the device's `gemm`, with each operand as stored and transposed, against
    /// VAETensor's (BLAS): within 10⁻⁵ in FP32, or ``tf32Tolerance`` when the device multiplies in TF32 (`tf32`, which
    /// names the checks). Beside ``run(on:)``'s small product, these are sizes that a GPU's BLAS tiles.
    public static func products(on device: KernelDevice, tf32: Bool) throws -> [KernelCheck] {
        var checks = KernelChecks(device: device)
        defer { checks.allocations.forEach(device.free) }
        let (m, k, n) = (96, 200, 80)
        for (transposingA, transposingB) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = Tensor(shape: transposingA ? [k, m] : [m, k], scalars: checks.values(m * k, seed: 40, in: -1...1))
            let b = Tensor(shape: transposingB ? [n, k] : [k, n], scalars: checks.values(k * n, seed: 41, in: -1...1))
            let (left, right, product) = (try checks.buffer(a.scalars), try checks.buffer(b.scalars), try checks.buffer(count: m * n))
            guard case .address(let l) = left, case .address(let r) = right, case .address(let p) = product else { continue }
            try device.gemm(m: m, n: n, k: k, a: l, transposingA: transposingA, b: r, transposingB: transposingB, c: p)
            let expected = a.matmul(b, transposingSelf: transposingA, transposingOther: transposingB)
            let layout = transposingA || transposingB ? " (" + [transposingA ? "Aᵀ" : "A", transposingB ? "Bᵀ" : "B"].joined(separator: "·") + ")" : ""
            checks.record("cublasSgemm \(tf32 ? "TF32" : "FP32") \(m)×\(k)·\(k)×\(n)\(layout)", try checks.read(product, m * n),
                          expected.scalars, tolerance: tf32 ? tf32Tolerance : 1e-5)
        }
        return checks.results
    }
}
