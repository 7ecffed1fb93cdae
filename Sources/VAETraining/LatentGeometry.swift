import Foundation
import VAEModels
import VAETensor

/// Posterior means of a set of images, in Double, with the summaries the latent pictures need.
public struct LatentCodes {
    /// One row of `latentSize` posterior means per image.
    public let means: [[Double]]
    public let latentSize: Int

    public init(means: [[Double]], latentSize: Int) {
        precondition(means.allSatisfy { $0.count == latentSize })
        self.means = means
        self.latentSize = latentSize
    }

    /// E_q[z|x] for each row of `images` (the deterministic code of ``VariationalAutoencoder/latentSummary(_:)``),
    /// encoded in batches without gradients; a conditional model is conditioned on `labels`, one per image.
    public init(model: any VariationalAutoencoder, images: Tensor, labels: [Int] = [], batchSize: Int = 1000) {
        let latent = model.latentSize
        var rows: [[Double]] = []
        rows.reserveCapacity(images.shape[0])
        withoutGradients {
            for start in stride(from: 0, to: images.shape[0], by: batchSize) {
                let range = start..<min(start + batchSize, images.shape[0])
                let batch = images.slice(range)
                let scalars = model.bound(labels.count >= range.upperBound ? labels[range] : nil).latentSummary(batch).code.scalars
                for row in 0..<batch.shape[0] {
                    rows.append(scalars[(row * latent)..<((row + 1) * latent)].map(Double.init))
                }
            }
        }
        self.init(means: rows, latentSize: latent)
    }

    public var count: Int { means.count }

    /// Mean over images of each dimension.
    public var centre: [Double] {
        var sums = [Double](repeating: 0, count: latentSize)
        for row in means { for dimension in 0..<latentSize { sums[dimension] += row[dimension] } }
        return sums.map { $0 / Double(max(count, 1)) }
    }

    /// Covariance over images (dividing by n), `latentSize × latentSize`, row-major.
    public var covariance: [[Double]] {
        let centre = centre
        var result = [[Double]](repeating: [Double](repeating: 0, count: latentSize), count: latentSize)
        for row in means {
            let deviation = (0..<latentSize).map { row[$0] - centre[$0] }
            for i in 0..<latentSize {
                for j in i..<latentSize { result[i][j] += deviation[i] * deviation[j] }
            }
        }
        let n = Double(max(count, 1))
        for i in 0..<latentSize {
            for j in i..<latentSize {
                result[i][j] /= n
                result[j][i] = result[i][j]
            }
        }
        return result
    }

    /// Standard deviation over images of each dimension's posterior mean.
    public var spread: [Double] {
        let covariance = covariance
        return (0..<latentSize).map { covariance[$0][$0].squareRoot() }
    }
}

