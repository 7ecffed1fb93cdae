import VAETensor

extension VariationalAutoencoder {
    /// KL per latent dimension (mean over the rows of `inputs`) and the number of active units: dimensions whose
    /// posterior mean varies across the data, Cov_x(E_q[z_u]) > 0.01 (Burda et al. 2016). Computed `batchSize` rows
    /// at a time without gradients; `labels` (one per row) condition a conditional model.
    public func latentStatistics(_ inputs: Tensor, labels: [Int] = [], batchSize: Int = 1000)
    -> (klPerDimension: [Double], activeUnits: Int) {
        let count = inputs.shape[0]
        let latent = latentSize
        var klSums = [Double](repeating: 0, count: latent)
        var meanSums = [Double](repeating: 0, count: latent)
        var meanSquares = [Double](repeating: 0, count: latent)
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let range = start..<min(start + batchSize, count)
                let summary = bound(labels.count >= range.upperBound ? labels[range] : nil).latentSummary(inputs.slice(range))
                let (means, kls) = (summary.code.scalars, summary.klPerDimension.scalars)
                for index in means.indices {
                    let (dimension, mu) = (index % latent, Double(means[index]))
                    klSums[dimension] += Double(kls[index])
                    meanSums[dimension] += mu
                    meanSquares[dimension] += mu * mu
                }
            }
        }
        let n = Double(max(count, 1))
        let active = (0..<latent).filter { meanSquares[$0] / n - (meanSums[$0] / n) * (meanSums[$0] / n) > 0.01 }.count
        return (klSums.map { $0 / n }, active)
    }
}
