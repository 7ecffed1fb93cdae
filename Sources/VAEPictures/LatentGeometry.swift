import Foundation
import VAEModels
import VAETensor

/// Posterior means of a set of images, in Double, with the summaries the latent pictures need.
public struct LatentCodes {
    /// One row of `latentSize` posterior means per image.
    public let means: [[Double]]
    public let latentSize: Int
    /// Summaries computed once and shared by copies (the codes never change): callers read `covariance` once per
    /// diagonal entry, which would otherwise cost O(n·d²) each time.
    private let cache = Cache()

    public init(means: [[Double]], latentSize: Int) {
        precondition(means.allSatisfy { $0.count == latentSize })
        self.means = means
        self.latentSize = latentSize
    }

    /// E_q[z|x] for each row of `images` (the deterministic code of `VariationalAutoencoder/latentSummary(_:)`),
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

    /// The codes minus `centre`, `count × latentSize`, row-major in one buffer (the data matrix X of PCA).
    var centred: [Double] {
        if let centred = cache.centred { return centred }
        let centre = centre
        var result = [Double](repeating: 0, count: count * latentSize)
        result.withUnsafeMutableBufferPointer { output in
            for (index, row) in means.enumerated() {
                let start = index * latentSize
                for dimension in 0..<latentSize { output[start + dimension] = row[dimension] - centre[dimension] }
            }
        }
        cache.centred = result
        return result
    }

    /// Covariance over images (dividing by n), `latentSize × latentSize`, row-major. O(n·d²) time and O(d²)
    /// memory, computed once per set of codes; the pictures need only ``variances``, ``totalVariance`` and
    /// ``PrincipalComponents/top(_:of:)``, which never form it for large d.
    public var covariance: [[Double]] {
        if let covariance = cache.covariance { return covariance }
        let (size, n) = (latentSize, count)
        let x = centred
        var upper = [Double](repeating: 0, count: size * size)
        // Each entry sums its products over images in image order, as a plain loop would; tiles of 64 × 256
        // entries keep the accumulators in cache while the images stream past.
        upper.withUnsafeMutableBufferPointer { sums in
            x.withUnsafeBufferPointer { x in
                guard let sums = sums.baseAddress, let x = x.baseAddress else { return }
                for firstRow in stride(from: 0, to: size, by: 64) {
                    let lastRow = min(firstRow + 64, size)
                    for firstColumn in stride(from: firstRow, to: size, by: 256) {
                        let lastColumn = min(firstColumn + 256, size)
                        for image in 0..<n {
                            let deviation = x + image * size
                            for i in firstRow..<lastRow where max(firstColumn, i) < lastColumn {
                                let (di, output) = (deviation[i], sums + i * size)
                                for j in max(firstColumn, i)..<lastColumn { output[j] += di * deviation[j] }
                            }
                        }
                    }
                }
            }
        }
        let divisor = Double(max(n, 1))
        var result = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        for i in 0..<size {
            for j in i..<size {
                let value = upper[i * size + j] / divisor
                result[i][j] = value
                result[j][i] = value
            }
        }
        cache.covariance = result
        return result
    }

    /// Variance over images (dividing by n) of each dimension's posterior mean: the covariance's diagonal,
    /// bit for bit, in O(n·d).
    public var variances: [Double] {
        let (size, n) = (latentSize, count)
        var sums = [Double](repeating: 0, count: size)
        let x = centred
        sums.withUnsafeMutableBufferPointer { sums in
            x.withUnsafeBufferPointer { x in
                for image in 0..<n {
                    let start = image * size
                    for dimension in 0..<size { sums[dimension] += x[start + dimension] * x[start + dimension] }
                }
            }
        }
        let divisor = Double(max(n, 1))
        return sums.map { $0 / divisor }
    }

    /// The trace of the covariance (the total variance the principal directions share out), in O(n·d).
    public var totalVariance: Double { variances.reduce(0, +) }

    /// Standard deviation over images of each dimension's posterior mean.
    public var spread: [Double] { variances.map { $0.squareRoot() } }
}

/// The lazily computed summaries of one ``LatentCodes``.
private final class Cache {
    var centred: [Double]?
    var covariance: [[Double]]?
}