/// Principal directions of a symmetric matrix (a covariance), by the cyclic Jacobi eigenvalue method in Double.
///
/// Jacobi rotations keep the eigenvector matrix orthogonal to rounding error whatever the spectrum (repeated
/// eigenvalues included), which power iteration does not; a sweep costs O(d³), milliseconds for latent sizes up
/// to a few hundred.
public enum PrincipalComponents {
    /// Eigenvalues in decreasing order and their unit eigenvectors. Each vector's sign is fixed so that its
    /// largest-magnitude entry is positive, so the result is deterministic.
    public static func decompose(_ matrix: [[Double]], maximumSweeps: Int = 100)
        -> (values: [Double], vectors: [[Double]]) {
        let size = matrix.count
        precondition(matrix.allSatisfy { $0.count == size }, "PrincipalComponents: the matrix must be square")
        var a = matrix
        var v = (0..<size).map { i in (0..<size).map { j in i == j ? 1.0 : 0.0 } }   // columns are eigenvectors
        let scale = max(a.flatMap { $0 }.map(abs).max() ?? 0, .leastNormalMagnitude)
        for _ in 0..<maximumSweeps {
            var offDiagonal = 0.0
            for i in 0..<size { for j in (i + 1)..<size { offDiagonal += a[i][j] * a[i][j] } }
            if offDiagonal.squareRoot() <= 1e-15 * scale { break }
            for p in 0..<size {
                for q in (p + 1)..<size where a[p][q] != 0 {
                    // The rotation angle that zeroes a[p][q]: tan 2θ = 2 a_pq / (a_qq − a_pp), smaller root for t.
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<size {
                        let (akp, akq) = (a[k][p], a[k][q])
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<size {
                        let (apk, aqk) = (a[p][k], a[q][k])
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<size {
                        let (vkp, vkq) = (v[k][p], v[k][q])
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let eigenvalues: [Double] = (0..<size).map { a[$0][$0] }
        let order = (0..<size).sorted { (i: Int, j: Int) -> Bool in
            eigenvalues[i] != eigenvalues[j] ? eigenvalues[i] > eigenvalues[j] : i < j
        }
        let vectors = order.map { column -> [Double] in
            let vector = (0..<size).map { v[$0][column] }
            let largest = vector.indices.max { abs(vector[$0]) < abs(vector[$1]) } ?? 0
            return vector[largest] < 0 ? vector.map { -$0 } : vector
        }
        return (order.map { eigenvalues[$0] }, vectors)
    }

    /// The top `count` eigenpairs of the covariance of `codes`.
    public static func top(_ count: Int, of codes: LatentCodes) -> (values: [Double], vectors: [[Double]]) {
        let (values, vectors) = decompose(codes.covariance)
        return (Array(values.prefix(count)), Array(vectors.prefix(count)))
    }
}

/// Paths and grids through latent space.
public enum LatentPath {
    /// `steps` points from `start` to `end` inclusive (t = 0, 1/(steps−1), …, 1), straight or spherical.
    public static func points(from start: [Double], to end: [Double], steps: Int, spherical: Bool) -> [[Double]] {
        precondition(steps >= 2 && start.count == end.count)
        return (0..<steps).map { step in
            let t = Double(step) / Double(steps - 1)
            return spherical ? slerp(start, end, t) : lerp(start, end, t)
        }
    }

    public static func lerp(_ a: [Double], _ b: [Double], _ t: Double) -> [Double] {
        zip(a, b).map { (1 - t) * $0 + t * $1 }
    }

    /// Spherical interpolation (Shoemake 1985; White 2016 for generative models): the angle comes from the
    /// directions of `a` and `b` and the path follows the great circle between them, so the norm stays in the
    /// shell where Gaussian mass lies. t = 0 and t = 1 give `a` and `b` exactly; (anti)parallel vectors fall back
    /// to a straight line.
    public static func slerp(_ a: [Double], _ b: [Double], _ t: Double) -> [Double] {
        let normA = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), normB = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard normA > 0, normB > 0 else { return lerp(a, b, t) }
        let cosine = max(-1, min(1, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (normA * normB)))
        let angle = Foundation.acos(cosine)
        let sine = Foundation.sin(angle)
        guard sine > 1e-6 else { return lerp(a, b, t) }
        let (wa, wb) = (Foundation.sin((1 - t) * angle) / sine, Foundation.sin(t * angle) / sine)
        return zip(a, b).map { wa * $0 + wb * $1 }
    }

    /// Φ⁻¹(p), the standard normal quantile, by bisection on Φ(x) = erfc(−x/√2)/2 (exact to rounding in
    /// 0.5e-16 < p < 1 − 1e-16; no rational approximation needed for a few hundred grid points).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normalQuantile: p must be in (0, 1), got \(p)")
        var (low, high) = (-40.0, 40.0)
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if Foundation.erfc(-middle / 2.0.squareRoot()) / 2 < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// `count` prior quantiles Φ⁻¹((i + ½)/count), i = 0 … count−1: evenly spaced in probability, so a grid over
    /// them covers equal prior mass per cell (Kingma & Welling 2014, Fig. 4); ±1.96 for 20 points.
    public static func priorQuantiles(_ count: Int) -> [Double] {
        (0..<count).map { normalQuantile((Double($0) + 0.5) / Double(count)) }
    }
}
