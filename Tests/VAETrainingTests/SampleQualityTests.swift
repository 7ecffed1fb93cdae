import Foundation
import Testing
import TestSupport
import VAETensor
@testable import VAETraining

/// Two sets of 8-dimensional features: correlated Gaussians with different means and spreads.
private func featureSets() -> ([[Double]], [[Double]]) {
    var random = RandomStream(seed: 1, name: "features")
    let (x, y) = (random.normal(shape: [300, 8]).scalars.map(Double.init), random.normal(shape: [250, 8]).scalars.map(Double.init))
    func first(_ r: Int, _ c: Int) -> Double {
        let (own, next): (Double, Double) = (x[r * 8 + c], x[r * 8 + (c + 1) % 8])
        return own + 0.5 * next
    }
    func second(_ r: Int, _ c: Int) -> Double {
        let (own, other): (Double, Double) = (y[r * 8 + c], y[r * 8 + (c + 3) % 8])
        return 1.5 * own + 0.3 * Double(c) - 0.2 * other
    }
    let a: [[Double]] = (0..<300).map { r in (0..<8).map { c in first(r, c) } }
    let b: [[Double]] = (0..<250).map { r in (0..<8).map { c in second(r, c) } }
    return (a, b)
}

@Suite struct SampleQualityTests {
    @Test func frechetDistanceOfASetWithItselfIsZero() {
        let (a, _) = featureSets()
        #expect(abs(FrechetDistance.between(a, a)) < 1e-6)
    }

    @Test(.enabled(if: pythonHas("numpy, scipy"), "python3 with numpy and scipy is not installed"))
    func frechetDistanceMatchesSciPy() throws {
        let (a, b) = featureSets()
        let text = { (rows: [[Double]]) in rows.map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: ";") }
        let script = """
            import sys, numpy as np, scipy.linalg
            a, b = (np.array([[float(v) for v in r.split(",")] for r in s.split(";")]) for s in sys.argv[1:3])
            ma, mb = a.mean(0), b.mean(0)
            ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
            root = scipy.linalg.sqrtm(ca @ cb).real
            print(((ma - mb) ** 2).sum() + np.trace(ca + cb - 2 * root))
            """
        let result = try runPython(script, [text(a), text(b)])
        let expected = try #require(Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)),
                                    "python: \(result.standardOutput) \(result.standardError)")
        let value = FrechetDistance.between(a, b)
        #expect(abs(value - expected) < 1e-6 * max(1, expected), "VAEKit \(value), SciPy \(expected)")
    }
}
