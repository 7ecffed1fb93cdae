import Foundation
import VAETensor

/// A Gaussian mixture with full or diagonal covariances, fitted by expectation–maximisation: pythae's post-hoc
/// "GMM sampler" (10 components fitted to the training set's posterior means, then sampled in place of the prior).
/// Computed in Double; each covariance gets 1e-6 on its diagonal (and the data's variance scale on the first step)
/// so that a component collapsing on few points stays invertible. Diagonal covariances are for codes too wide for
/// full ones (VQ-VAE's 7×7×64 = 3136-dimensional code maps: a full covariance per component would be 3136² values
/// and each EM step ~10¹³ operations).
public struct GaussianMixture: Equatable, Sendable {
    /// Which covariances the components have.
    public enum CovarianceKind: String, Sendable {
        case full
        case diagonal
    }

    public var weights: [Double]
    /// `[K][d]`.
    public var means: [[Double]]
    /// `[K][d·d]` row-major (full), or `[K][d]` variances (diagonal).
    public var covariances: [[Double]]
    public var kind: CovarianceKind

    public init(weights: [Double], means: [[Double]], covariances: [[Double]], kind: CovarianceKind = .full) {
        self.weights = weights
        self.means = means
        self.covariances = covariances
        self.kind = kind
    }

    public var components: Int { weights.count }
    public var dimensions: Int { means.first?.count ?? 0 }

    /// Fits `components` components to the rows of `data` (`[n][d]`, n ≥ components): means start at distinct rows
    /// drawn from `random`, covariances at the data's, weights uniform; then EM steps until the mean log-likelihood
    /// per row improves by less than `tolerance` or `iterations` steps. Returns the mixture and the mean
    /// log-likelihood after each step (never decreasing, up to rounding).
    public static func fit(_ data: [[Double]], components: Int, kind: CovarianceKind = .full, iterations: Int = 100,
                           tolerance: Double = 1e-4,
                           random: inout RandomStream) -> (mixture: GaussianMixture, logLikelihoods: [Double]) {
        let (n, d) = (data.count, data.first?.count ?? 0)
        precondition(n >= components && components >= 1 && d >= 1, "GMM: needs at least \(components) rows")
        let starts = Array(random.permutation(n).prefix(components))
        let ones = [Double](repeating: 1, count: n)
        let overall = covariance(data, weights: ones, mean: mean(data, weights: ones), kind: kind)
        var mixture = GaussianMixture(weights: [Double](repeating: 1 / Double(components), count: components),
                                      means: starts.map { data[$0] }, covariances: [[Double]](repeating: overall, count: components),
                                      kind: kind)
        var history: [Double] = []
        for _ in 0..<iterations {
            let (responsibilities, logLikelihood) = mixture.expectation(data)
            history.append(logLikelihood)
            mixture = maximisation(data, responsibilities: responsibilities, components: components, kind: kind)
            if history.count >= 2, history[history.count - 1] - history[history.count - 2] < tolerance { break }
        }
        history.append(mixture.expectation(data).meanLogLikelihood)
        return (mixture, history)
    }

    /// Responsibilities `[n][K]` and the mean log-likelihood per row.
    public func expectation(_ data: [[Double]]) -> (responsibilities: [[Double]], meanLogLikelihood: Double) {
        let factors = kind == .full ? self.factors : []
        // Diagonal components: 1/σ² and log N's constant once per component, not per row.
        let precisions = kind == .diagonal ? covariances.map { $0.map { 1 / $0 } } : []
        let constants = kind == .diagonal ? covariances.map { variances in
            -0.5 * (Double(dimensions) * Foundation.log(2 * Double.pi) + variances.reduce(0) { $0 + Foundation.log($1) })
        } : []
        var total = 0.0
        let responsibilities = data.map { row -> [Double] in
            let logs = (0..<components).map { k in
                Foundation.log(weights[k]) + (kind == .full ? Self.logDensity(row, mean: means[k], factor: factors[k])
                    : Self.logDensity(row, mean: means[k], precisions: precisions[k], constant: constants[k]))
            }
            let top = logs.max()!
            let sum = logs.reduce(0.0) { $0 + Foundation.exp($1 - top) }
            total += top + Foundation.log(sum)
            return logs.map { Foundation.exp($0 - top) / sum }
        }
        return (responsibilities, total / Double(data.count))
    }

    /// The mean log-likelihood per row of `data`.
    public func meanLogLikelihood(_ data: [[Double]]) -> Double { expectation(data).meanLogLikelihood }

    /// Per component, the Cholesky factor L of a full covariance, or the standard deviations of a diagonal one.
    var factors: [[Double]] {
        covariances.map { kind == .full ? Self.cholesky($0, dimensions: dimensions) : $0.map { $0.squareRoot() } }
    }

