/// A linear support-vector classifier on one feature, as disentanglement_lib's SAP score uses scikit-learn's
/// `LinearSVC(C=0.01, class_weight="balanced")` (liblinear): one-vs-rest, squared hinge loss, the intercept
/// regularised with the weight, and in each class's problem its own examples weighted by n / (classes · n_class)
/// and the rest by 1 (liblinear's one-vs-rest weighting; with two classes, one problem with each side's weight).
/// Each binary problem
///
///     min over (w, b)  ½(w² + b²) + Σᵢ cᵢ · max(0, 1 − yᵢ(w·xᵢ + b))²
///
/// is convex and once differentiable; it is solved here exactly, by Newton steps on its generalised Hessian with a
/// backtracking line search, until the gradient is below 1e-9 of its start. A prediction is the class of the
/// largest w·x + b.
struct LinearSVM {
    /// Per class: (w, b).
    let lines: [(weight: Double, intercept: Double)]
    let classes: [Int]

    init(feature x: [Double], labels: [Int], cost: Double = 0.01) {
        let classes = Array(Set(labels)).sorted()
        self.classes = classes
        let n = Double(labels.count)
        var counts: [Int: Double] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        let classCount = Double(classes.count)
        let counted = counts
        let balance = { (label: Int) in n / (classCount * counted[label]!) }
        if classes.count == 2 {
            // liblinear trains one problem for two classes, each side weighted by its own class weight.
            let line = Self.solve(x, signs: labels.map { $0 == classes[1] ? 1.0 : -1.0 },
                                  costs: labels.map { cost * balance($0) })
            lines = [(-line.weight, -line.intercept), line]
            return
        }
        lines = classes.map { positive in
            let costs = labels.map { $0 == positive ? cost * balance(positive) : cost }
            let signs = labels.map { $0 == positive ? 1.0 : -1.0 }
            return Self.solve(x, signs: signs, costs: costs)
        }
    }

    /// The (w, b) minimising the squared-hinge objective above.
    static func solve(_ x: [Double], signs y: [Double], costs c: [Double]) -> (weight: Double, intercept: Double) {
        func objective(_ w: Double, _ b: Double) -> Double {
            var total = 0.5 * (w * w + b * b)
            for i in x.indices {
                let margin = 1 - y[i] * (w * x[i] + b)
                if margin > 0 { total += c[i] * margin * margin }
            }
            return total
        }
        var (w, b) = (0.0, 0.0)
        var firstGradient = 0.0
        for _ in 0..<100 {
            // Gradient and generalised Hessian over the examples inside the margin.
            var (gw, gb) = (w, b)
            var (hww, hwb, hbb) = (1.0, 0.0, 1.0)
            for i in x.indices {
                let margin = 1 - y[i] * (w * x[i] + b)
                guard margin > 0 else { continue }
                gw -= 2 * c[i] * margin * y[i] * x[i]
                gb -= 2 * c[i] * margin * y[i]
                hww += 2 * c[i] * x[i] * x[i]
                hwb += 2 * c[i] * x[i]
                hbb += 2 * c[i]
            }
            let norm = (gw * gw + gb * gb).squareRoot()
            if firstGradient == 0 { firstGradient = max(norm, 1e-300) }
            if norm <= 1e-9 * firstGradient { break }
            let determinant = hww * hbb - hwb * hwb
            var (dw, db) = (-(hbb * gw - hwb * gb) / determinant, -(hww * gb - hwb * gw) / determinant)
            let start = objective(w, b)
            var step = 1.0
            while objective(w + step * dw, b + step * db) > start + 1e-4 * step * (gw * dw + gb * db) && step > 1e-12 {
                step *= 0.5
            }
            dw *= step
            db *= step
            (w, b) = (w + dw, b + db)
            if abs(dw) + abs(db) < 1e-15 { break }
        }
        return (w, b)
    }

    func predict(_ value: Double) -> Int {
        classes[lines.indices.max { lines[$0].weight * value + lines[$0].intercept < lines[$1].weight * value + lines[$1].intercept }!]
    }

    func accuracy(_ x: [Double], _ labels: [Int]) -> Double {
        Double(zip(x, labels).filter { predict($0) == $1 }.count) / Double(max(labels.count, 1))
    }
}
