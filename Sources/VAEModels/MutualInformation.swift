import Foundation
import VAEDistributions
import VAETensor

/// He et al. 2019's estimate of the mutual information between data and codes under the encoder, I_q(x; z) =
/// E_x E_q(z|x)[log q(z|x)] − E_q(z)[log q(z)], where q(z) is the mixture of the N rows' posteriors: the first
/// term in closed form (minus the posteriors' mean entropy), the second from one draw z_i ~ q(z|x_i) per row,
/// log q(z_i) = log (1/N) Σ_j q(z_i|x_j). At most log N nats; 0 when every row's posterior is the same.
public enum MutualInformation {
    public static func estimate(_ posterior: DiagonalNormal, noise: inout RandomStream) -> Double {
        let (count, dimensions) = (posterior.mean.shape[0], posterior.mean.shape[1])
        guard count > 0, dimensions > 0 else { return 0 }
        let means = posterior.mean.scalars.map(Double.init), logVariances = posterior.logVariance.scalars.map(Double.init)
        let draws = posterior.sample(using: &noise).scalars.map(Double.init)
        let logTwoPi = Foundation.log(2 * Double.pi)
        let negativeEntropy = logVariances.reduce(0) { $0 - 0.5 * (1 + logTwoPi + $1) } / Double(count)
        let precisions = logVariances.map { Foundation.exp(-$0) }
        // −½ Σ_d (log 2π + log σ²) of each row j, the part of log q(z|x_j) that does not depend on z.
        let offsets = (0..<count).map { row in
            (0..<dimensions).reduce(0.0) { $0 - 0.5 * (logTwoPi + logVariances[row * dimensions + $1]) }
        }
        var logAggregate = 0.0
        var terms = [Double](repeating: 0, count: count)
        for i in 0..<count {
            for j in 0..<count {
                var sum = offsets[j]
                for d in 0..<dimensions {
                    let difference = draws[i * dimensions + d] - means[j * dimensions + d]
                    sum -= 0.5 * difference * difference * precisions[j * dimensions + d]
                }
                terms[j] = sum
            }
            let largest = terms.max()!
            logAggregate += largest + Foundation.log(terms.reduce(0) { $0 + Foundation.exp($1 - largest) }) - Foundation.log(Double(count))
        }
        return negativeEntropy - logAggregate / Double(count)
    }
}