    /// `count` draws `[count, d]`: a component by its weight, then μ + L·ε (μ + σ⊙ε for diagonal covariances).
    public func sample(count: Int, random: inout RandomStream) -> Tensor {
        let factors = self.factors
        let d = dimensions
        let uniforms = random.uniform(count: count)
        let noise = random.normal(shape: [count, d]).scalars
        var values = [Float](repeating: 0, count: count * d)
        for row in 0..<count {
            var k = 0, cumulative = weights[0]
            while Double(uniforms[row]) >= cumulative && k + 1 < components { k += 1; cumulative += weights[k] }
            for i in 0..<d {
                var value = means[k][i]
                if kind == .full {
                    for j in 0...i { value += factors[k][i * d + j] * Double(noise[row * d + j]) }
                } else {
                    value += factors[k][i] * Double(noise[row * d + i])
                }
                values[row * d + i] = Float(value)
            }
        }
        return Tensor(shape: [count, d], scalars: values)
    }

    static func maximisation(_ data: [[Double]], responsibilities: [[Double]], components: Int,
                             kind: CovarianceKind) -> GaussianMixture {
        let n = Double(data.count)
        var (weights, means, covariances) = ([Double](), [[Double]](), [[Double]]())
        for k in 0..<components {
            let weight = responsibilities.map { $0[k] }
            let total = weight.reduce(0, +)
            weights.append(max(total / n, 1e-12))
            let mean = total > 0 ? mean(data, weights: weight) : data[k]
            means.append(mean)
            covariances.append(covariance(data, weights: weight, mean: mean, kind: kind))
        }
        let sum = weights.reduce(0, +)
        return GaussianMixture(weights: weights.map { $0 / sum }, means: means, covariances: covariances, kind: kind)
    }

    static func mean(_ data: [[Double]], weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        var mean = [Double](repeating: 0, count: data[0].count)
        for (row, weight) in zip(data, weights) { for i in row.indices { mean[i] += weight * row[i] } }
        return mean.map { $0 / Swift.max(total, 1e-300) }
    }

    /// The weighted covariance `[d·d]` (or its diagonal `[d]`), plus 1e-6 on the diagonal.
    static func covariance(_ data: [[Double]], weights: [Double], mean: [Double], kind: CovarianceKind) -> [Double] {
        let d = mean.count
        let total = Swift.max(weights.reduce(0, +), 1e-300)
        if kind == .diagonal {
            var variances = [Double](repeating: 0, count: d)
            for (row, weight) in zip(data, weights) where weight > 0 {
                for i in 0..<d { variances[i] += weight * (row[i] - mean[i]) * (row[i] - mean[i]) }
            }
            return variances.map { $0 / total + 1e-6 }
        }
        var result = [Double](repeating: 0, count: d * d)
        for (row, weight) in zip(data, weights) where weight > 0 {
            for i in 0..<d {
                let a = weight * (row[i] - mean[i])
                for j in 0...i { result[i * d + j] += a * (row[j] - mean[j]) }
            }
        }
        for i in 0..<d {
            for j in 0...i {
                result[i * d + j] /= total
                result[j * d + i] = result[i * d + j]
            }
            result[i * d + i] += 1e-6
        }
        return result
    }

    /// The lower-triangular L with L·Lᵀ = Σ, row-major `[d·d]`.
    static func cholesky(_ matrix: [Double], dimensions d: Int) -> [Double] {
        var factor = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0...i {
                var sum = matrix[i * d + j]
                for k in 0..<j { sum -= factor[i * d + k] * factor[j * d + k] }
                factor[i * d + j] = i == j ? Swift.max(sum, 1e-12).squareRoot() : sum / factor[j * d + j]
            }
        }
        return factor
    }

    /// log N(x; μ, diag(σ²)) = constant − ½ Σ (x − μ)²/σ², with `precisions` 1/σ² and `constant`
    /// −½(d log 2π + Σ log σ²).
    static func logDensity(_ x: [Double], mean: [Double], precisions: [Double], constant: Double) -> Double {
        var quadratic = 0.0
        x.withUnsafeBufferPointer { x in
            mean.withUnsafeBufferPointer { mean in
                precisions.withUnsafeBufferPointer { precisions in
                    for i in 0..<mean.count {
                        let difference = x[i] - mean[i]
                        quadratic += difference * difference * precisions[i]
                    }
                }
            }
        }
        return constant - 0.5 * quadratic
    }

    /// log N(x; μ, L·Lᵀ) by forward substitution.
    static func logDensity(_ x: [Double], mean: [Double], factor: [Double]) -> Double {
        let d = mean.count
        var solved = [Double](repeating: 0, count: d)
        var (quadratic, logDeterminant) = (0.0, 0.0)
        for i in 0..<d {
            var value = x[i] - mean[i]
            for k in 0..<i { value -= factor[i * d + k] * solved[k] }
            solved[i] = value / factor[i * d + i]
            quadratic += solved[i] * solved[i]
            logDeterminant += 2 * Foundation.log(factor[i * d + i])
        }
        return -0.5 * (Double(d) * Foundation.log(2 * Double.pi) + logDeterminant + quadratic)
    }
}
