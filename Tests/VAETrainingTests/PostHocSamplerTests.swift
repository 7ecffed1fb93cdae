import Foundation
import Testing
import TestSupport
import VAEModels
import VAETensor
@testable import VAETraining

extension ModelComputation {
    @Suite struct PostHocSamplerTests {
        @Test(.enabled(if: hasFashionMNIST)) func gmmIsFittedOnceSavedAndReused() throws {
            var config = smallConfig(trainLimit: 600, testLimit: 100, epochs: 1, seed: 3)
            config.model[NetworkSettings.hiddenSizes] = [32]
            config.model[GaussianLatent.latentSize] = 4
            let (_, directory, _) = try trainRun(config, label: "gmm")
            defer { removeDirectory(directory) }
            let run = try TrainedRun(directory: directory)
            var reports: [String] = []
            let first = try PostHocSampler.gmm.latents(run, count: 50, seed: 1, report: { reports.append($0) })
            #expect(reports.count == 1 && reports[0].contains("600 posterior means"), "\(reports)")
            #expect(FileManager.default.fileExists(atPath: directory + "/" + PostHocSampler.gmmFile))
            let again = try PostHocSampler.gmm.latents(run, count: 50, seed: 1, report: { reports.append($0) })
            #expect(reports.count == 1, "the saved mixture is reused, not fitted again")
            #expect(first.scalars == again.scalars)
            #expect(first.shape == [50, 4])
            let prior = try PostHocSampler.normal.latents(run, count: 50, seed: 1)
            #expect(prior.scalars != first.scalars)
            // A damaged file is an error that names it.
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/" + PostHocSampler.gmmFile))
            let error = #expect(throws: (any Error).self) { try PostHocSampler.gmm.latents(run, count: 5, seed: 1) }
            #expect(String(describing: error!).contains(PostHocSampler.gmmFile))

            // Two-stage: a second VAE on the codes, a run directory of its own, trained once.
            var lines: [String] = []
            let twoStage = try PostHocSampler.twoStage.latents(run, count: 50, seed: 1, report: { lines.append($0) })
            #expect(twoStage.shape == [50, 4] && twoStage.isFinite)
            #expect(lines.filter { $0.hasPrefix("epoch ") }.count == PostHocSampler.twoStageEpochs)
            let second = try TrainedRun(directory: directory + "/" + PostHocSampler.twoStageFolder)
            #expect(second.state.inputShape == [4])
            let (_, rows) = try readMetrics(directory + "/" + PostHocSampler.twoStageFolder)
            let losses = try rows.map { try number($0, "test_loss") }
            #expect(losses.last! < losses.first!, "the second stage learns: \(losses)")
            let reused = try PostHocSampler.twoStage.latents(run, count: 50, seed: 1, report: { lines.append($0) })
            #expect(reused.scalars == twoStage.scalars)
            #expect(lines.filter { $0.hasPrefix("epoch ") }.count == PostHocSampler.twoStageEpochs, "not trained again")
        }
    }
}
