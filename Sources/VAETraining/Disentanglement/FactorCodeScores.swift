import Foundation
import VAETensor

extension DisentanglementScores {
    /// Factor rows and their codes, `count` of each drawn uniformly (disentanglement_lib's
    /// `generate_batch_factor_code`): codes `[count][d]`, factors `[count][factors]`.
    public static func points(_ probe: FactorProbe, _ count: Int, random: inout RandomStream) -> (codes: [[Double]], factors: [[Int]]) {
        let factors = probe.sample(count, random: &random)
        return (probe.codes(factors), factors)
    }

    /// SAP, the separated attribute predictability score (Kumar et al. 2018; disentanglement_lib's `sap_score.py`
    /// with discrete factors, as for dSprites): for every (code dimension, factor) pair, a linear SVM
    /// (`LinearSVM`: C = 0.01, balanced class weights) predicts the factor from that one dimension, fitted on
    /// `trainPoints` points and scored by its accuracy on `testPoints` more; per factor, the gap between the two most
    /// predictive dimensions; the mean gap over factors. Also returns the accuracy matrix `[d][factors]`.
    public static func separatedAttributePredictability(_ probe: FactorProbe, trainPoints: Int = 10_000,
                                                        testPoints: Int = 5_000, random: inout RandomStream)
    -> (score: Double, accuracies: [[Double]]) {
        let train = points(probe, trainPoints, random: &random)
        let test = points(probe, testPoints, random: &random)
        let width = train.codes.first?.count ?? 0
        let accuracies = (0..<width).map { dimension in
            probe.sizes.indices.map { factor in
                LinearSVM(feature: train.codes.map { $0[dimension] }, labels: train.factors.map { $0[factor] })
                    .accuracy(test.codes.map { $0[dimension] }, test.factors.map { $0[factor] })
            }
        }
        return (meanTopTwoGap(accuracies, factors: probe.sizes.count), accuracies)
    }

    /// Per factor (column), the largest entry minus the second largest over the rows; their mean.
    static func meanTopTwoGap(_ matrix: [[Double]], factors: Int) -> Double {
        guard factors > 0 else { return 0 }
        let gaps = (0..<factors).map { factor -> Double in
            let column = matrix.map { $0[factor] }.sorted(by: >)
            return (column.first ?? 0) - (column.count > 1 ? column[1] : 0)
        }
        return gaps.reduce(0, +) / Double(factors)
    }

    /// DCI (Eastwood & Williams 2018; the protocol of disentanglement_lib's `dci.py`): an importance matrix R
    /// (`[d][factors]`) from one classifier per factor fitted on `trainPoints` points; disentanglement is the mean,
    /// weighted by each code dimension's share of the total importance, of 1 − H(R's row normalised) with the
    /// entropy in base `factors`; completeness the same over columns in base d; informativeness the classifiers'
    /// mean accuracy on `testPoints` more. The classifier is disentanglement_lib's: gradient-boosted trees
    /// (`GradientBoostedTrees`, scikit-learn's defaults), R's column for a factor their feature importances.
    public static func disentanglementCompletenessInformativeness(
        _ probe: FactorProbe, trainPoints: Int = 10_000, testPoints: Int = 5_000, random: inout RandomStream
    ) -> (disentanglement: Double, completeness: Double, informativeness: Double, importance: [[Double]]) {
        let train = points(probe, trainPoints, random: &random)
        let test = points(probe, testPoints, random: &random)
        let width = train.codes.first?.count ?? 0
        var importance = [[Double]](repeating: [Double](repeating: 0, count: probe.sizes.count), count: width)
        var accuracies: [Double] = []
        for (factor, size) in probe.sizes.enumerated() {
            let classifier = GradientBoostedTrees(features: train.codes, labels: train.factors.map { $0[factor] }, classes: size)
            accuracies.append(classifier.accuracy(test.codes, test.factors.map { $0[factor] }))
            for dimension in 0..<width { importance[dimension][factor] = classifier.featureImportances[dimension] }
        }
        let total = importance.joined().reduce(0, +)
        func oneMinusEntropy(_ values: [Double], base: Int) -> Double {
            // scipy.stats.entropy(values + 1e-11, base) as disentanglement_lib computes it.
            let shifted = values.map { $0 + 1e-11 }
            let sum = shifted.reduce(0, +)
            let entropy = shifted.reduce(0.0) { $0 - ($1 / sum) * Foundation.log($1 / sum) } / Foundation.log(Double(base))
            return 1 - entropy
        }
        guard total > 0, width > 1, probe.sizes.count > 1 else {
            return (0, 0, accuracies.reduce(0, +) / Double(max(accuracies.count, 1)), importance)
        }
        let disentanglement = importance.reduce(0.0) { sum, row in
            sum + oneMinusEntropy(row, base: probe.sizes.count) * row.reduce(0, +) / total
        }
        let completeness = probe.sizes.indices.reduce(0.0) { sum, factor in
            let column = importance.map { $0[factor] }
            return sum + oneMinusEntropy(column, base: width) * column.reduce(0, +) / total
        }
        return (disentanglement, completeness, accuracies.reduce(0, +) / Double(accuracies.count), importance)
    }
}
