import VAETensor

/// DIP-VAE (Kumar et al. 2018): the ELBO plus a penalty that pushes the covariance of the aggregate posterior
/// towards the identity, λ_od·Σ_{i≠j} C_ij² + λ_d·Σ_i (C_ii − 1)². DIP-VAE-I (`dip_type: i`) takes C as the
/// covariance of the posterior means over the batch; DIP-VAE-II (`ii`) adds the mean posterior variance to its
/// diagonal (the covariance of q(z) itself). Means are centred over the batch, for each latent dimension. Logs
/// `dip_off_diagonal` and `dip_diagonal` (the unweighted sums). The covariance couples a batch's rows: no
/// data-parallel shards.
public struct DIPObjective: Objective {
    public enum Kind: String, CaseIterable, Sendable { case i, ii }

    public var kind: Kind
    public var offDiagonalWeight: Float
    public var diagonalWeight: Float

    public init(kind: Kind, offDiagonalWeight: Float, diagonalWeight: Float) {
        (self.kind, self.offDiagonalWeight, self.diagonalWeight) = (kind, offDiagonalWeight, diagonalWeight)
    }

    public var splitsOverRows: Bool { false }

    /// The covariance the penalty acts on, `[d, d]`, from the posterior means and log-variances `[M, d]`.
    public func covariance(means: Tensor, logVariances: Tensor) -> Tensor {
        let rows = Float(means.shape[0])
        let centered = means - means.mean(alongAxis: 0, keepingDimension: true)
        let spread = centered.matmul(centered, transposingSelf: true) * (1 / rows)
        guard kind == .ii else { return spread }
        return spread + Tensor.identity(means.shape[1], beside: means) * logVariances.exp().mean(alongAxis: 0, keepingDimension: true)
    }

    /// Σ_{i≠j} C_ij² and Σ_i (C_ii − 1)².
    public func penalties(_ covariance: Tensor) -> (offDiagonal: Tensor, diagonal: Tensor) {
        let width = covariance.shape[0]
        let diagonal = (covariance * Tensor.identity(width, beside: covariance)).sum(alongAxis: 1)
        return ((covariance * Tensor.offDiagonal(width, beside: covariance)).squared().sum(), (diagonal - 1).squared().sum())
    }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let (posterior, z, reconstruction) = model.gaussianDraw(input, context: context)
        let kl = (model.latent as! GaussianLatent).prior.kl(posterior, draw: z).mean()
        let (offDiagonal, diagonal) = penalties(covariance(means: posterior.mean, logVariances: posterior.logVariance))
        return LossTerms(total: reconstruction + kl + offDiagonal * offDiagonalWeight + diagonal * diagonalWeight,
                         terms: [("reconstruction", reconstruction), ("kl", kl), ("dip_off_diagonal", offDiagonal),
                                 ("dip_diagonal", diagonal)])
    }
}

extension DIPObjective {
    public static let kindSetting = Setting<String>(
        "dip_type", default: Kind.i.rawValue, .oneOf(Kind.allCases.map(\.rawValue)),
        doc: "i: the covariance of the posterior means; ii: plus the mean posterior variance on the diagonal")
    public static let offDiagonalSetting = Setting<Double>(
        "lambda_od", default: 10, .numbers(atLeast: 0), doc: "weight λ_od of the squared off-diagonal covariances")
    public static let diagonalSetting = Setting<Double>(
        "lambda_d", default: 100, .numbers(atLeast: 0), doc: "weight λ_d of the squared deviations of the variances from 1")

    public static let part = ObjectivePart(settings: [kindSetting.declaration, offDiagonalSetting.declaration,
                                                      diagonalSetting.declaration]) { specification in
        DIPObjective(kind: Kind(rawValue: specification[kindSetting]) ?? .i,
                     offDiagonalWeight: Float(specification[offDiagonalSetting]),
                     diagonalWeight: Float(specification[diagonalSetting]))
    }
}
