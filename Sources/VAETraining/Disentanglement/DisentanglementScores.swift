import Foundation
import VAEData
import VAETensor

/// The ground-truth factors of a dataset whose images can be made for any factor values (dSprites): their sizes,
/// and a representation of factor rows (the encoder's posterior means of the images they describe).
///
/// A representation is a function of the image, so each image is represented once: codes are kept by image index
/// (the factor values in mixed radix, the last fastest), and the scores gather every row they will need first and
/// have the images not seen yet represented in batches of ``batchSize`` (the protocols' 2.9 million draws cover
/// about 720,000 distinct dSprites images).
public final class FactorProbe {
    /// Values per factor.
    public let sizes: [Int]
    /// Codes `[rows, d]` of the images with these factor values.
    public let represent: ([[Int]]) -> Tensor
    /// Rows per call of ``represent``.
    public static let batchSize = 512
    /// The slot in ``stored`` of each image index represented so far.
    private var slots: [Int: Int] = [:]
    /// Codes in slot order, ``width`` scalars each.
    private var stored: [Float] = []
    private var width = 0

    public init(sizes: [Int], represent: @escaping ([[Int]]) -> Tensor) {
        self.sizes = sizes
        self.represent = represent
    }

    /// `count` factor rows drawn uniformly.
    func sample(_ count: Int, random: inout RandomStream) -> [[Int]] {
        (0..<count).map { _ in sizes.map { random.integer(below: $0) } }
    }

    /// The image index of a factor row.
    func index(of row: [Int]) -> Int { MixedRadix.index(of: row, sizes: sizes) }

    /// The factor row of an image index.
    func row(of index: Int) -> [Int] { MixedRadix.values(of: index, sizes: sizes) }

    /// Represents the images of `indices` that have no code yet, ``batchSize`` at a time in first-seen order.
    func represent(indices: [Int]) {
        var pending: [Int] = []
        for index in indices where slots[index] == nil {
            slots[index] = slots.count
            pending.append(index)
        }
        for start in stride(from: 0, to: pending.count, by: Self.batchSize) {
            let part = represent(pending[start..<min(start + Self.batchSize, pending.count)].map(row(of:)))
            width = part.shape[1]
            stored += part.scalars
        }
    }

    /// Codes of image indices as `[indices][d]` in Double.
    func codes(indices: [Int]) -> [[Double]] {
        represent(indices: indices)
        return indices.map { index in
            let start = slots[index]! * width
            return stored[start..<(start + width)].map(Double.init)
        }
    }

    /// Codes of `rows` as `[rows][d]` in Double.
    func codes(_ rows: [[Int]]) -> [[Double]] {
        codes(indices: rows.map(index(of:)))
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
        // Every vote's rows are drawn first (in the order the votes are cast), so that their images are represented
        // in full batches.
        func draw(_ count: Int) -> [(factor: Int, indices: [Int])] {
            (0..<count).map { _ in
                let factor = random.integer(below: probe.sizes.count)
                let fixed = random.integer(below: probe.sizes[factor])
                var rows = probe.sample(batchSize, random: &random)
                for index in rows.indices { rows[index][factor] = fixed }
                return (factor, rows.map(probe.index(of:)))
            }
        }
        let train = draw(trainVotes), evaluation = draw(evaluationVotes)
        probe.represent(indices: (train + evaluation).flatMap(\.indices))
        func vote(_ draw: (factor: Int, indices: [Int])) -> Int {
            let codes = probe.codes(indices: draw.indices)
            let variances = active.map { dimension in variance(codes.map { $0[dimension] / deviations[dimension] }) }
            return active[variances.indices.min { variances[$0] < variances[$1] }!]
        }
        var table = [[Int]](repeating: [Int](repeating: 0, count: probe.sizes.count), count: width)
        for draw in train { table[vote(draw)][draw.factor] += 1 }
        let classifier = table.map { counts in counts.indices.max { counts[$0] < counts[$1] }! }
        let correct = evaluation.filter { classifier[vote($0)] == $0.factor }.count
        return Double(correct) / Double(max(evaluationVotes, 1))
    }

    /// The BetaVAE score (Higgins et al. 2017; disentanglement_lib's `beta_vae.py`): each point fixes one factor
    /// (chosen uniformly) in `batchSize` pairs of factor rows that otherwise differ, and is the mean absolute
    /// difference of the pairs' codes; a linear classifier (multinomial logistic regression with an L2 penalty,
    /// sklearn's default model, fitted here by full-batch Adam) learns the fixed factor from `trainPoints` points
    /// and is scored by its accuracy on `evaluationPoints` more.
    public static func betaVAEScore(_ probe: FactorProbe, trainPoints: Int = 10_000, evaluationPoints: Int = 5_000,
                                    batchSize: Int = 64, random: inout RandomStream) -> Double {
        // Every point's pairs are drawn first (in the order of the points), so that their images are represented in
        // full batches.
        func draw(_ count: Int) -> [(factor: Int, first: [Int], second: [Int])] {
            (0..<count).map { _ in
                let factor = random.integer(below: probe.sizes.count)
                let first = probe.sample(batchSize, random: &random)
                var second = probe.sample(batchSize, random: &random)
                for index in second.indices { second[index][factor] = first[index][factor] }
                return (factor, first.map(probe.index(of:)), second.map(probe.index(of:)))
            }
        }
        func points(_ draws: [(factor: Int, first: [Int], second: [Int])]) -> (features: [[Double]], labels: [Int]) {
            let features = draws.map { draw -> [Double] in
                let (a, b) = (probe.codes(indices: draw.first), probe.codes(indices: draw.second))
                let width = a.first?.count ?? 0
                return (0..<width).map { dimension in
                    zip(a, b).reduce(0.0) { $0 + abs($1.0[dimension] - $1.1[dimension]) } / Double(batchSize)
                }
            }
            return (features, draws.map(\.factor))
        }
        let trainDraws = draw(trainPoints), evaluationDraws = draw(evaluationPoints)
        probe.represent(indices: (trainDraws + evaluationDraws).flatMap { $0.first + $0.second })
        let train = points(trainDraws), evaluation = points(evaluationDraws)
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
