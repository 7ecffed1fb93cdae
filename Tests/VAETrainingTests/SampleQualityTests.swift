import Foundation
import Testing
import TestSupport
import VAEModels
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

@Suite struct PrecisionRecallTests {
    @Test func identicalSetsAreFullyCoveredAndFarSetsNotAtAll() {
        var random = RandomStream(seed: 2, name: "features")
        let real = random.normal(shape: [200, 5])
        let same = SampleQuality.precisionRecall(real: real, generated: real, k: 3)
        #expect(same.precision == 1 && same.recall == 1)
        let far = SampleQuality.precisionRecall(real: real, generated: random.normal(shape: [200, 5]) + 50, k: 3)
        #expect(far.precision == 0 && far.recall == 0)
        // Generated points collapsed onto one real point: precise, but recall only of that point's neighbourhood.
        let collapsed = real.gathering([Int](repeating: 0, count: 200))
        let mode = SampleQuality.precisionRecall(real: real, generated: collapsed, k: 3)
        #expect(mode.precision == 1 && mode.recall < 0.1, "\(mode)")
    }
}

extension ModelComputation {
    @Suite struct SampleQualityRunTests {
        @Test(.enabled(if: hasFashionMNIST)) func aTrainedRunsSamplesAreMeasuredAndTheClassifierCached() throws {
            var config = smallConfig(trainLimit: 2000, testLimit: 500, epochs: 2, seed: 3)
            config.model[NetworkSettings.hiddenSizes] = [64]
            let (_, directory, _) = try trainRun(config, label: "quality")
            defer { removeDirectory(directory) }
            let folder = try makeTemporaryDirectory("classifiers")
            defer { removeDirectory(folder) }
            let run = try TrainedRun(directory: directory)
            var lines: [String] = []
            let quality = try SampleQuality.measure(run, limit: 500, seed: 1, classifierFolder: folder, report: { lines.append($0) })
            #expect(lines.count == 1 && lines[0].hasPrefix("trained the feature classifier on 60000 images"))
            #expect(quality.classifierAccuracy > 0.8, "an MLP classifier reaches well over 80 % on Fashion-MNIST")
            #expect(quality.images == 500)
            #expect(quality.frechetDistance > 0 && quality.frechetDistance.isFinite)
            #expect((0...1).contains(quality.precision) && (0...1).contains(quality.recall))
            let again = try SampleQuality.measure(run, limit: 500, seed: 1, classifierFolder: folder, report: { lines.append($0) })
            #expect(lines.count == 1, "the cached classifier is reused")
            #expect(again == quality)
        }
    }
}
