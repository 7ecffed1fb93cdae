import Foundation
import TestSupport
import Testing
import VAETensor
@testable import VAETraining

extension ModelComputation {
    /// Test-set numbers for a small model trained for one epoch on 1000 images, evaluated on 300 test images.
    @Suite(.serialized, .enabled(if: hasFashionMNIST, "needs Fashion-MNIST in /usr/share/datasets/fashion-mnist"))
    struct EvaluatorTests {
        private func trainedModel() throws -> Trainer {
            let config = smallConfig(trainLimit: 1000, testLimit: 300, epochs: 1, seed: 5)
            let trainer = try Trainer(config: config)
            let directory = try makeTemporaryDirectory("evaluator")
            defer { removeDirectory(directory) }
            try trainer.run(in: directory, report: { _ in })
            return trainer
        }

        @Test func importanceSampledNLLAgainstTheELBO() throws {
            let trainer = try trainedModel()
            let images = trainer.testImages
            try #require(images.shape == [300, 784])
            let evaluator = Evaluator(model: trainer.model, batchSize: 128)

            var elboNoise = RandomStream(seed: 1, name: "elbo")
            let elbo = evaluator.negativeELBO(images, noise: &elboNoise)
            #expect(abs(elbo.total - (elbo.reconstruction + elbo.kl)) < 1e-6 * elbo.total)
            #expect(elbo.kl > 0)

            // With k = 1 the importance-weighted bound is the ELBO with a Monte Carlo KL instead of the closed form:
            // both are unbiased estimates of the same mean, and over 300 images their means agree within about a
            // nat (the one-sample noise per image is a few nats). 4 nats (about 1% of the value) is generous, yet a
            // wrong sign or a missing term in either (the KL alone is ~15 nats) is caught.
            var singleNoise = RandomStream(seed: 2, name: "single")
            let singleSample = evaluator.negativeLogLikelihood(images, samples: 1, noise: &singleNoise)
            #expect(abs(singleSample - elbo.total) < 4, "k=1 NLL \(singleSample) vs −ELBO \(elbo.total)")

            // k = 500 is a much tighter bound: ~20 nats below the ELBO after one epoch, far more than the ~1 nat noise.
            var manyNoise = RandomStream(seed: 3, name: "many")
            let many = evaluator.negativeLogLikelihood(images, samples: 500, noise: &manyNoise)
            #expect(many <= elbo.total, "k=500 NLL \(many) vs −ELBO \(elbo.total)")
            #expect(many < singleSample)
            #expect((100...600).contains(many), "an NLL estimate of \(many) nats is implausible for Fashion-MNIST")

            // Chunking must not change the estimate: 200-sample pieces of the same draws, concatenated per image,
            // give the same bound as one 500-sample piece (the path `vae eval` takes for its default k = 5000).
            var chunkedNoise = RandomStream(seed: 3, name: "many")
            let chunked = evaluator.negativeLogLikelihood(images, samples: 500, noise: &chunkedNoise, chunk: 200)
            #expect(abs(chunked - many) < 1e-3, "chunked \(chunked) vs whole \(many)")

            // Nor do the thread count and the batch size: image i's noise is the same for any split, so the numbers
            // differ only by rounding (a different noise draw moves them by ~0.1 nat here) and the streams end alike.
            for (threads, batchSize, chunk) in [(1, 50, 700), (2, 300, 2048), (3, 7, 1000)] {
                let other = Evaluator(model: trainer.model, batchSize: batchSize, threads: threads)
                var otherElboNoise = RandomStream(seed: 1, name: "elbo")
                let otherElbo = other.negativeELBO(images, noise: &otherElboNoise)
                #expect(abs(otherElbo.total - elbo.total) < 1e-5 * elbo.total, "threads \(threads): \(otherElbo.total) vs \(elbo.total)")
                #expect(otherElboNoise == elboNoise)
                var otherManyNoise = RandomStream(seed: 3, name: "many")
                let otherMany = other.negativeLogLikelihood(images, samples: 500, noise: &otherManyNoise, chunk: chunk)
                #expect(abs(otherMany - many) < 1e-5 * many, "threads \(threads): \(otherMany) vs \(many)")
                #expect(otherManyNoise == manyNoise)
            }
        }

        @Test func reportIsConsistent() throws {
            let trainer = try trainedModel()
            let images = trainer.testImages
            let evaluator = Evaluator(model: trainer.model, batchSize: 100)
            var progressCalls: [Int] = []
            let report = evaluator.report(images, importanceSamples: 50, seed: 9, progress: { progressCalls.append($0) })

            #expect(report.images == 300)
            #expect(report.importanceSamples == 50)
            let nll = try #require(report.negativeLogLikelihood)
            let bits = try #require(report.bitsPerDimension)
            #expect(abs(bits - nll / (784 * Foundation.log(2.0))) < 1e-12)
            #expect(nll <= report.negativeELBO + 1, "k=50 NLL \(nll) vs −ELBO \(report.negativeELBO)")
            #expect(abs(report.negativeELBO - (report.reconstruction + report.kl)) < 1e-6 * report.negativeELBO)

            #expect(report.klPerDimension.count == trainer.model.latentSize)
            #expect(report.klPerDimension.allSatisfy { $0 >= 0 })
            #expect((0...trainer.model.latentSize).contains(report.activeUnits))
            #expect(report.activeUnits > 0, "a trained VAE uses some of its latent code")
            // The KL term of the ELBO is the closed form, so it equals the per-dimension KLs summed.
            let summed = report.klPerDimension.reduce(0, +)
            #expect(abs(summed - report.kl) < 1e-3 * report.kl, "Σ KL per dimension \(summed) vs KL \(report.kl)")
            #expect(progressCalls.last == 300)
            #expect(progressCalls == progressCalls.sorted())

            // The same seed gives the same report (timing aside); k = 0 skips the NLL.
            var again = evaluator.report(images, importanceSamples: 50, seed: 9)
            again.seconds = report.seconds
            #expect(again == report)
            let withoutNLL = evaluator.report(images, importanceSamples: 0, seed: 9)
            #expect(withoutNLL.negativeLogLikelihood == nil && withoutNLL.bitsPerDimension == nil
                    && withoutNLL.importanceSamples == nil)
            #expect(withoutNLL.negativeELBO == report.negativeELBO)
        }

        /// Active units count dimensions whose posterior mean varies across images: the same image repeated moves none.
        @Test func activeUnitsOfIdenticalImagesIsZero() throws {
            let trainer = try trainedModel()
            let one = trainer.testImages.slice(0..<1)
            let repeated = Tensor(shape: [50, 784], scalars: Array((0..<50).map { _ in one.scalars }.joined()))
            let statistics = Evaluator(model: trainer.model).latentStatistics(repeated)
            #expect(statistics.activeUnits == 0)
            #expect(statistics.klPerDimension.count == 20)
        }
    }
}
