import Foundation
import VAETensor

/// A Gaussian mixture with full covariances, fitted by expectation–maximisation: pythae's post-hoc "GMM sampler"
/// (10 components fitted to the training set's posterior means, then sampled in place of the prior). Computed in
/// Double; each covariance gets 1e-6 on its diagonal (and the data's variance scale on the first step) so that a
/// component collapsing on few points stays invertible.
public struct GaussianMixture: Equatable, Sendable {
    public var weights: [Double]
    /// `[K][d]`.
    public var means: [[Double]]
    /// `[K][d·d]`, row-major.
    public var covariances: [[Double]]

    public init(weights: [Double], means: [[Double]], covariances: [[Double]]) {
        self.weights = weights
        self.means = means
        self.covariances = covariances
    }

    public var components: Int { weights.count }
    public var dimensions: Int { means.first?.count ?? 0 }

    /// Fits `components` components to the rows of `data` (`[n][d]`, n ≥ components): means start at distinct rows
    /// drawn from `random`, covariances at the data's, weights uniform; then EM steps until the mean log-likelihood
    /// per row improves by less than `tolerance` or `iterations` steps. Returns the mixture and the mean
    /// log-likelihood after each step (never decreasing, up to rounding).
    public static func fit(_ data: [[Double]], components: Int, iterations: Int = 100, tolerance: Double = 1e-4,
                           random: inout RandomStream) -> (mixture: GaussianMixture, logLikelihoods: [Double]) {
        let (n, d) = (data.count, data.first?.count ?? 0)
        precondition(n >= components && components >= 1 && d >= 1, "GMM: needs at least \(components) rows")
        let starts = Array(random.permutation(n).prefix(components))
        let overall = covariance(data, weights: [Double](repeating: 1, count: n), mean: mean(data, weights: [Double](repeating: 1, count: n)))
        var mixture = GaussianMixture(weights: [Double](repeating: 1 / Double(components), count: components),
                                      means: starts.map { data[$0] }, covariances: [[Double]](repeating: overall, count: components))
        var history: [Double] = []
        for _ in 0..<iterations {
            let (responsibilities, logLikelihood) = mixture.expectation(data)
            history.append(logLikelihood)
            mixture = maximisation(data, responsibilities: responsibilities, components: components)
            if history.count >= 2, history[history.count - 1] - history[history.count - 2] < tolerance { break }
        }
        history.append(mixture.expectation(data).meanLogLikelihood)
        return (mixture, history)
    }

    /// Responsibilities `[n][K]` and the mean log-likelihood per row.
    public func expectation(_ data: [[Double]]) -> (responsibilities: [[Double]], meanLogLikelihood: Double) {
        let factors = covariances.map { Self.cholesky($0, dimensions: dimensions) }
        var total = 0.0
        let responsibilities = data.map { row -> [Double] in
            let logs = (0..<components).map { Foundation.log(weights[$0]) + Self.logDensity(row, mean: means[$0], factor: factors[$0]) }
            let top = logs.max()!
            let sum = logs.reduce(0.0) { $0 + Foundation.exp($1 - top) }
            total += top + Foundation.log(sum)
            return logs.map { Foundation.exp($0 - top) / sum }
        }
        return (responsibilities, total / Double(data.count))
    }

    /// The mean log-likelihood per row of `data`.
    public func meanLogLikelihood(_ data: [[Double]]) -> Double { expectation(data).meanLogLikelihood }

    /// `count` draws `[count, d]`: a component by its weight, then μ + L·ε.
    public func sample(count: Int, random: inout RandomStream) -> Tensor {
        let factors = covariances.map { Self.cholesky($0, dimensions: dimensions) }
        let d = dimensions
        let uniforms = random.uniform(count: count)
        let noise = random.normal(shape: [count, d]).scalars
        var values = [Float](repeating: 0, count: count * d)
        for row in 0..<count {
            var k = 0, cumulative = weights[0]
            while Double(uniforms[row]) >= cumulative && k + 1 < components { k += 1; cumulative += weights[k] }
            for i in 0..<d {
                var value = means[k][i]
                for j in 0...i { value += factors[k][i * d + j] * Double(noise[row * d + j]) }
                values[row * d + i] = Float(value)
            }
        }
        return Tensor(shape: [count, d], scalars: values)
    }

    static func maximisation(_ data: [[Double]], responsibilities: [[Double]], components: Int) -> GaussianMixture {
        let n = Double(data.count)
        var (weights, means, covariances) = ([Double](), [[Double]](), [[Double]]())
        for k in 0..<components {
            let weight = responsibilities.map { $0[k] }
            let total = weight.reduce(0, +)
            weights.append(max(total / n, 1e-12))
            let mean = total > 0 ? mean(data, weights: weight) : data[k]
            means.append(mean)
            covariances.append(covariance(data, weights: weight, mean: mean))
        }
        let sum = weights.reduce(0, +)
        return GaussianMixture(weights: weights.map { $0 / sum }, means: means, covariances: covariances)
    }

    static func mean(_ data: [[Double]], weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        var mean = [Double](repeating: 0, count: data[0].count)
        for (row, weight) in zip(data, weights) { for i in row.indices { mean[i] += weight * row[i] } }
        return mean.map { $0 / Swift.max(total, 1e-300) }
    }

    /// The weighted covariance `[d·d]`, plus 1e-6 on the diagonal.
    static func covariance(_ data: [[Double]], weights: [Double], mean: [Double]) -> [Double] {
        let d = mean.count
        let total = Swift.max(weights.reduce(0, +), 1e-300)
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
