import Foundation
import TestSupport
import Testing
import VAETensor
@testable import VAETraining

/// The scores on representations with known answers: the factors themselves (a perfectly disentangled code), a
/// code that mixes them, and noise.
@Suite struct DisentanglementScoreTests {
    static let sizes = [3, 6, 10, 8]

    /// Codes `[rows, 4 + extra]`: each factor's value (scaled to [0, 1]) in its own dimension, then `extra` dimensions
    /// of noise from `random`.
    static func factorCodes(_ rows: [[Int]], extra: Int, noise: Double, random: inout RandomStream) -> Tensor {
        var scalars: [Float] = []
        for row in rows {
            let draws = random.normal(shape: [sizes.count + extra]).scalars
            for (factor, value) in row.enumerated() { scalars.append(Float(Double(value) / Double(sizes[factor] - 1)) + Float(noise) * draws[factor]) }
            for extraIndex in 0..<extra { scalars.append(draws[sizes.count + extraIndex]) }
        }
        return Tensor(shape: [rows.count, sizes.count + extra], scalars: scalars)
    }

    @Test func theFactorsThemselvesScoreOne() {
        var codesRandom = RandomStream(seed: 1, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in Self.factorCodes(rows, extra: 0, noise: 0, random: &codesRandom) }
        var random = RandomStream(seed: 2, name: "score")
        let mig = DisentanglementScores.mutualInformationGap(probe, points: 5000, random: &random)
        #expect(mig > 0.95, "MIG \(mig)")
        let factorScore = DisentanglementScores.factorVAEScore(probe, trainVotes: 500, evaluationVotes: 300, varianceSamples: 2000,
                                                               random: &random)
        #expect(factorScore == 1, "FactorVAE score \(factorScore)")
        let betaScore = DisentanglementScores.betaVAEScore(probe, trainPoints: 300, evaluationPoints: 200, batchSize: 16, random: &random)
        #expect(betaScore > 0.95, "BetaVAE score \(betaScore)")
    }

    /// Noise alone: no information (MIG near 0) and chance voting (1 in 4 factors).
    @Test func noiseScoresNearZeroOrChance() {
        var codesRandom = RandomStream(seed: 3, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in
            codesRandom.normal(shape: [rows.count, 6])
        }
        var random = RandomStream(seed: 4, name: "score")
        let mig = DisentanglementScores.mutualInformationGap(probe, points: 5000, random: &random)
        #expect(mig < 0.05, "MIG \(mig)")
        let factorScore = DisentanglementScores.factorVAEScore(probe, trainVotes: 500, evaluationVotes: 400, varianceSamples: 2000,
                                                               random: &random)
        #expect(factorScore < 0.4, "FactorVAE score \(factorScore)")
        let betaScore = DisentanglementScores.betaVAEScore(probe, trainPoints: 300, evaluationPoints: 200, batchSize: 16, random: &random)
        #expect(betaScore < 0.45, "BetaVAE score \(betaScore) (chance 0.25)")
    }

    /// A code whose every dimension mixes two factors equally: MIG falls well below 1 (each factor's information is
    /// shared by two dimensions).
    @Test func mixedCodesScoreLower() {
        var codesRandom = RandomStream(seed: 5, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in
            let codes = Self.factorCodes(rows, extra: 0, noise: 0, random: &codesRandom).scalars
            var mixed: [Float] = []
            for row in 0..<rows.count {
                let c = Array(codes[row * 4..<row * 4 + 4])
                mixed += [c[0] + c[1], c[0] - c[1], c[2] + c[3], c[2] - c[3]]
            }
            return Tensor(shape: [rows.count, 4], scalars: mixed)
        }
        var random = RandomStream(seed: 6, name: "score")
        let mig = DisentanglementScores.mutualInformationGap(probe, points: 5000, random: &random)
        #expect(mig < 0.6, "MIG \(mig)")
    }

    @Test func mutualInformationAndEntropyMatchTheirDefinitions() {
        // A fair coin's entropy is log 2; a copy of it carries all of it; an independent coin none.
        let coin = (0..<1000).map { $0 % 2 }, other = (0..<1000).map { ($0 / 2) % 2 }
        #expect(abs(DisentanglementScores.mutualInformation(coin, coin) - log(2)) < 1e-12)
        #expect(abs(DisentanglementScores.mutualInformation(coin, other)) < 1e-12)
        #expect(DisentanglementScores.discretise([0, 0.5, 1], bins: 20) == [0, 10, 19])
    }

