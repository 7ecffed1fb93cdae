import Foundation

/// Gradient-boosted regression trees for classification with the log-loss (deviance): the learner of
/// disentanglement_lib's DCI score (scikit-learn's `GradientBoostingClassifier` with its defaults: 100 stages,
/// learning rate 0.1, trees of depth 3 on all features, Friedman's MSE split criterion, leaves set by one Newton step;
/// Friedman 2001, "Greedy function approximation").
///
/// For more than two classes (the multinomial deviance), each stage fits one tree per class to the residuals
/// y_k − p_k of the softmax of the raw scores, which start at the log class priors. For two classes (the binomial
/// deviance, as scikit-learn), each stage fits one tree to y − p of the logistic sigmoid of one raw score, which
/// starts at the log odds of class 1 and predicts class 1 where it is 0 or more. As scikit-learn does, the classes
/// are those the training labels hold: a factor of three values with two of them seen is a two-class problem. A tree grows level
/// by level: every feature's samples are scanned once per level in that feature's sorted order, each node keeping its
/// own running sums, so a level costs O(samples × features). `featureImportances` are scikit-learn's: per tree, the
/// weighted impurity (variance) decrease of each split over the root's sample count, averaged over the trees that split
/// at all, normalised to sum 1. scikit-learn breaks ties between equally good splits by a random feature order; here
/// the first feature wins, so importances can differ from a scikit-learn fit in such ties.
struct GradientBoostedTrees {
    let classes: Int
    /// The classes the training labels hold, in order: the trees' classes (the labels they predict).
    let fittedClasses: [Int]
    let learningRate: Double
    /// The raw scores before the first stage: one per class, or the log odds of class 1 for two classes.
    let initial: [Double]
    /// `trees[stage][k]`: one tree per class, or one per stage for two classes.
    let trees: [[Tree]]
    /// One value per feature, summing to 1 (all 0 when no tree split).
    let featureImportances: [Double]

    struct Tree {
        /// Internal nodes and leaves; node 0 is the root. A leaf has `feature == -1`.
        var feature: [Int] = []
        var threshold: [Double] = []
        var left: [Int] = []
        var right: [Int] = []
        var value: [Double] = []

        func predict(_ row: [Double]) -> Double {
            var node = 0
            while feature[node] >= 0 { node = row[feature[node]] <= threshold[node] ? left[node] : right[node] }
            return value[node]
        }
    }

    init(features: [[Double]], labels: [Int], classes: Int, stages: Int = 100, learningRate: Double = 0.1, depth: Int = 3) {
        let (n, width) = (features.count, features.first?.count ?? 0)
        self.classes = classes
        self.learningRate = learningRate
        // scikit-learn's trees read float32 features.
        let columns = (0..<width).map { feature in features.map { Double(Float($0[feature])) } }
        let order = columns.map { column in (0..<n).sorted { column[$0] < column[$1] || (column[$0] == column[$1] && $0 < $1) } }
        // scikit-learn's label encoding: the classes present, numbered in order.
        fittedClasses = Set(labels).sorted()
        let number = Dictionary(uniqueKeysWithValues: fittedClasses.enumerated().map { ($1, $0) })
        let encoded = labels.map { number[$0]! }
        let fitted = fittedClasses.count
        var counts = [Double](repeating: 0, count: fitted)
        for label in encoded { counts[label] += 1 }
        // The class priors, clipped as scikit-learn 1.9's to [ε, 1 − ε] (float64's ε), through the link: log, or logit.
        let priors = counts.map { min(max($0 / Double(max(n, 1)), Double.ulpOfOne), 1 - Double.ulpOfOne) }
        let binary = fitted == 2
        let outputs = binary ? 1 : fitted
        initial = binary ? [Foundation.log(priors[1] / (1 - priors[1]))] : priors.map { Foundation.log($0) }
        var raw = [Double](repeating: 0, count: n * outputs)
        for row in 0..<n { for k in 0..<outputs { raw[row * outputs + k] = initial[k] } }
        var trees: [[Tree]] = []
        var importanceSum = [Double](repeating: 0, count: width)
        var splittingTrees = 0
        var probability = [Double](repeating: 0, count: n * outputs)
        // One Newton step's scale: (K − 1)/K for the multinomial deviance (scikit-learn keeps Friedman's factor), 1 for the binomial.
        let leafScale = binary ? 1 : Double(fitted - 1) / Double(fitted)
        for _ in 0..<stages {
            for row in 0..<n {
                let base = row * outputs
                guard !binary else { probability[row] = 1 / (1 + Foundation.exp(-raw[row])); continue }
                let largest = raw[base..<(base + fitted)].max()!
                var total = 0.0
                for k in 0..<fitted { probability[base + k] = Foundation.exp(raw[base + k] - largest); total += probability[base + k] }
                for k in 0..<fitted { probability[base + k] /= total }
            }
            var stage: [Tree] = []
            for k in 0..<outputs {
                let positive = binary ? 1 : k
                let residual = (0..<n).map { (encoded[$0] == positive ? 1.0 : 0.0) - probability[$0 * outputs + k] }
                var importance = [Double](repeating: 0, count: width)
                var (tree, leafOf) = Self.fitTree(columns: columns, order: order, residual: residual, depth: depth,
                                                  importance: &importance)
                // Each leaf's value: one Newton step of the deviance (scikit-learn's leaf update).
                var numerator = [Double](repeating: 0, count: tree.feature.count)
                var denominator = numerator
                for row in 0..<n {
                    let p = probability[row * outputs + k]
                    numerator[leafOf[row]] += residual[row]
                    denominator[leafOf[row]] += p * (1 - p)
                }
                for node in tree.value.indices where tree.feature[node] < 0 {
                    tree.value[node] = denominator[node] < 1e-150 ? 0 : leafScale * numerator[node] / denominator[node]
                }
                if tree.feature.count > 1 {
                    splittingTrees += 1
                    for feature in 0..<width { importanceSum[feature] += importance[feature] / Double(n) }
                }
                for row in 0..<n { raw[row * outputs + k] += learningRate * tree.value[leafOf[row]] }
                stage.append(tree)
            }
            trees.append(stage)
        }
        self.trees = trees
        let mean = importanceSum.map { $0 / Double(max(splittingTrees, 1)) }
        let total = mean.reduce(0, +)
        featureImportances = total > 0 ? mean.map { $0 / total } : mean
    }