/// Principal directions of latent codes: the exact cyclic Jacobi eigenvalue method on the covariance for small
/// latent sizes, deterministic subspace iteration on the centred codes (never forming the covariance) for large.
///
/// Jacobi rotations keep the eigenvector matrix orthogonal to rounding error whatever the spectrum (repeated
/// eigenvalues included), which power iteration does not; but a sweep costs O(d³), and forming the covariance
/// O(n·d²), minutes for d in the hundreds and hours for a VQ-VAE's d = 3136. Subspace iteration needs only the top
/// few directions, at O(n·d·m) per iteration for a block of m vectors.
public enum PrincipalComponents {
    /// Latent sizes up to this take the exact path (Jacobi on the full covariance); larger ones subspace iteration.
    public static let exactLatentLimit = 32
    /// Extra vectors carried in the subspace block beyond those asked for: the error in direction k shrinks like
    /// (λ_{m+1}/λ_k)^iterations, so a wider block converges faster where the spectrum decays slowly.
    public static let oversampling = 8

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
        let vectors = order.map { column in largestEntryPositive((0..<size).map { v[$0][column] }) }
        return (order.map { eigenvalues[$0] }, vectors)
    }

    /// The top `count` eigenpairs of the covariance of `codes`, values decreasing, with ``decompose(_:maximumSweeps:)``'s
    /// sign convention. Exact (Jacobi on the covariance) up to ``exactLatentLimit`` dimensions, above it
    /// `subspaceIteration(_:of:maximumIterations:tolerance:)`.
    public static func top(_ count: Int, of codes: LatentCodes) -> (values: [Double], vectors: [[Double]]) {
        if codes.latentSize <= exactLatentLimit {
            let (values, vectors) = decompose(codes.covariance)
            return (Array(values.prefix(count)), Array(vectors.prefix(count)))
        }
        return subspaceIteration(count, of: codes)
    }

    /// The top `count` eigenpairs of the covariance C = XᵀX/n of the centred codes X (n × d) by block power
    /// iteration (Golub & Van Loan §8.2.4) without forming C: a block Q of m = count + ``oversampling``
    /// orthonormal columns, drawn from the fixed stream `RandomStream(seed: 0, name: "pca")`, is replaced each
    /// iteration by the orthonormalised C·Q = Xᵀ(X·Q)/n. Each iteration ends in Rayleigh–Ritz, the Jacobi
    /// decomposition of the small B = QᵀCQ; the values returned are its top `count` eigenvalues (Ritz values), the
    /// vectors Q times its eigenvectors. Iteration stops when every returned Ritz value moved by at most
    /// `tolerance` × the largest one, or after `maximumIterations`.
    static func subspaceIteration(_ count: Int, of codes: LatentCodes, maximumIterations: Int = 100,
                                  tolerance: Double = 1e-10) -> (values: [Double], vectors: [[Double]]) {
        let size = codes.latentSize
        let wanted = min(max(count, 0), size)
        guard wanted > 0 else { return ([], []) }
        let block = min(wanted + oversampling, size)
        let data = codes.centred
        var random = RandomStream(seed: 0, name: "pca")
        var basis = random.normal(count: size * block).map(Double.init)      // Q, d × m row-major
        orthonormaliseColumns(&basis, rows: size, columns: block, random: &random)
        var ritz: (values: [Double], vectors: [[Double]]) = ([], [])
        var previous: [Double] = []
        for iteration in 0..<maximumIterations {
            let product = covarianceTimes(basis, columns: block, data: data, images: codes.count, size: size)
            ritz = decompose(projection(of: product, onto: basis, rows: size, columns: block))
            let current = Array(ritz.values.prefix(wanted))
            let scale = current.map(abs).max() ?? 0
            let settled = iteration > 0 && zip(current, previous).allSatisfy { abs($0 - $1) <= tolerance * scale }
            if settled || iteration == maximumIterations - 1 { break }    // ritz belongs to this basis: stop here
            previous = current
            basis = product
            orthonormaliseColumns(&basis, rows: size, columns: block, random: &random)
        }
        let vectors = ritz.vectors.prefix(wanted).map { coefficients -> [Double] in
            var vector = [Double](repeating: 0, count: size)
            basis.withUnsafeBufferPointer { basis in
                for i in 0..<size {
                    var sum = 0.0
                    for column in 0..<block { sum += basis[i * block + column] * coefficients[column] }
                    vector[i] = sum
                }
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return largestEntryPositive(norm > 0 ? vector.map { $0 / norm } : vector)
        }
        return (Array(ritz.values.prefix(wanted)), vectors)
    }

    /// C·Q = Xᵀ(X·Q)/n for X the `images × size` centred codes and Q `size × columns`, both row-major; the result
    /// is `size × columns`. Divides by n as ``LatentCodes/covariance`` does.
    static func covarianceTimes(_ basis: [Double], columns: Int, data: [Double], images: Int, size: Int) -> [Double] {
        var projected = [Double](repeating: 0, count: images * columns)   // X·Q
        var result = [Double](repeating: 0, count: size * columns)
        data.withUnsafeBufferPointer { data in
            guard let x = data.baseAddress else { return }
            basis.withUnsafeBufferPointer { basis in
                projected.withUnsafeMutableBufferPointer { projected in
                    guard let q = basis.baseAddress, let y = projected.baseAddress else { return }
                    for image in 0..<images {
                        let (row, output) = (x + image * size, y + image * columns)
                        for k in 0..<size {
                            let (value, weights) = (row[k], q + k * columns)
                            for column in 0..<columns { output[column] += value * weights[column] }
                        }
                    }
                }
            }
            projected.withUnsafeBufferPointer { projected in
                result.withUnsafeMutableBufferPointer { result in
                    guard let y = projected.baseAddress, let z = result.baseAddress else { return }
                    for image in 0..<images {
                        let (row, weights) = (x + image * size, y + image * columns)
                        for k in 0..<size {
                            let (value, output) = (row[k], z + k * columns)
                            for column in 0..<columns { output[column] += value * weights[column] }
                        }
                    }
                }
            }
        }
        let divisor = Double(max(images, 1))
        return result.map { $0 / divisor }
    }

    /// B = Qᵀ·(C·Q), `columns × columns`, symmetrised (it is symmetric up to rounding, and Jacobi assumes so).
    static func projection(of product: [Double], onto basis: [Double], rows: Int, columns: Int) -> [[Double]] {
        var matrix = [Double](repeating: 0, count: columns * columns)
        basis.withUnsafeBufferPointer { q in
            product.withUnsafeBufferPointer { z in
                for i in 0..<rows {
                    for a in 0..<columns {
                        let value = q[i * columns + a]
                        for b in 0..<columns { matrix[a * columns + b] += value * z[i * columns + b] }
                    }
                }
            }
        }
        return (0..<columns).map { a in
            (0..<columns).map { b in (matrix[a * columns + b] + matrix[b * columns + a]) / 2 }
        }
    }

    /// Modified Gram–Schmidt, each column orthogonalised twice against those before it ("twice is enough",
    /// Giraud et al. 2005), in place on a `rows × columns` row-major matrix. A column that lies within the span of
    /// the earlier ones to rounding (C has rank below m when there are few codes) is replaced by a fresh draw from
    /// `random`, so the block stays orthonormal.
    static func orthonormaliseColumns(_ matrix: inout [Double], rows: Int, columns: Int, random: inout RandomStream) {
        matrix.withUnsafeMutableBufferPointer { matrix in
            for column in 0..<columns {
                for attempt in 0..<4 {
                    var original = 0.0
                    for i in 0..<rows { original += matrix[i * columns + column] * matrix[i * columns + column] }
                    for _ in 0..<2 {
                        for earlier in 0..<column {
                            var overlap = 0.0
                            for i in 0..<rows { overlap += matrix[i * columns + earlier] * matrix[i * columns + column] }
                            for i in 0..<rows { matrix[i * columns + column] -= overlap * matrix[i * columns + earlier] }
                        }
                    }
                    var remaining = 0.0
                    for i in 0..<rows { remaining += matrix[i * columns + column] * matrix[i * columns + column] }
                    if (remaining > 1e-24 * original && remaining > 0) || attempt == 3 {
                        let scale = remaining > 0 ? 1 / remaining.squareRoot() : 0
                        for i in 0..<rows { matrix[i * columns + column] *= scale }
                        break
                    }
                    let fresh = random.normal(count: rows)
                    for i in 0..<rows { matrix[i * columns + column] = Double(fresh[i]) }
                }
            }
        }
    }

    /// `vector`, negated if needed so that its largest-magnitude entry (the first of equals) is positive.
    static func largestEntryPositive(_ vector: [Double]) -> [Double] {
        let largest = vector.indices.max { abs(vector[$0]) < abs(vector[$1]) } ?? 0
        return vector.isEmpty || vector[largest] >= 0 ? vector : vector.map { -$0 }
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
