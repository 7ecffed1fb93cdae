import XCTest
import VAEData
import VAEModels
import VAETensor
@testable import VAETraining

final class BenchmarkTests: XCTestCase {
    /// The mlp model (784-400-20, decoder 20-400-784): a forward pass on B rows multiplies B×784·784×400,
    /// B×400·400×20 twice (mean and log-variance heads), B×20·20×400 and B×400·400×784, 2 FLOPs per multiply-add.
    func testMLPForwardFLOPsMatchHandCount() throws {
        let config = try ConfigLoader.load("mlp")
        let model = try Factory.model(config, inputShape: [1, 28, 28])
        let batch = 128
        XCTAssertEqual(Benchmark.forwardFLOPs(model, batch: batch), Self.mlpForwardFLOPs)
    }

    /// A dSprites config is timed on 64×64 single-channel inputs (its data), not the IDX default.
    func testDSpritesConfigsAreTimedAtTheirShape() throws {
        var config = try ConfigLoader.load("beta-vae")
        config.data.dataset = "dsprites"
        XCTAssertEqual(Benchmark.inputShape(config), [1, 64, 64])
        XCTAssertEqual(Benchmark.inputShape(try ConfigLoader.load("mlp")), [1, 28, 28])
    }

    /// A text config is timed on rows of max_length + 1 token ids: synthetic sentences of known words, each ending
    /// in <eos> and padded, with the vocabulary of max_vocabulary words (a run takes it from its data).
    func testTextConfigsAreTimedOnSyntheticSentences() throws {
        var config = try ConfigLoader.load("sentence-vae")
        config.data.maximumVocabulary = 300
        XCTAssertEqual(Benchmark.inputShape(config), [41])
        let resolved = Benchmark.resolved(config)
        let model = try Factory.model(resolved, inputShape: Benchmark.inputShape(resolved))
        var random = RandomStream(seed: 1, name: "bench-data")
        let rows = Benchmark.syntheticExamples(50, model: model, config: resolved, random: &random)
        XCTAssertEqual(rows.shape, [50, 41])
        for row in 0..<50 {
            let ids = rows.scalars[(row * 41)..<((row + 1) * 41)].map { Int($0) }
            let end = try XCTUnwrap(ids.firstIndex(of: Vocabulary.end), "row \(row) has no <eos>")
            XCTAssertTrue((1...20).contains(end), "row \(row): \(end) words")
            XCTAssertTrue(ids[..<end].allSatisfy { (Vocabulary.end + 1)..<300 ~= $0 }, "row \(row): \(ids)")
            XCTAssertTrue(ids[(end + 1)...].allSatisfy { $0 == Vocabulary.padding })
        }
        var options = twoSteps(threads: 1)
        (options.evaluationImages, options.importanceImages, options.timeModelShapes) = (4, 2, false)
        options.importanceSamples = 3
        let report = try Benchmark.run(config: config, options: options)
        XCTAssertEqual(report.inputShape, [41])
        XCTAssertEqual(report.parameters, model.parameterCount)
        XCTAssertGreaterThan(report.trainingFLOPsPerStep, 0)
        XCTAssertNotNil(report.importanceImagesPerSecond)
        XCTAssertEqual(report.examples, "sentences")
        XCTAssertTrue(report.lines.contains { $0.contains("sentences/s") }, "\(report.lines)")
    }

    /// A conditional config (class_count 0: a run counts its data's labels) is timed with Fashion-MNIST's 10
    /// classes and a label per row, whole and in shards.
    func testConditionalConfigsAreTimedWithLabels() throws {
        let config = try ConfigLoader.load("cvae")
        XCTAssertEqual(Benchmark.resolved(config).model[ComposedVAE.classCount], 10)
        XCTAssertEqual(Benchmark.resolved(try ConfigLoader.load("mlp")).model[ComposedVAE.classCount], 0)
        for threads in [1, 2] {
            var options = twoSteps(threads: threads)
            options.shards = threads
            let report = try Benchmark.run(config: config, options: options)
            XCTAssertGreaterThan(report.trainingFLOPsPerStep, 0)
            XCTAssertEqual(report.parameters, try Factory.model(Benchmark.resolved(config), inputShape: [1, 28, 28]).parameterCount)
        }
    }