    /// Fits one regression tree of at most `depth` levels to `residual`, adding each split's impurity decrease
    /// (n·variance of the node − the children's) to `importance[feature]`; returns it (leaf values 0) with each row's leaf.
    static func fitTree(columns: [[Double]], order: [[Int]], residual: [Double], depth: Int,
                        importance: inout [Double]) -> (Tree, [Int]) {
        let n = residual.count
        var nodeOf = [Int](repeating: 0, count: n)
        var tree = Tree()
        // Node statistics: count, sum and sum of squares of the residuals.
        var count = [Double(n)], sum = [residual.reduce(0, +)], squares = [residual.reduce(0) { $0 + $1 * $1 }]
        tree.feature = [-1]; tree.threshold = [0]; tree.left = [-1]; tree.right = [-1]; tree.value = [0]
        func weightedVariance(_ node: Int) -> Double { squares[node] - sum[node] * sum[node] / count[node] }
        var frontier = [0]
        for _ in 0..<depth {
            let nodes = tree.feature.count
            var open = [Bool](repeating: false, count: nodes)
            for node in frontier where count[node] >= 2 && weightedVariance(node) > 1e-12 * count[node] { open[node] = true }
            guard open.contains(true) else { break }
            // Best split per open node: proxy improvement, feature, threshold.
            var bestProxy = [Double](repeating: -1, count: nodes)
            var bestFeature = [Int](repeating: -1, count: nodes)
            var bestThreshold = [Double](repeating: 0, count: nodes)
            for (feature, column) in columns.enumerated() {
                var leftCount = [Double](repeating: 0, count: nodes), leftSum = leftCount
                var last = [Double](repeating: .nan, count: nodes)
                for row in order[feature] {
                    let node = nodeOf[row]
                    guard open[node] else { continue }
                    let value = column[row]
                    let previous = last[node]
                    // scikit-learn's FEATURE_THRESHOLD: values closer than 1e-7 are not split (false for NaN: a node's first row).
                    if value > previous + 1e-7 {
                        let (nl, sl) = (leftCount[node], leftSum[node])
                        let (nr, sr) = (count[node] - nl, sum[node] - sl)
                        // Friedman's improvement, up to a factor constant per node: (n_r·s_l − n_l·s_r)² / (n_l·n_r).
                        let difference = nr * sl - nl * sr
                        let proxy = difference * difference / (nl * nr)
                        if proxy > bestProxy[node] {
                            let midpoint = Double(Float(previous / 2 + value / 2))
                            (bestProxy[node], bestFeature[node], bestThreshold[node]) = (proxy, feature, midpoint == value ? previous : midpoint)
                        }
                    }
                    leftCount[node] += 1
                    leftSum[node] += residual[row]
                    last[node] = value
                }
            }
            var next: [Int] = []
            for node in frontier.sorted() where bestFeature[node] >= 0 {
                let (leftNode, rightNode) = (tree.feature.count, tree.feature.count + 1)
                (tree.feature[node], tree.threshold[node]) = (bestFeature[node], bestThreshold[node])
                (tree.left[node], tree.right[node]) = (leftNode, rightNode)
                for _ in 0..<2 {
                    tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1); tree.right.append(-1); tree.value.append(0)
                    count.append(0); sum.append(0); squares.append(0)
                }
                next += [leftNode, rightNode]
            }
            guard !next.isEmpty else { break }
            for row in 0..<n {
                let parent = nodeOf[row]
                guard parent < nodes, tree.feature[parent] >= 0, tree.left[parent] >= nodes else { continue }
                let child = columns[tree.feature[parent]][row] <= tree.threshold[parent] ? tree.left[parent] : tree.right[parent]
                nodeOf[row] = child
                count[child] += 1; sum[child] += residual[row]; squares[child] += residual[row] * residual[row]
            }
            for node in frontier where tree.feature[node] >= 0 {
                importance[tree.feature[node]] += weightedVariance(node) - weightedVariance(tree.left[node]) - weightedVariance(tree.right[node])
            }
            frontier = next
        }
        return (tree, nodeOf)
    }

    /// The most probable class of each row.
    func predict(_ features: [[Double]]) -> [Int] {
        features.map { row in
            let input = row.map { Double(Float($0)) }
            var raw = initial
            for stage in trees { for (k, tree) in stage.enumerated() { raw[k] += learningRate * tree.predict(input) } }
            guard !fittedClasses.isEmpty else { return 0 }
            if fittedClasses.count == 2 { return fittedClasses[raw[0] >= 0 ? 1 : 0] }
            return fittedClasses[raw.indices.max { raw[$0] < raw[$1] }!]
        }
    }

    /// The fraction of `labels` predicted.
    func accuracy(_ features: [[Double]], _ labels: [Int]) -> Double {
        let predicted = predict(features)
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }
}
