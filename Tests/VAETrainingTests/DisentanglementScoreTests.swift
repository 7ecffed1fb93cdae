import Foundation
import Testing
import VAETensor
@testable import VAETraining

/// The scores on representations with known answers: the factors themselves (a perfectly disentangled code), a
/// code that mixes them, and noise.
@Suite struct DisentanglementScoreTests {
    static let sizes = [3, 6, 10, 8]

    /// Codes `[rows, 4 + extra]`: each factor's value (scaled to [0, 1]) in its own dimension, then `extra` dimensions
    /// of noise from `random`.
    static func factorCodes(_ rows: [[Int]], extra: Int, noise: Double, random: inout RandomStream) -> Tensor {
        var scalars: [Float] = []
        for row in rows {
            let draws = random.normal(shape: [sizes.count + extra]).scalars
            for (factor, value) in row.enumerated() { scalars.append(Float(Double(value) / Double(sizes[factor] - 1)) + Float(noise) * draws[factor]) }
            for extraIndex in 0..<extra { scalars.append(draws[sizes.count + extraIndex]) }
        }
        return Tensor(shape: [rows.count, sizes.count + extra], scalars: scalars)
    }

    @Test func theFactorsThemselvesScoreOne() {
        var codesRandom = RandomStream(seed: 1, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in Self.factorCodes(rows, extra: 0, noise: 0, random: &codesRandom) }
        var random = RandomStream(seed: 2, name: "score")
        let mig = DisentanglementScores.mutualInformationGap(probe, points: 5000, random: &random)
        #expect(mig > 0.95, "MIG \(mig)")
        let factorScore = DisentanglementScores.factorVAEScore(probe, trainVotes: 500, evaluationVotes: 300, varianceSamples: 2000,
                                                               random: &random)
        #expect(factorScore == 1, "FactorVAE score \(factorScore)")
        let betaScore = DisentanglementScores.betaVAEScore(probe, trainPoints: 300, evaluationPoints: 200, batchSize: 16, random: &random)
        #expect(betaScore > 0.95, "BetaVAE score \(betaScore)")
    }

    /// Noise alone: no information (MIG near 0) and chance voting (1 in 4 factors).
    @Test func noiseScoresNearZeroOrChance() {
        var codesRandom = RandomStream(seed: 3, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in
            codesRandom.normal(shape: [rows.count, 6])
        }
        var random = RandomStream(seed: 4, name: "score")
        let mig = DisentanglementScores.mutualInformationGap(probe, points: 5000, random: &random)
        #expect(mig < 0.05, "MIG \(mig)")
        let factorScore = DisentanglementScores.factorVAEScore(probe, trainVotes: 500, evaluationVotes: 400, varianceSamples: 2000,
                                                               random: &random)
        #expect(factorScore < 0.4, "FactorVAE score \(factorScore)")
        let betaScore = DisentanglementScores.betaVAEScore(probe, trainPoints: 300, evaluationPoints: 200, batchSize: 16, random: &random)
        #expect(betaScore < 0.45, "BetaVAE score \(betaScore) (chance 0.25)")
    }

    /// A code whose every dimension mixes two factors equally: MIG falls well below 1 (each factor's information is
    /// shared by two dimensions).
    @Test func mixedCodesScoreLower() {
        var codesRandom = RandomStream(seed: 5, name: "codes")
        let probe = FactorProbe(sizes: Self.sizes) { rows in
            let codes = Self.factorCodes(rows, extra: 0, noise: 0, random: &codesRandom).scalars
            var mixed: [Float] = []
            for row in 0..<rows.count {
                let c = Array(codes[row * 4..<row * 4 + 4])
                mixed += [c[0] + c[1], c[0] - c[1], c[2] + c[3], c[2] - c[3]]
            }
            return Tensor(shape: [rows.count, 4], scalars: mixed)
        }
        var random = RandomStream(seed: 6, name: "score")
        let mig = DisentanglementScores.mutualInformationGap(probe, points: 5000, random: &random)
        #expect(mig < 0.6, "MIG \(mig)")
    }

    @Test func mutualInformationAndEntropyMatchTheirDefinitions() {
        // A fair coin's entropy is log 2; a copy of it carries all of it; an independent coin none.
        let coin = (0..<1000).map { $0 % 2 }, other = (0..<1000).map { ($0 / 2) % 2 }
        #expect(abs(DisentanglementScores.mutualInformation(coin, coin) - log(2)) < 1e-12)
        #expect(abs(DisentanglementScores.mutualInformation(coin, other)) < 1e-12)
        #expect(DisentanglementScores.discretise([0, 0.5, 1], bins: 20) == [0, 10, 19])
    }
}
