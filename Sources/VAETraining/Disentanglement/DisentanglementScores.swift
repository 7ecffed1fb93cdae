import Foundation
import VAETensor

/// The ground-truth factors of a dataset whose images can be made for any factor values (dSprites): their sizes,
/// and a representation of factor rows (the encoder's posterior means of the images they describe).
public struct FactorProbe {
    /// Values per factor.
    public let sizes: [Int]
    /// Codes `[rows, d]` of the images with these factor values.
    public let represent: ([[Int]]) -> Tensor

    public init(sizes: [Int], represent: @escaping ([[Int]]) -> Tensor) {
        self.sizes = sizes
        self.represent = represent
    }

    /// `count` factor rows drawn uniformly.
    func sample(_ count: Int, random: inout RandomStream) -> [[Int]] {
        (0..<count).map { _ in sizes.map { random.integer(below: $0) } }
    }

    /// Codes of `rows` as `[rows][d]` in Double, 512 rows at a time.
    func codes(_ rows: [[Int]]) -> [[Double]] {
        stride(from: 0, to: rows.count, by: 512).flatMap { start -> [[Double]] in
            let part = represent(Array(rows[start..<min(start + 512, rows.count)]))
            let width = part.shape[1]
            return (0..<part.shape[0]).map { row in (0..<width).map { Double(part.scalars[row * width + $0]) } }
        }
    }
}

/// disentanglement_lib's scores of a representation (Locatello et al. 2019 define the protocols; sample counts as
/// theirs by default): each takes a ``FactorProbe`` and a random stream, and is a number in [0, 1].
public enum DisentanglementScores {
    /// The mutual information gap (Chen et al. 2018, disentanglement_lib's `mig.py` protocol): `points` factor rows,
    /// each code dimension discretised into 20 equal-width bins over its range, the empirical mutual information of
    /// every (code, factor) pair; per factor, the gap between the two largest, divided by the factor's entropy;
    /// the mean over factors.
    public static func mutualInformationGap(_ probe: FactorProbe, points: Int = 10_000, bins: Int = 20,
                                            random: inout RandomStream) -> Double {
        let factors = probe.sample(points, random: &random)
        let codes = probe.codes(factors)
        let width = codes.first?.count ?? 0
        let discrete = (0..<width).map { dimension in discretise(codes.map { $0[dimension] }, bins: bins) }
        var gaps: [Double] = []
        for (factor, size) in probe.sizes.enumerated() where size > 1 {
            let values = factors.map { $0[factor] }
            let entropy = mutualInformation(values, values)
            let information = discrete.map { mutualInformation($0, values) }.sorted(by: >)
            gaps.append((information[0] - (information.count > 1 ? information[1] : 0)) / entropy)
        }
        return gaps.reduce(0, +) / Double(max(gaps.count, 1))
    }

    /// The FactorVAE score (Kim & Mnih 2018; disentanglement_lib's `factor_vae.py`): code dimensions whose standard
    /// deviation over `varianceSamples` points is below 0.05 are pruned; each vote fixes one factor (chosen
    /// uniformly) at a random value in a batch of `batchSize`, normalises the codes by their global standard
    /// deviations and votes for the dimension of least variance; a majority-vote classifier from dimension to factor
    /// is fitted on `trainVotes` votes and scored by its accuracy on `evaluationVotes` more.
    public static func factorVAEScore(_ probe: FactorProbe, trainVotes: Int = 10_000, evaluationVotes: Int = 5_000,
                                      batchSize: Int = 64, varianceSamples: Int = 10_000,
                                      random: inout RandomStream) -> Double {
        let global = probe.codes(probe.sample(varianceSamples, random: &random))
        let width = global.first?.count ?? 0
        let deviations = (0..<width).map { dimension in variance(global.map { $0[dimension] }).squareRoot() }
        let active = (0..<width).filter { deviations[$0] >= 0.05 }
        guard !active.isEmpty else { return 0 }
        func vote(_ random: inout RandomStream) -> (dimension: Int, factor: Int) {
            let factor = random.integer(below: probe.sizes.count)
            let fixed = random.integer(below: probe.sizes[factor])
            var rows = probe.sample(batchSize, random: &random)
            for index in rows.indices { rows[index][factor] = fixed }
            let codes = probe.codes(rows)
            let variances = active.map { dimension in variance(codes.map { $0[dimension] / deviations[dimension] }) }
            return (active[variances.indices.min { variances[$0] < variances[$1] }!], factor)
        }
        var table = [[Int]](repeating: [Int](repeating: 0, count: probe.sizes.count), count: width)
        for _ in 0..<trainVotes {
            let (dimension, factor) = vote(&random)
            table[dimension][factor] += 1
        }
        let classifier = table.map { counts in counts.indices.max { counts[$0] < counts[$1] }! }
        var correct = 0
        for _ in 0..<evaluationVotes {
            let (dimension, factor) = vote(&random)
            if classifier[dimension] == factor { correct += 1 }
        }
        return Double(correct) / Double(max(evaluationVotes, 1))
    }

