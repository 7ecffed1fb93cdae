import ArgumentParser
import Foundation
import VAEData
import VAEFormats
import VAETensor
import VAETraining

struct Disentanglement: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disentanglement",
        abstract: "Disentanglement scores of a run trained on dSprites: the mutual information gap, the FactorVAE, BetaVAE, SAP and DCI scores (disentanglement_lib's protocols).")

    @Argument(help: "A run directory written by `vae train` with data_params.dataset: dsprites.")
    var runDirectory: String
    @Option(parsing: .unconditional, help: "Points for the MIG and for the FactorVAE score's variances (10000 in disentanglement_lib).")
    var points = 10_000
    @Option(parsing: .unconditional, help: "Training votes of the FactorVAE score's classifier and training points of the BetaVAE, SAP and DCI scores' classifiers; half as many evaluate each (10000 in disentanglement_lib).")
    var votes = 10_000
    @Option(parsing: .unconditional, help: "Seed of the factor draws.")
    var seed = 0
    @Flag(help: "Print the scores as JSON.")
    var json = false
    @Option(help: ArgumentHelp("Instead of scoring, write FILE (CSV) with --votes + --votes/2 points drawn the way the DCI score draws its own (from the same seed's stream, not the score's very points): the factors, then the encoder's mean code; to check a score with another implementation (benchmarks/dci_trees.py computes DCI with scikit-learn's gradient-boosted trees, as disentanglement_lib).", valueName: "FILE"))
    var exportPoints: String?

    func validate() throws {
        if points < 2 { throw ValidationError("--points must be 2 or more, got \(points)") }
        if votes < 1 { throw ValidationError("--votes must be 1 or more, got \(votes)") }
        if seed < 0 { throw ValidationError("--seed must be 0 or greater, got \(seed)") }
    }

    func run() throws {
        try reportingErrors {
            let run = try TrainedRun(directory: runDirectory)
            BLAS.setThreadCount(run.config.trainer.threads)
            let probe = try FactorProbe.dSprites(run)
            var random = RandomStream(seed: UInt64(seed), name: "disentanglement")
            if let exportPoints {
                let drawn = DisentanglementScores.points(probe, votes + votes / 2, random: &random)
                let width = drawn.codes.first?.count ?? 0
                var lines = [(DSprites.factorNames + (0..<width).map { "code_\($0)" }).joined(separator: ",")]
                for (factors, code) in zip(drawn.factors, drawn.codes) {
                    lines.append((factors.map(String.init) + code.map { String(Float($0)) }).joined(separator: ","))
                }
                try RunDirectory.write(lines.joined(separator: "\n") + "\n", to: exportPoints)
                print("wrote \(exportPoints): \(drawn.factors.count) points (the first \(votes) for training, the rest for testing)")
                return
            }
            let started = Date()
            let mig = DisentanglementScores.mutualInformationGap(probe, points: points, random: &random)
            let factorScore = DisentanglementScores.factorVAEScore(probe, trainVotes: votes, evaluationVotes: votes / 2,
                                                                   varianceSamples: points, random: &random)
            let betaScore = DisentanglementScores.betaVAEScore(probe, trainPoints: votes, evaluationPoints: votes / 2, random: &random)
            let sap = DisentanglementScores.separatedAttributePredictability(probe, trainPoints: votes, testPoints: votes / 2,
                                                                             random: &random).score
            let dci = DisentanglementScores.disentanglementCompletenessInformativeness(probe, trainPoints: votes,
                                                                                      testPoints: votes / 2, random: &random)
            let seconds = Date().timeIntervalSince(started)
            if json {
                let report: [String: Double] = ["mutual_information_gap": mig, "factor_vae_score": factorScore,
                                               "beta_vae_score": betaScore, "sap_score": sap,
                                               "dci_disentanglement": dci.disentanglement, "dci_completeness": dci.completeness,
                                               "dci_informativeness": dci.informativeness, "seconds": seconds]
                print(try JSONOutput.encode(report))
            } else {
                print(String(format: "mutual information gap  %.4f  (%d points)", mig, points))
                print(String(format: "FactorVAE score         %.4f  (%d + %d votes of 64 images)", factorScore, votes, votes / 2))
                print(String(format: "BetaVAE score           %.4f  (%d + %d points of 64 pairs)", betaScore, votes, votes / 2))
                print(String(format: "SAP score               %.4f  (linear SVM per code and factor, %d + %d points)", sap, votes, votes / 2))
                print(String(format: "DCI                     disentanglement %.4f, completeness %.4f, informativeness %.4f  (gradient-boosted trees, %d + %d points)",
                             dci.disentanglement, dci.completeness, dci.informativeness, votes, votes / 2))
            }
        }
    }
}
