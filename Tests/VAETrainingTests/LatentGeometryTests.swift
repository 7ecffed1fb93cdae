import Foundation
import Testing
import VAEFormats
@testable import VAEPictures
@testable import VAETraining
import VAETensor

/// PCA by Jacobi rotations, interpolation paths, prior quantiles and axis ticks: pure Double arithmetic.
struct LatentGeometryTests {
    private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// A covariance built as Q diag(λ) Qᵀ from a known orthonormal Q (a rotation in the (0, 2) plane, then one in
    /// the (1, 3) plane): the decomposition must return λ sorted and Q's columns up to sign.
    @Test func principalComponentsOfAKnownCovariance() throws {
        let (a, b) = (0.6, 1.1)
        var q = [[Double]](repeating: [0, 0, 0, 0], count: 4)
        q[0][0] = cos(a); q[2][0] = sin(a); q[0][2] = -sin(a); q[2][2] = cos(a)
        q[1][1] = cos(b); q[3][1] = sin(b); q[1][3] = -sin(b); q[3][3] = cos(b)
        let lambda = [0.5, 9.0, 0.1, 4.0]
        let covariance = (0..<4).map { i in (0..<4).map { j in (0..<4).reduce(0.0) { $0 + q[i][$1] * lambda[$1] * q[j][$1] } } }
        let (values, vectors) = PrincipalComponents.decompose(covariance)
        for (value, expected) in zip(values, [9.0, 4.0, 0.5, 0.1]) { #expect(abs(value - expected) < 1e-12) }
        // Eigenvector k is column (index of λ_k) of Q, up to sign.
        for (k, column) in [1, 3, 0, 2].enumerated() {
            let expected = (0..<4).map { q[$0][column] }
            #expect(abs(abs(dot(vectors[k], expected)) - 1) < 1e-12, "vector \(k): \(vectors[k]) vs \(expected)")
        }
        for i in 0..<4 {
            for j in 0..<4 { #expect(abs(dot(vectors[i], vectors[j]) - (i == j ? 1 : 0)) < 1e-12) }
            // The sign convention: the largest-magnitude entry is positive.
            let largest = vectors[i].max { abs($0) < abs($1) }!
            #expect(largest > 0)
        }
        // A · v = λ v.
        for (value, vector) in zip(values, vectors) {
            let product = covariance.map { dot($0, vector) }
            for (p, v) in zip(product, vector) { #expect(abs(p - value * v) < 1e-12) }
        }
    }

    /// Repeated eigenvalues (where power iteration has no preferred direction) still give an orthonormal basis.
    @Test func repeatedEigenvaluesGiveAnOrthonormalBasis() {
        let matrix: [[Double]] = [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
        let (values, vectors) = PrincipalComponents.decompose(matrix)
        #expect(values == [2, 2, 2])
        for i in 0..<3 { for j in 0..<3 { #expect(abs(dot(vectors[i], vectors[j]) - (i == j ? 1 : 0)) < 1e-15) } }
    }

    /// Codes spread along two known orthogonal directions with different scales: the covariance of `LatentCodes`
    /// and the top two principal directions find them.
    @Test func principalDirectionsOfLatentCodes() {
        let u = [3.0, 4, 0, 0, 0].map { $0 / 5 }, w = [0.0, 0, 1, 1, 1].map { $0 / 3.0.squareRoot() }
        var means: [[Double]] = []
        for i in 0..<50 {
            let (s, t) = (Double(i % 10) - 4.5, Double(i / 10) - 2)          // variances 8.25 and 2
            means.append((0..<5).map { 1 + s * u[$0] + t * w[$0] })
        }
        let codes = LatentCodes(means: means, latentSize: 5)
        #expect(codes.centre.allSatisfy { abs($0 - 1) < 1e-12 }, "\(codes.centre)")
        let (values, vectors) = PrincipalComponents.top(2, of: codes)
        #expect(abs(values[0] - 8.25) < 1e-9 && abs(values[1] - 2) < 1e-9, "\(values)")
        #expect(abs(abs(dot(vectors[0], u)) - 1) < 1e-9)
        #expect(abs(abs(dot(vectors[1], w)) - 1) < 1e-9)
    }

    /// `count` codes of size `size`: Σ_k scales[k]·g·directions[k] + noise·g' with g, g' standard normal from a
    /// fixed stream, plus a constant offset (which centring must remove).
    private func plantedCodes(count: Int, size: Int, directions: [[Double]], scales: [Double], noise: Double,
                              seed: UInt64) -> LatentCodes {
        var random = RandomStream(seed: seed, name: "planted codes")
        let means = (0..<count).map { _ -> [Double] in
            let weights = random.normal(count: directions.count).map(Double.init)
            let jitter = random.normal(count: size).map(Double.init)
            return (0..<size).map { i in
                0.5 + noise * jitter[i] + directions.indices.reduce(0.0) { $0 + scales[$1] * weights[$1] * directions[$1][i] }
            }
        }
        return LatentCodes(means: means, latentSize: size)
    }

    /// `count` orthonormal directions in `size` dimensions, by Gram–Schmidt on normal draws.
    private func orthonormalDirections(_ count: Int, size: Int, seed: UInt64) -> [[Double]] {
        var random = RandomStream(seed: seed, name: "planted directions")
        var directions: [[Double]] = []
        for _ in 0..<count {
            var vector = random.normal(count: size).map(Double.init)
            for earlier in directions {
                let overlap = dot(vector, earlier)
                vector = zip(vector, earlier).map { $0 - overlap * $1 }
            }
            let norm = dot(vector, vector).squareRoot()
            directions.append(vector.map { $0 / norm })
        }
        return directions
    }

    /// Above the exact limit `top` takes subspace iteration; at d = 40, with a clear spectrum (scales 6, 4, 3, 2, 1.5
    /// over noise 0.3), its top two Ritz pairs match the Jacobi decomposition of the full covariance.
    @Test func subspaceIterationMatchesJacobiOnTheCovariance() {
        let size = 40
        #expect(size > PrincipalComponents.exactLatentLimit)
        let directions = orthonormalDirections(5, size: size, seed: 1)
        let codes = plantedCodes(count: 400, size: size, directions: directions, scales: [6, 4, 3, 2, 1.5],
                                 noise: 0.3, seed: 2)
        let exact = PrincipalComponents.decompose(codes.covariance)
        let (values, vectors) = PrincipalComponents.top(2, of: codes)
        #expect(values.count == 2 && vectors.count == 2)
        for k in 0..<2 {
            #expect(abs(values[k] - exact.values[k]) <= 1e-6 * exact.values[k], "value \(k): \(values[k]) vs \(exact.values[k])")
            #expect(abs(dot(vectors[k], exact.vectors[k])) > 0.9999, "vector \(k)")
            #expect(abs(dot(vectors[k], vectors[k]) - 1) < 1e-12)
            // Both paths share the sign convention, so the vectors agree with sign too.
            #expect(dot(vectors[k], exact.vectors[k]) > 0.9999)
        }
        #expect(abs(dot(vectors[0], vectors[1])) < 1e-12)
        #expect(values[0] >= values[1])
        // The O(n·d) summaries are the covariance's diagonal and trace.
        let covariance = codes.covariance
        #expect(codes.variances == (0..<size).map { covariance[$0][$0] })
        #expect(codes.spread == (0..<size).map { covariance[$0][$0].squareRoot() })
        #expect(codes.totalVariance == (0..<size).reduce(0.0) { $0 + covariance[$1][$1] })
    }

    /// A VQ-VAE-sized latent (d = 3000, n = 500) with a planted plane (scales 5 and 3 over noise 0.05): subspace
    /// iteration recovers the plane's directions without forming the 3000 × 3000 covariance, deterministically.
    @Test func subspaceIterationRecoversAPlantedPlaneInHighDimension() {
        let size = 3000
        let directions = orthonormalDirections(2, size: size, seed: 3)
        let codes = plantedCodes(count: 500, size: size, directions: directions, scales: [5, 3], noise: 0.05, seed: 4)
        let clock = ContinuousClock()
        var result: (values: [Double], vectors: [[Double]]) = ([], [])
        let elapsed = clock.measure { result = PrincipalComponents.top(2, of: codes) }
        let (values, vectors) = result
        #expect(abs(dot(vectors[0], directions[0])) > 0.99, "\(dot(vectors[0], directions[0]))")
        #expect(abs(dot(vectors[1], directions[1])) > 0.99, "\(dot(vectors[1], directions[1]))")
        // Sample variances along the planted directions are near 25 and 9; the noise adds 0.05² per dimension.
        #expect(abs(values[0] - 25) < 5 && abs(values[1] - 9) < 2, "\(values)")
        #expect(values[0] < codes.totalVariance)
        let again = PrincipalComponents.top(2, of: codes)
        #expect(again.values == values && again.vectors == vectors)
        #if !DEBUG
        // Forming the covariance alone is 2.25·10⁹ multiply-adds here and Jacobi on it O(d³) per sweep.
        #expect(elapsed < .seconds(3), "\(elapsed)")
        #endif
    }

    @Test func interpolationEndpointsAreTheInputs() {
        let a = [0.3, -1.2, 2.5, 0.01], b = [-0.7, 0.4, 1.1, -2.0]
        for spherical in [false, true] {
            let path = LatentPath.points(from: a, to: b, steps: 7, spherical: spherical)
            #expect(path.count == 7)
            #expect(path.first == a, "spherical \(spherical)")
            #expect(path.last == b, "spherical \(spherical)")
        }
        // Between two unit vectors slerp stays on the unit sphere; the straight line cuts inside it.
        let (x, y) = ([1.0, 0, 0], [0.0, 1, 0])
        let middle = LatentPath.slerp(x, y, 0.5)
        #expect(abs(dot(middle, middle) - 1) < 1e-12)
        #expect(abs(middle[0] - 0.5.squareRoot()) < 1e-12 && abs(middle[1] - 0.5.squareRoot()) < 1e-12)
        #expect(abs(dot(LatentPath.lerp(x, y, 0.5), LatentPath.lerp(x, y, 0.5)) - 0.5) < 1e-12)
        // Parallel vectors: no great circle, a straight line.
        #expect(LatentPath.slerp([1, 1], [2, 2], 0.5) == [1.5, 1.5])
    }

    @Test func priorQuantiles() {
        #expect(abs(LatentPath.normalQuantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(LatentPath.normalQuantile(0.5)) < 1e-15)
        #expect(abs(LatentPath.normalQuantile(1e-10) + 6.361340902404056) < 1e-9)
        let grid = LatentPath.priorQuantiles(20)
        #expect(grid.count == 20)
        #expect(abs(grid[19] - 1.959963984540054) < 1e-12)
        for i in 0..<20 { #expect(abs(grid[i] + grid[19 - i]) < 1e-12) }
        #expect(zip(grid, grid.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func niceTicks() {
        let axis = AxisTicks.nice(231.4, 297.9, target: 5)
        #expect(axis.ticks == [220, 240, 260, 280, 300])
        #expect(axis.lower == 220 && axis.upper == 300)
        let small = AxisTicks.nice(-0.013, 0.021, target: 4)
        #expect(small.ticks.first! <= -0.013 && small.ticks.last! >= 0.021)
        #expect(AxisTicks.label(small.ticks[1], step: small.ticks[1] - small.ticks[0]) == "-0.01")
        // A constant series still gets a non-empty range.
        let flat = AxisTicks.nice(5, 5)
        #expect(flat.lower < 5 && flat.upper > 5)
        #expect(SVGCanvas.number(-0.0001) == "0" && SVGCanvas.number(12.50) == "12.5" && SVGCanvas.number(3) == "3")
    }
}
