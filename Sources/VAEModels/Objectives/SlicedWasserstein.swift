import Foundation
import VAETensor

/// The sliced p-Wasserstein distance between two samples of equal size (Kolouri et al. 2019), as SWAE compares
/// codes from q(z) with draws from p(z): both are projected on L random unit directions; in one dimension the
/// optimal transport matches sorted values, so the distance is the mean over directions and sorted pairs of
/// |a_(i) − b_(i)|^p. Differentiable in both samples through the sort's permutation.
public struct SlicedWasserstein: Sendable, Equatable {
    /// L.
    public var projections: Int
    /// p.
    public var power: Double

    public init(projections: Int, power: Double) {
        self.projections = projections
        self.power = power
    }

    /// The mean of |sorted projections of a − sorted projections of b|^p over the `[n, d]` rows of `a` and `b`
    /// and L directions drawn from `random` (uniform on the sphere).
    public func callAsFunction(_ a: Tensor, _ b: Tensor, random: inout RandomStream) -> Tensor {
        precondition(a.shape == b.shape && a.rank == 2, "sliced Wasserstein: samples of the same [n, d] shape")
        let (n, d) = (a.shape[0], a.shape[1])
        let directions = Self.unitDirections(count: projections, dimensions: d, random: &random, beside: a)   // [d, L]
        // Projections as rows of one direction each, [L, n]: sort each direction's n values.
        let difference = a.matmul(directions).transposed().sortedWithinRows() - b.matmul(directions).transposed().sortedWithinRows()
        let powered = power == 2 ? difference.squared() : Self.absolutePower(difference, power)
        return powered.sum() * (1 / Float(projections * n))
    }

    /// `count` directions, uniform on the unit sphere in `dimensions` dimensions (normalised Gaussian draws),
    /// as the columns of `[dimensions, count]`, made where `other` lives (on a device, drawn and normalised there).
    static func unitDirections(count: Int, dimensions: Int, random: inout RandomStream, beside other: Tensor) -> Tensor {
        guard let backend = other.backend else { return unitDirections(count: count, dimensions: dimensions, random: &random) }
        let draws = random.normal(shape: [dimensions, count], on: backend)
        let norms = draws.squared().sum(alongAxis: 0, keepingDimension: true).sqrt()
        return draws / ((norms - 1e-12).relu() + 1e-12)
    }

    static func unitDirections(count: Int, dimensions: Int, random: inout RandomStream) -> Tensor {
        var values = random.normal(shape: [dimensions, count]).scalars
        for column in 0..<count {
            let norm = (0..<dimensions).reduce(Float(0)) { $0 + values[$1 * count + column] * values[$1 * count + column] }
                .squareRoot()
            for row in 0..<dimensions { values[row * count + column] /= Swift.max(norm, 1e-12) }
        }
        return Tensor(shape: [dimensions, count], scalars: values)
    }

    /// |x|^p, differentiable (the sign of each x is taken as a constant; for p ≠ 1, 1e-12 keeps log finite at 0).
    static func absolutePower(_ x: Tensor, _ power: Double) -> Tensor {
        let signs = Tensor(shape: x.shape, scalars: x.scalars.map { $0 < 0 ? -1 : 1 })
        return power == 1 ? x * signs : ((x * signs + 1e-12).log() * Float(power)).exp()
    }
}

extension SlicedWasserstein {
    public static let projectionsSetting = Setting<Int>(
        "projections", default: 200, .integers(1...100_000), doc: "random directions L of the sliced Wasserstein distance")
    public static let powerSetting = Setting<Double>(
        "wasserstein_power", default: 2, .numbers(NumberRange(atLeast: 1, below: 11)),
        doc: "p of the sliced p-Wasserstein distance")
    public static let weightSetting = Setting<Double>(
        "sw_weight", default: 100, .numbers(atLeast: 0), doc: "weight λ of the sliced Wasserstein term")

    /// `projections`, `wasserstein_power` and `sw_weight`.
    public static let settings = [projectionsSetting.declaration, powerSetting.declaration, weightSetting.declaration]
}
