import Foundation
import VAEDistributions
import VAETensor

/// β-TCVAE (Chen et al. 2018): the ELBO's KL split into index-code mutual information, total correlation and
/// dimension-wise KL, weighted α, β, γ:
///
///     loss = −log p(x|z) + α·(log q(z|x) − log q(z)) + β·(log q(z) − Σ_k log q(z_k)) + γ·(Σ_k log q(z_k) − log p(z))
///
/// averaged over the batch at one draw z ~ q(z|x) per row. The aggregate posterior's densities log q(z) and
/// log q(z_k) are estimated from the batch: with minibatch-weighted sampling (`tc_sampling: mws`),
/// log q(z_i) ≈ logsumexp_j log q(z_i|x_j) − log(N·M) for M rows drawn from N training examples; with minibatch-
/// stratified sampling (`mss`, their appendix C), each pair's term is weighted by the stratified importance weights
/// (1/N for the row itself, (N − M + 1)/(N·(M − 1)) for the next row, cyclically, and 1/(M − 1) for the others:
/// each row's weights sum to 1). N is
/// `dataset_size`, the trainer's training-set size when 0. The three terms add up to the one-sample KL. Logs
/// `mutual_information`, `total_correlation` and `dimension_wise_kl`. The estimate couples the rows of a batch, so
/// the batch is not split into data-parallel shards.
public struct TotalCorrelationObjective: Objective {
    public enum Sampling: String, CaseIterable, Sendable { case mws, mss }

    public var alpha: Float
    public var beta: Float
    public var gamma: Float
    public var sampling: Sampling
    public var datasetSize: Int

    public init(alpha: Float, beta: Float, gamma: Float, sampling: Sampling, datasetSize: Int) {
        (self.alpha, self.beta, self.gamma, self.sampling, self.datasetSize) = (alpha, beta, gamma, sampling, datasetSize)
    }

    public var splitsOverRows: Bool { false }

    /// log w_ij of the estimator, `[M, M]`: row i's weights over the batch's posteriors j, placed beside `other`
    /// (on a device, made once per batch size).
    func logWeights(batch: Int, beside other: Tensor) -> Tensor {
        Tensor.constant("β-TCVAE log weights \(sampling) \(batch) \(datasetSize)", beside: other) { logWeights(batch: batch) }
    }

    func logWeights(batch: Int) -> Tensor {
        let (m, n) = (Double(batch), Double(max(datasetSize, batch)))
        guard sampling == .mss && batch > 2 else {
            return Tensor(repeating: Float(-Foundation.log(n * m)), shape: [batch, batch])
        }
        let strata = m - 1
        let stratified = Float(Foundation.log((n - strata) / (n * strata)))
        var weights = [Float](repeating: Float(-Foundation.log(strata)), count: batch * batch)
        for i in 0..<batch {
            weights[i * batch + i] = Float(-Foundation.log(n))
            weights[i * batch + (i + 1) % batch] = stratified
        }
        return Tensor(shape: [batch, batch], scalars: weights)
    }

    /// The three terms per row `[M]` for codes `z` drawn from `posterior` (`[M, d]` each).
    public func decomposition(_ posterior: DiagonalNormal, draw z: Tensor)
        -> (mutualInformation: Tensor, totalCorrelation: Tensor, dimensionWiseKL: Tensor) {
        let (rows, width) = (z.shape[0], z.shape[1])
        // log q(z_ik | x_j) for every pair: [M, M, d].
        let pairs = gaussianLogDensityPerCoordinate(z.reshaped([rows, 1, width]), mean: posterior.mean.reshaped([1, rows, width]),
                                                    logVariance: posterior.logVariance.reshaped([1, rows, width]))
        let weights = logWeights(batch: rows, beside: z).reshaped([rows, rows, 1])
        let logQ = (pairs.sum(alongAxis: 2, keepingDimension: true) + weights).logSumExp(alongAxis: 1).reshaped([rows])
        let logMarginals = (pairs + weights).logSumExp(alongAxis: 1).sum(alongAxis: 1)
        let logPosterior = posterior.logProbability(z)
        let logPrior = DiagonalNormal.standardLogProbability(z)
        return (logPosterior - logQ, logQ - logMarginals, logMarginals - logPrior)
    }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let (posterior, z, reconstruction) = model.gaussianDraw(input, context: context)
        let (information, correlation, dimensionWise) = decomposition(posterior, draw: z)
        let (mi, tc, dwkl) = (information.mean(), correlation.mean(), dimensionWise.mean())
        return LossTerms(total: reconstruction + mi * alpha + tc * beta + dwkl * gamma,
                         terms: [("reconstruction", reconstruction), ("kl", mi + tc + dwkl), ("mutual_information", mi),
                                 ("total_correlation", tc), ("dimension_wise_kl", dwkl)])
    }
}

extension TotalCorrelationObjective {
    public static let alphaSetting = Setting<Double>(
        "tc_alpha", default: 1, .numbers(atLeast: 0), doc: "weight α of the index-code mutual information")
    public static let betaSetting = Setting<Double>(
        "tc_beta", default: 6, .numbers(atLeast: 0), doc: "weight β of the total correlation")
    public static let gammaSetting = Setting<Double>(
        "tc_gamma", default: 1, .numbers(atLeast: 0), doc: "weight γ of the dimension-wise KL")
    public static let samplingSetting = Setting<String>(
        "tc_sampling", default: Sampling.mws.rawValue, .oneOf(Sampling.allCases.map(\.rawValue)),
        doc: "estimator of q(z): minibatch-weighted (mws) or minibatch-stratified (mss) sampling")
    public static let datasetSizeSetting = Setting<Int>(
        "dataset_size", default: 0, .integers(0...Int(Int32.max)),
        doc: "N, the number of training examples the batches are drawn from (0: the training set's, filled in by the trainer)")

    public static let part = ObjectivePart(settings: [alphaSetting, betaSetting, gammaSetting].map(\.declaration)
                                           + [samplingSetting.declaration, datasetSizeSetting.declaration]) { specification in
        TotalCorrelationObjective(alpha: Float(specification[alphaSetting]), beta: Float(specification[betaSetting]),
                                  gamma: Float(specification[gammaSetting]),
                                  sampling: Sampling(rawValue: specification[samplingSetting]) ?? .mws,
                                  datasetSize: specification[datasetSizeSetting])
    }
}