    /// The BetaVAE score (Higgins et al. 2017; disentanglement_lib's `beta_vae.py`): each point fixes one factor
    /// (chosen uniformly) in `batchSize` pairs of factor rows that otherwise differ, and is the mean absolute
    /// difference of the pairs' codes; a linear classifier (multinomial logistic regression with an L2 penalty,
    /// sklearn's default model, fitted here by full-batch Adam) learns the fixed factor from `trainPoints` points
    /// and is scored by its accuracy on `evaluationPoints` more.
    public static func betaVAEScore(_ probe: FactorProbe, trainPoints: Int = 10_000, evaluationPoints: Int = 5_000,
                                    batchSize: Int = 64, random: inout RandomStream) -> Double {
        func points(_ count: Int) -> (features: [[Double]], labels: [Int]) {
            var features: [[Double]] = [], labels: [Int] = []
            for _ in 0..<count {
                let factor = random.integer(below: probe.sizes.count)
                let first = probe.sample(batchSize, random: &random)
                var second = probe.sample(batchSize, random: &random)
                for index in second.indices { second[index][factor] = first[index][factor] }
                let (a, b) = (probe.codes(first), probe.codes(second))
                let width = a.first?.count ?? 0
                features.append((0..<width).map { dimension in
                    zip(a, b).reduce(0.0) { $0 + abs($1.0[dimension] - $1.1[dimension]) } / Double(batchSize)
                })
                labels.append(factor)
            }
            return (features, labels)
        }
        let train = points(trainPoints), evaluation = points(evaluationPoints)
        let classifier = LogisticRegression(features: train.features, labels: train.labels, classes: probe.sizes.count)
        return classifier.accuracy(evaluation.features, evaluation.labels)
    }

    // MARK: helpers

    /// Bin indices of `values` in `bins` equal-width bins between their minimum and maximum.
    static func discretise(_ values: [Double], bins: Int) -> [Int] {
        let (low, high) = (values.min() ?? 0, values.max() ?? 0)
        guard high > low else { return [Int](repeating: 0, count: values.count) }
        return values.map { min(bins - 1, Int((($0 - low) / (high - low)) * Double(bins))) }
    }

    /// The empirical mutual information (nats) of two discrete sequences; of a sequence with itself, its entropy.
    static func mutualInformation(_ a: [Int], _ b: [Int]) -> Double {
        let n = Double(a.count)
        var joint: [Int: [Int: Double]] = [:], left: [Int: Double] = [:], right: [Int: Double] = [:]
        for (x, y) in zip(a, b) {
            joint[x, default: [:]][y, default: 0] += 1
            left[x, default: 0] += 1
            right[y, default: 0] += 1
        }
        var information = 0.0
        for (x, row) in joint {
            for (y, count) in row {
                information += count / n * Foundation.log(count * n / (left[x]! * right[y]!))
            }
        }
        return information
    }

    static func variance(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
    }
}
