import Foundation

/// The Fréchet distance between Gaussians fitted to two sets of feature vectors (Heusel et al. 2017's FID, here
/// in the features of a classifier VAEKit trains on the dataset):
///
///     ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^{1/2})
///
/// with Tr (Σ₁Σ₂)^{1/2} = Σ √λ over the eigenvalues λ of the symmetric Σ₁^{1/2} Σ₂ Σ₁^{1/2} (cyclic Jacobi in Double).
public enum FrechetDistance {
    /// Between the rows of `a` and of `b` (`[n][d]`, `[m][d]`, n, m ≥ 2).
    public static func between(_ a: [[Double]], _ b: [[Double]]) -> Double {
        let (meanA, covarianceA) = moments(a)
        let (meanB, covarianceB) = moments(b)
        let d = meanA.count
        let difference = zip(meanA, meanB).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let rootA = symmetricFunction(covarianceA, dimensions: d) { $0.squareRoot() }
        let product = multiply(multiply(rootA, covarianceB, d), rootA, d)
        let traceRoot = eigenvalues(product, dimensions: d).reduce(0.0) { $0 + $1.squareRoot() }
        let traces = (0..<d).reduce(0.0) { $0 + covarianceA[$1 * d + $1] + covarianceB[$1 * d + $1] }
        return difference + traces - 2 * traceRoot
    }

    /// Mean and covariance (divided by n − 1) of the rows.
    static func moments(_ rows: [[Double]]) -> (mean: [Double], covariance: [Double]) {
        let (n, d) = (Double(rows.count), rows[0].count)
        var mean = [Double](repeating: 0, count: d)
        for row in rows { for i in 0..<d { mean[i] += row[i] / n } }
        var covariance = [Double](repeating: 0, count: d * d)
        for row in rows {
            for i in 0..<d {
                let a = row[i] - mean[i]
                for j in i..<d { covariance[i * d + j] += a * (row[j] - mean[j]) }
            }
        }
        for i in 0..<d { for j in i..<d { covariance[i * d + j] /= n - 1; covariance[j * d + i] = covariance[i * d + j] } }
        return (mean, covariance)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var result = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for k in 0..<d where a[i * d + k] != 0 { for j in 0..<d { result[i * d + j] += a[i * d + k] * b[k * d + j] } } }
        return result
    }

    /// f applied to a symmetric matrix's eigenvalues (negative ones, rounding, clamped to 0): V f(Λ) Vᵀ.
    static func symmetricFunction(_ matrix: [Double], dimensions d: Int, _ f: (Double) -> Double) -> [Double] {
        let (values, vectors) = jacobi(matrix, dimensions: d)
        var result = [Double](repeating: 0, count: d * d)
        for k in 0..<d {
            let value = f(max(values[k], 0))
            for i in 0..<d { for j in 0..<d { result[i * d + j] += vectors[i * d + k] * value * vectors[j * d + k] } }
        }
        return result
    }

    static func eigenvalues(_ matrix: [Double], dimensions d: Int) -> [Double] {
        jacobi(matrix, dimensions: d).values.map { max($0, 0) }
    }

    /// Eigenvalues and eigenvectors (columns of `[d·d]`) of a symmetric matrix by cyclic Jacobi rotations.
    static func jacobi(_ matrix: [Double], dimensions d: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        // Symmetrise: the product Σ₁^{1/2} Σ₂ Σ₁^{1/2} is symmetric only up to rounding.
        for i in 0..<d { for j in (i + 1)..<d { let m = (a[i * d + j] + a[j * d + i]) / 2; a[i * d + j] = m; a[j * d + i] = m } }
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let scale = max((0..<d).reduce(0.0) { $0 + abs(a[$1 * d + $1]) }, 1e-300)
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<d { for j in (i + 1)..<d { off += a[i * d + j] * a[i * d + j] } }
            if off.squareRoot() < 1e-14 * scale { break }
            for p in 0..<d {
                for q in (p + 1)..<d where abs(a[p * d + q]) > 1e-300 {
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * a[p * d + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let (akp, akq) = (a[k * d + p], a[k * d + q])
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let (apk, aqk) = (a[p * d + k], a[q * d + k])
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let (vkp, vkq) = (v[k * d + p], v[k * d + q])
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<d).map { a[$0 * d + $0] }, v)
    }
}