    /// A direct convolution's multiply-adds count as FLOPs beside the GEMMs': a 3-channel stride-1 layer on 8 images.
    func testDirectConvolutionFLOPsAreCounted() {
        let recorder = GEMMRecorder()
        let input = Tensor.zeros([8, 5, 6, 7]), weight = Tensor.zeros([3, 5, 3, 3])
        _ = recorder.recording { input.conv2d(weight: weight, bias: nil, geometry: ConvolutionGeometry(kernelSize: 3, padding: 1)) }
        XCTAssertEqual(recorder.directFLOPs, 2 * Double(8 * 3 * 5 * 9 * 6 * 7))
        XCTAssertEqual(recorder.gemmFLOPs, 0)
        XCTAssertEqual(recorder.flops, recorder.directFLOPs)
    }

    /// The hand count above for a batch of 128.
    static let mlpForwardFLOPs = 2.0 * 128 * Double(784 * 400 + 2 * 400 * 20 + 20 * 400 + 400 * 784)
    /// Backward skips the input gradient of the first layer: 3 × forward minus one 128×400·400×784 product.
    static let recordedMLPFLOPs = 3 * mlpForwardFLOPs - 2 * 128 * 400 * 784

    /// Two timed steps after one warm-up step, on `threads` threads.
    func twoSteps(threads: Int) -> BenchmarkOptions {
        var options = BenchmarkOptions()
        options.steps = 2
        options.warmUpSteps = 1
        options.threads = threads
        return options
    }

    func testBenchRunsTwoSteps() throws {
        var options = twoSteps(threads: 1)
        options.evaluationImages = 20
        options.importanceSamples = 50
        options.importanceImages = 2
        options.timeModelShapes = true
        let report = try Benchmark.run(config: try ConfigLoader.load("mlp"), options: options)
        XCTAssertEqual(report.steps, 2)
        XCTAssertEqual(report.trainingFLOPsPerStep, 3 * 166_707_200)
        XCTAssertEqual(report.recordedTrainingFLOPsPerStep, Self.recordedMLPFLOPs)
        XCTAssertGreaterThan(report.trainingImagesPerSecond, 0)
        // The optimiser's share is a part of the step, not all of it.
        XCTAssertGreaterThan(report.optimizerMillisecondsPerStep, 0)
        XCTAssertLessThan(report.optimizerMillisecondsPerStep, report.millisecondsPerStep)
        XCTAssertGreaterThan(report.peakGFLOPsPerSecond, 0)
        XCTAssertGreaterThan(report.fractionOfPeak, 0)
        XCTAssertFalse(report.gemmTimings.isEmpty)
        XCTAssertNotNil(report.importanceImagesPerSecond)
        XCTAssertGreaterThan(report.peakResidentMiB, 1)
    }

    /// A sharded step is compared with its own products: one shard's shapes (64 of the 128 rows), timed on every
    /// shard's core at once — not the whole batch's shapes on a threaded BLAS.
    func testShardedBenchTimesOneShardsShapes() throws {
        var options = twoSteps(threads: 2)
        options.evaluationImages = 0
        options.importanceSamples = 0
        options.shards = 2
        let report = try Benchmark.run(config: try ConfigLoader.load("mlp"), options: options)
        XCTAssertEqual(report.shards, 2)
        let shapes = report.gemmTimings.map(\.shape)
        XCTAssertTrue(shapes.contains("64×784·784×400ᵀ"), "\(shapes)")
        XCTAssertFalse(shapes.contains { $0.hasPrefix("128×") }, "\(shapes)")
        // The whole batch's FLOPs are still what the step issued.
        XCTAssertEqual(report.recordedTrainingFLOPsPerStep, Self.recordedMLPFLOPs)
        XCTAssertGreaterThan(report.modelShapesGFLOPsPerSecond ?? 0, 0)
        XCTAssertTrue(report.lines.contains { $0.contains("one shard's shapes on each of 2 cores at once") })
    }
}
