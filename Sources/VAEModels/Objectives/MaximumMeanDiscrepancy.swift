import VAETensor

/// The maximum mean discrepancy between two samples (Gretton et al. 2012), as WAE-MMD and InfoVAE compare codes
/// drawn from q(z) with draws from p(z). The unbiased estimate of MMD² for rows a_1…a_n and b_1…b_m is
///
///     1/(n(n−1)) Σ_{i≠j} k(a_i, a_j) + 1/(m(m−1)) Σ_{i≠j} k(b_i, b_j) − 2/(nm) Σ_{i,j} k(a_i, b_j)
///
/// with the inverse multiquadratic kernel k(x, y) = C / (C + ‖x − y‖²) (`imq`, Tolstikhin et al. 2018) or the
/// Gaussian k(x, y) = exp(−‖x − y‖² / C) (`rbf`), C = 2·d·σ² for d-dimensional codes and σ² = `latent_var`, the
/// variance of the prior's coordinates.
public struct MaximumMeanDiscrepancy: Sendable, Equatable {
    public enum Kernel: String, CaseIterable, Sendable { case imq, rbf }

    public var kernel: Kernel
    /// σ² in the kernel scale C = 2·d·σ².
    public var latentVariance: Double

    public init(kernel: Kernel, latentVariance: Double) {
        self.kernel = kernel
        self.latentVariance = latentVariance
    }

    /// k(a_i, b_j) for rows of `a` `[n, d]` and `b` `[m, d]`: `[n, m]`.
    public func kernelMatrix(_ a: Tensor, _ b: Tensor) -> Tensor {
        let scale = Float(2 * Double(a.shape[1]) * latentVariance)
        let distances = Self.squaredDistances(a, b)
        switch kernel {
        case .imq: return Tensor(scale) / (distances + scale)
        case .rbf: return (distances * (-1 / scale)).exp()
        }
    }

    /// The unbiased estimate of MMD² between the rows of `a` and of `b` (each at least 2 rows), differentiable in both.
    public func callAsFunction(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (n, m) = (a.shape[0], b.shape[0])
        precondition(n >= 2 && m >= 2, "MMD: needs at least 2 rows on each side")
        let within = { (x: Tensor, count: Int) -> Tensor in
            (self.kernelMatrix(x, x) * Tensor.offDiagonal(count, beside: x)).sum() * (1 / Float(count * (count - 1)))
        }
        return within(a, n) + within(b, m) - kernelMatrix(a, b).sum() * (2 / Float(n * m))
    }

    /// ‖a_i − b_j‖² `[n, m]` as ‖a_i‖² + ‖b_j‖² − 2 a_i·b_j (one matrix product).
    static func squaredDistances(_ a: Tensor, _ b: Tensor) -> Tensor {
        let normsA = a.squared().sum(alongAxis: 1, keepingDimension: true)          // [n, 1]
        let normsB = b.squared().sum(alongAxis: 1).reshaped([1, b.shape[0]])        // [1, m]
        return normsA + normsB - a.matmul(b, transposingOther: true) * 2
    }
}

extension MaximumMeanDiscrepancy {
    public static let kernelSetting = Setting<String>(
        "kernel", default: Kernel.imq.rawValue, .oneOf(Kernel.allCases.map(\.rawValue)),
        doc: "MMD kernel: imq, C/(C + ‖x − y‖²), or rbf, exp(−‖x − y‖²/C), with C = 2·d·latent_var")
    public static let latentVarianceSetting = Setting<Double>(
        "latent_var", default: 1, .numbers(NumberRange(above: 0, atMost: 1e6)),
        doc: "σ² in the MMD kernel's scale C = 2·d·σ² (the prior's variance per coordinate)")
    public static let weightSetting = Setting<Double>(
        "mmd_weight", default: 100, .numbers(atLeast: 0), doc: "weight λ of the MMD term")

    /// `kernel`, `latent_var` and `mmd_weight`.
    public static let settings = [kernelSetting.declaration, latentVarianceSetting.declaration, weightSetting.declaration]

    /// The estimator a specification sets.
    public init(_ specification: ModelSpecification) {
        self.init(kernel: Kernel(rawValue: specification[Self.kernelSetting]) ?? .imq,
                  latentVariance: specification[Self.latentVarianceSetting])
    }
}