    /// The SVM's Newton solution is the squared-hinge objective's minimum: no point of a fine grid around it, nor of a
    /// coarse grid over [−3, 3]², is lower.
    @Test func linearSVMSolvesItsObjective() {
        var random = RandomStream(seed: 7, name: "svm")
        let x = random.normal(shape: [60]).scalars.map(Double.init)
        let signs = x.indices.map { x[$0] + Double(random.normal(shape: [1]).scalar) * 0.7 > 0.3 ? 1.0 : -1.0 }
        let costs = signs.map { $0 > 0 ? 0.5 : 0.2 }
        func objective(_ w: Double, _ b: Double) -> Double {
            0.5 * (w * w + b * b) + x.indices.reduce(0.0) { sum, i in
                let margin = 1 - signs[i] * (w * x[i] + b)
                return sum + (margin > 0 ? costs[i] * margin * margin : 0)
            }
        }
        let (w, b) = LinearSVM.solve(x, signs: signs, costs: costs)
        let best = objective(w, b)
        for dw in stride(from: -0.01, through: 0.01, by: 0.002) {
            for db in stride(from: -0.01, through: 0.01, by: 0.002) { #expect(objective(w + dw, b + db) >= best - 1e-12) }
        }
        var gridBest = Double.infinity
        for gw in stride(from: -3.0, through: 3.0, by: 0.01) {
            for gb in stride(from: -3.0, through: 3.0, by: 0.05) { gridBest = min(gridBest, objective(gw, gb)) }
        }
        #expect(best <= gridBest + 1e-12, "Newton \(best) vs grid \(gridBest)")
    }

    /// SAP with two binary factors stored exactly in two dimensions: each dimension predicts its factor perfectly
    /// and the other at chance, so each gap is ≈ 0.5; noise codes leave no gap.
    @Test func sapOfExactBinaryFactorsIsAHalfAndOfNoiseZero() {
        let probe = FactorProbe(sizes: [2, 2]) { rows in Tensor(shape: [rows.count, 2], scalars: rows.flatMap { $0.map(Float.init) }) }
        var random = RandomStream(seed: 8, name: "score")
        let (score, accuracies) = DisentanglementScores.separatedAttributePredictability(probe, trainPoints: 2000, testPoints: 1000, random: &random)
        #expect(accuracies[0][0] == 1 && accuracies[1][1] == 1, "\(accuracies)")
        #expect(abs(accuracies[0][1] - 0.5) < 0.05 && abs(accuracies[1][0] - 0.5) < 0.05, "\(accuracies)")
        #expect(abs(score - 0.5) < 0.05, "SAP \(score)")
        var codesRandom = RandomStream(seed: 9, name: "codes")
        let noise = FactorProbe(sizes: Self.sizes) { rows in codesRandom.normal(shape: [rows.count, 6]) }
        let noiseScore = DisentanglementScores.separatedAttributePredictability(noise, trainPoints: 2000, testPoints: 1000, random: &random).score
        #expect(noiseScore < 0.03, "SAP of noise \(noiseScore)")
    }

    /// SAP with the four factors themselves: each factor is best predicted by its own dimension.
    @Test func sapPrefersEachFactorsOwnDimension() {
        var codesRandom = RandomStream(seed: 10, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in Self.factorCodes(rows, extra: 2, noise: 0, random: &codesRandom) }
        var random = RandomStream(seed: 11, name: "score")
        let (score, accuracies) = DisentanglementScores.separatedAttributePredictability(probe, trainPoints: 2000, testPoints: 1000, random: &random)
        for factor in Self.sizes.indices {
            let column = accuracies.map { $0[factor] }
            #expect(column.indices.max { column[$0] < column[$1] } == factor, "factor \(factor): \(column)")
        }
        #expect(score > 0.1, "SAP \(score)")
    }

    /// DCI: the factors themselves are disentangled, complete and fully predicted; two noise dimensions added keep
    /// the code disentangled and predictive (a dimension's weight in D is its share of the importance, and noise
    /// has little); codes that mix pairs of factors are less disentangled and complete; noise predicts at chance.
    /// (Completeness with the noise dimensions is not asserted: a representation is a function of the image, and
    /// with 1,440 images and 3,000 draws the classifier gives a fixed per-image noise some weight.)
    @Test func dciOnKnownCodes() {
        var codesRandom = RandomStream(seed: 12, name: "codes")
        let exact = FactorProbe(sizes: Self.sizes) { rows in Self.factorCodes(rows, extra: 0, noise: 0, random: &codesRandom) }
        var random = RandomStream(seed: 13, name: "score")
        let clean = DisentanglementScores.disentanglementCompletenessInformativeness(exact, trainPoints: 2000, testPoints: 1000, random: &random)
        #expect(clean.disentanglement > 0.9 && clean.completeness > 0.9, "D \(clean.disentanglement), C \(clean.completeness)")
        #expect(clean.informativeness > 0.9, "I \(clean.informativeness)")
        let padded = FactorProbe(sizes: Self.sizes) { rows in Self.factorCodes(rows, extra: 2, noise: 0, random: &codesRandom) }
        let withNoise = DisentanglementScores.disentanglementCompletenessInformativeness(padded, trainPoints: 2000, testPoints: 1000, random: &random)
        #expect(withNoise.disentanglement > 0.9 && withNoise.informativeness > 0.9,
                "with two noise dimensions: D \(withNoise.disentanglement), I \(withNoise.informativeness)")
        let mixed = FactorProbe(sizes: Self.sizes) { rows in
            let codes = Self.factorCodes(rows, extra: 0, noise: 0, random: &codesRandom).scalars
            let mixedRows = (0..<rows.count).flatMap { row -> [Float] in
                let c = Array(codes[row * 4..<row * 4 + 4])
                return [c[0] + c[1], c[0] - c[1], c[2] + c[3], c[2] - c[3]]
            }
            return Tensor(shape: [rows.count, 4], scalars: mixedRows)
        }
        let blended = DisentanglementScores.disentanglementCompletenessInformativeness(mixed, trainPoints: 2000, testPoints: 1000, random: &random)
        #expect(blended.disentanglement < clean.disentanglement - 0.2 && blended.completeness < clean.completeness - 0.2,
                "mixed D \(blended.disentanglement), C \(blended.completeness)")
        // Noise over dSprites' 737,280 images: each image's code is fixed (a representation is a function of the
        // image), so over the 1,440 images above the trees would learn the training images' noise and meet them again
        // among the test points; here test images are new. Chance: the mean over factors of 1/size is 0.12.
        let noise = FactorProbe(sizes: [3, 6, 40, 32, 32]) { rows in codesRandom.normal(shape: [rows.count, 6]) }
        let none = DisentanglementScores.disentanglementCompletenessInformativeness(noise, trainPoints: 2000, testPoints: 1000, random: &random)
        #expect(none.informativeness < 0.2, "I of noise \(none.informativeness)")
    }

    /// The DCI classifier against scikit-learn's `GradientBoostingClassifier` (disentanglement_lib's) on the same data:
    /// 4 features (two informative, one weakly, one noise) for 5 classes (the multinomial deviance), 2 (the
    /// binomial: one tree per stage) and 2 of a factor's 3 values (scikit-learn fits the classes it sees: binomial
    /// too), 1,500 + 500 rows. Feature importances within 0.03 and test accuracies within 0.04 (tie-breaking and
    /// float32 rounding differ). Skipped without scikit-learn.
    @Test(.enabled(if: pythonHas("sklearn, numpy")), arguments: [[0, 1, 2, 3, 4], [0, 1], [0, 2]])
    func gradientBoostedTreesMatchScikitLearn(values: [Int]) throws {
        var random = RandomStream(seed: 21, name: "trees")
        let (count, classes) = (2000, values.max()! + 1)
        let labels = (0..<count).map { _ in values[random.integer(below: values.count)] }
        let noise = random.normal(count: count * 4)
        let features = (0..<count).map { row -> [Double] in
            let label = Double(labels[row])
            return [label + 0.8 * Double(noise[row * 4]), sin(label) + 0.5 * Double(noise[row * 4 + 1]),
                    0.3 * label + 2 * Double(noise[row * 4 + 2]), Double(noise[row * 4 + 3])]
        }
        let trees = GradientBoostedTrees(features: Array(features[..<1500]), labels: Array(labels[..<1500]), classes: classes)
        let accuracy = trees.accuracy(Array(features[1500...]), Array(labels[1500...]))
        let outputs = values.count == 2 ? 1 : values.count
        #expect(trees.fittedClasses == values && trees.trees.allSatisfy { $0.count == outputs } && trees.initial.count == outputs)
        let directory = try makeTemporaryDirectory("trees-\(values.count)-of-\(classes)")
        defer { removeDirectory(directory) }
        let lines = zip(features, labels).map { row, label in (row.map { String($0) } + [String(label)]).joined(separator: ",") }
        try lines.joined(separator: "\n").write(toFile: directory + "/data.csv", atomically: true, encoding: .utf8)
        let result = try runPython("""
            import sys, json, numpy as np
            from sklearn.ensemble import GradientBoostingClassifier
            data = np.loadtxt(sys.argv[1], delimiter=",")
            x, y = data[:, :-1], data[:, -1].astype(int)
            model = GradientBoostingClassifier(random_state=0).fit(x[:1500], y[:1500])
            assert model.estimators_.shape == (100, 1 if len(model.classes_) == 2 else len(model.classes_))
            print(json.dumps({"importances": model.feature_importances_.tolist(),
                              "accuracy": float(np.mean(model.predict(x[1500:]) == y[1500:]))}))
            """, [directory + "/data.csv"])
        #expect(result.status == 0, "\(result.standardError)")
        let reference = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        let importances = reference["importances"] as! [Double]
        for (ours, theirs) in zip(trees.featureImportances, importances) {
            #expect(abs(ours - theirs) < 0.03, "importances \(trees.featureImportances) against scikit-learn's \(importances)")
        }
        #expect(abs(accuracy - (reference["accuracy"] as! Double)) < 0.04, "accuracy \(accuracy) against \(reference["accuracy"]!)")
    }
}
