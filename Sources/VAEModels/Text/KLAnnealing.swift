import Foundation

/// The weight of the KL term at an optimiser step, the remedies for posterior collapse in sequence VAEs:
/// - `constant`: 1 throughout (the plain ELBO);
/// - `linear(steps)`: min(1, step / steps);
/// - `logistic(k, midpoint)`: 1 / (1 + exp(−k·(step − midpoint))) (Bowman et al. 2016);
/// - `cyclical(cycles, ratio, totalSteps)`: Fu et al. 2019: `totalSteps` cut into `cycles` periods; within each,
///   the weight rises linearly from 0 to 1 over the first `ratio` of the period and stays 1 for the rest.
public enum KLAnnealing: Equatable, Sendable {
    case constant
    case linear(steps: Int)
    case logistic(k: Double, midpoint: Double)
    case cyclical(cycles: Int, ratio: Double, totalSteps: Int)

    public func weight(atStep step: Int) -> Double {
        let step = Double(max(step, 0))
        switch self {
        case .constant:
            return 1
        case .linear(let steps):
            return steps > 0 ? min(1, step / Double(steps)) : 1
        case .logistic(let k, let midpoint):
            return 1 / (1 + Foundation.exp(-k * (step - midpoint)))
        case .cyclical(let cycles, let ratio, let totalSteps):
            guard cycles > 0, totalSteps > 0, ratio > 0 else { return 1 }
            let period = Double(totalSteps) / Double(cycles)
            let position = step.truncatingRemainder(dividingBy: period) / period
            return min(1, position / ratio)
        }
    }
}
