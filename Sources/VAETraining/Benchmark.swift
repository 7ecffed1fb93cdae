import Foundation
import VAEData
import VAEModels
import VAENN
import VAETensor

/// What `vae bench` measures, and how long.
public struct BenchmarkOptions: @unchecked Sendable {
    /// Training batch size (0: the config's).
    public var batchSize = 0
    /// Timed training steps, after `warmUpSteps` untimed ones.
    public var steps = 50
    public var warmUpSteps = 5
    /// Images in the timed −ELBO forward pass (0 skips it).
    public var evaluationImages = 1000
    /// k of the timed IWAE estimate and the images it runs on (either 0 skips it).
    public var importanceSamples = 5000
    public var importanceImages = 10
    /// Decoder rows per pass of the timed IWAE estimate (``Evaluator/importanceChunk``).
    public var importanceChunk = 2048
    /// BLAS threads (0: the config's).
    public var threads = 0
    /// Shards each training batch is split into (0: as the trainer does — see ``BatchGradients`` and
    /// `trainer_params.data_parallel`; 1: the whole batch on one tape with the BLAS threaded).
    public var shards = 0
    /// Also time the model's own sgemm shapes one by one (a few seconds for big models).
    public var timeModelShapes = true
    /// The device to train and evaluate on (the CLI's `--device cuda`, or VAECUDA's dispatch-only device), or nil
    /// for the CPU. On a device a batch is one shard, each step moves its batch there and reads its loss back (so
    /// the step's time includes the device's work), and the CPU's sgemm timings are skipped.
    public var backend: (any TensorBackend)?
    /// Called with true just before the timed training steps and with false just after them (a device's counters
    /// read there give the work of those steps alone, without moving the model or the first steps' state).
    public var aroundTimedSteps: ((_ starting: Bool) -> Void)?
    /// On a device, also time a 4096³ product there (``BenchmarkReport/peakGFLOPsPerSecond``): a GPU's GEMM peak in
    /// the same run. Off for a device that does no work (the dispatch-only one).
    public var timeDevicePeak = false

    public init() {}
}

/// One timed GEMM shape of a training step.
public struct GEMMTiming: Codable, Equatable {
    public var shape: String
    public var callsPerStep: Int
    public var gflopsPerSecond: Double
}

/// The numbers `vae bench` prints: throughput, achieved GFLOP/s against the sgemm peak of the same run, peak memory.
public struct BenchmarkReport: Codable, Equatable {
    public var model: String
    /// The device the steps ran on, or nil for the CPU.
    public var device: String?
    public var inputShape: [Int]
    /// What an example is: "images", or "sentences" for a text model.
    public var examples: String = "images"
    public var parameters: Int
    public var batchSize: Int
    public var threads: Int
    /// Data-parallel shards per training step (1: the whole batch on one tape).
    public var shards: Int
    public var steps: Int
    /// Forward FLOPs per training step (sgemm FLOPs, counted while the loss runs) and the conventional
    /// training count, 3 × forward (backward ≈ 2 × forward).
    public var forwardFLOPsPerStep: Double
    public var trainingFLOPsPerStep: Double
    /// sgemm FLOPs the recorded training step actually issued (forward and backward; the input gradient of the
    /// first layer is not computed, so this is a little under 3 × forward).
    public var recordedTrainingFLOPsPerStep: Double
    public var millisecondsPerStep: Double
    /// Median and fastest of the timed steps (the fastest is the least disturbed by other load).
    public var medianMillisecondsPerStep: Double
    public var fastestMillisecondsPerStep: Double
    /// Of the mean step: milliseconds in the optimiser's update (the rest is forward and backward).
    public var optimizerMillisecondsPerStep: Double
    public var trainingImagesPerSecond: Double
    public var trainingGFLOPsPerSecond: Double
    /// sgemm of 1024³ on this machine now (on a device with ``BenchmarkOptions/timeDevicePeak``, a 4096³ product
    /// there; else 0 on a device), and the rate the step's own GEMM shapes reach when timed alone (all cores
    /// together; with shards, one shard's shapes timed on every core at once, single-threaded each).
    public var peakGFLOPsPerSecond: Double
    public var modelShapesGFLOPsPerSecond: Double?
    public var fractionOfPeak: Double
    public var fractionOfModelShapes: Double?
    /// The shapes behind `modelShapesGFLOPsPerSecond` (one shard's when sharded; the rate is then one core's).
    public var gemmTimings: [GEMMTiming]
    /// Time spent inside sgemm during a training step, as a fraction of the step (from the shape timings).
    public var gemmFractionOfStep: Double?
    public var evaluationImages: Int
    public var evaluationImagesPerSecond: Double?
    public var evaluationGFLOPsPerSecond: Double?
    public var importanceSamples: Int
    public var importanceImages: Int
    /// Decoder rows per pass of the IWAE estimate.
    public var importanceChunk: Int
    public var importanceImagesPerSecond: Double?
    public var importanceGFLOPsPerSecond: Double?
    /// Peak resident set size of the process (getrusage ru_maxrss), in MiB.
    public var peakResidentMiB: Double

    /// Human-readable lines.
    public var lines: [String] {
        var lines = [
            String(format: "model %@  input %@  %d parameters  batch %d  %@", model,
                   inputShape.map(String.init).joined(separator: "×"), parameters, batchSize,
                   device.map { "on \($0)" } ?? "\(threads) threads  "
                       + (shards > 1 ? "training in \(shards) shards of rows, one single-threaded BLAS each"
                          : threads > 1 ? "training on one tape, BLAS threaded" : "training on one tape")),
            String(format: "train  %.2f ms/step (median %.2f, fastest %.2f over %d steps)  %.0f \(examples)/s  %.1f GFLOP/s (%.3f GFLOP/step = 3 × forward %.3f)",
                   millisecondsPerStep, medianMillisecondsPerStep, fastestMillisecondsPerStep, steps, trainingImagesPerSecond,
                   trainingGFLOPsPerSecond, trainingFLOPsPerStep / 1e9, forwardFLOPsPerStep / 1e9),
            String(format: "       of which %.2f ms in the optimiser's update, %.2f ms forward and backward",
                   optimizerMillisecondsPerStep, millisecondsPerStep - optimizerMillisecondsPerStep),
        ]
        if device == nil {
            lines.append(String(format: "sgemm  1024³ %.1f GFLOP/s → train at %.0f %% of it", peakGFLOPsPerSecond, 100 * fractionOfPeak))
        } else if peakGFLOPsPerSecond > 0 {
            lines.append(String(format: "gemm   4096³ on the device %.1f TFLOP/s → train at %.1f %% of it", peakGFLOPsPerSecond / 1000,
                                100 * fractionOfPeak))
        }
        if let shapes = modelShapesGFLOPsPerSecond, let fraction = fractionOfModelShapes {
            let how = shards > 1 ? "one shard's shapes on each of \(shards) cores at once" : "the step's own shapes alone"
            var line = String(format: "sgemm  %@ %.1f GFLOP/s → train at %.0f %% of it", how, shapes, 100 * fraction)
            if let gemm = gemmFractionOfStep { line += String(format: "; sgemm is %.0f %% of the step", 100 * gemm) }
            lines.append(line)
            for timing in gemmTimings {
                lines.append(String(format: "         %@ ×%d  %.1f GFLOP/s%@", timing.shape, timing.callsPerStep,
                                    timing.gflopsPerSecond, shards > 1 ? " per core" : ""))
            }
        }
        // GFLOP/s from the host's recorded sgemm calls (none on a device).
        func gflopsText(_ gflops: Double?) -> String { gflops.map { $0 > 0 ? String(format: "  %.1f GFLOP/s", $0) : "" } ?? "" }
        if let rate = evaluationImagesPerSecond {
            lines.append(String(format: "eval   −ELBO forward on %d \(examples): %.0f \(examples)/s", evaluationImages, rate) + gflopsText(evaluationGFLOPsPerSecond))
        }
        if let rate = importanceImagesPerSecond {
            lines.append(String(format: "eval   IWAE k = %d on %d \(examples) in passes of %d rows: %.2f \(examples)/s (%.1f s per 1000 \(examples))",
                                importanceSamples, importanceImages, importanceChunk, rate, 1000 / rate) + gflopsText(importanceGFLOPsPerSecond))
        }
        lines.append(String(format: "memory peak RSS %.0f MiB", peakResidentMiB))
        return lines
    }
}

/// Times training steps and evaluation of a model on synthetic data (uniform pixels in [0, 1], which every
/// likelihood accepts; for text, sentences of random words), after warm-up; see ``BenchmarkReport``.
public enum Benchmark {
    /// The input shape a config trains on: dSprites' 1×64×64, its image folder size, 1×28×28 (the IDX datasets),
    /// or for text (`format: text`) rows of `max_length` + 1 token ids.
    public static func inputShape(_ config: RunConfig) -> [Int] {
        if config.data.isText { return [config.data.maximumLength + 1] }
        if config.data.dataset == "dsprites" { return [1, DSprites.side, DSprites.side] }
        return config.data.imageSize > 0 ? [config.data.channels > 0 ? config.data.channels : 3, config.data.imageSize, config.data.imageSize]
                                  : [1, 28, 28]
    }

    /// The config a bench builds its model from: a text model whose `vocabulary_size` is 0 (a run takes it from its
    /// data) gets `max_vocabulary` words, and a conditional model whose `class_count` is 0 (a run counts its data's
    /// labels) Fashion-MNIST's 10 classes.
    public static func resolved(_ config: RunConfig) -> RunConfig {
        var config = config
        if config.data.isText, config.model[SentenceSettings.vocabularySize] == 0 {
            config.model[SentenceSettings.vocabularySize] = config.data.maximumVocabulary
        }
        if config.model.countsClassesFromLabels {
            config.model[ComposedVAE.classCount] = 10
        }
        return config
    }

    /// `count` synthetic examples for `model`: uniform pixels in [0, 1], or for a text config sentences of a length
    /// drawn uniformly from 1 to half of `max_length` tokens, each word drawn uniformly from the vocabulary's (the
    /// special tokens aside), then `<eos>` and padding, as a run's text batches are.
    public static func syntheticExamples(_ count: Int, model: any VariationalAutoencoder, config: RunConfig,
                                         random: inout RandomStream) -> Tensor {
        guard config.data.isText else { return random.uniform(shape: [count, model.specification.inputSize]) }
        let (width, words) = (model.specification.inputSize, model.specification[SentenceSettings.vocabularySize])
        let (longest, first) = (max(1, (width - 1) / 2), Vocabulary.end + 1)
        // `<unk>` when the vocabulary has no word beyond the special tokens.
        func word() -> Int { words > first ? first + random.integer(below: words - first) : Vocabulary.unknown }
        let sentences = (0..<count).map { _ in (0..<(1 + random.integer(below: longest))).map { _ in word() } + [Vocabulary.end] }
        return SentenceVAE.rows(sentences, width: width)
    }

    /// GFLOP/s of 4096³ products on `backend`, timed from the host: one to warm up (its sum read back), then 10 in a
    /// row, ended by reading back the sum of the last (the read waits for the work).
    public static func devicePeakGFLOPs(_ backend: any TensorBackend, side: Int = 4096) -> Double {
        var random = RandomStream(seed: 0, name: "bench-peak")
        let (a, b) = (random.uniform(shape: [side, side]).moved(to: backend), random.uniform(shape: [side, side]).moved(to: backend))
        return withoutGradients {
            _ = a.matmul(b).sum().scalars
            let (repetitions, started) = (10, Date())
            var product = a.matmul(b)
            for _ in 1..<repetitions { product = a.matmul(b) }
            _ = product.sum().scalars
            return 2 * Double(side * side * side) * Double(repetitions) / Date().timeIntervalSince(started) / 1e9
        }
    }

    /// sgemm FLOPs of one forward pass of the training loss on `batch` images (no tape).
    public static func forwardFLOPs(_ model: any VariationalAutoencoder, batch: Int) -> Double {
        var random = RandomStream(seed: 0, name: "bench-data")
        return forwardFLOPs(model, input: random.uniform(shape: [batch, model.specification.inputSize]))
    }

    /// sgemm FLOPs of one forward pass of the training loss on `input` (no tape).
    static func forwardFLOPs(_ model: any VariationalAutoencoder, input: Tensor) -> Double {
        let recorder = GEMMRecorder()
        withoutGradients {
            recorder.recording { _ = model.loss(input, context: LossContext(noise: RandomStream(seed: 0, name: "noise"))) }
        }
        return recorder.flops
    }

    public static func run(config: RunConfig, options: BenchmarkOptions,
                           progress: ((String) -> Void)? = nil) throws -> BenchmarkReport {
        let threads = options.threads > 0 ? options.threads : config.trainer.threads
        BLAS.setThreadCount(threads)
        var trainer = config.trainer
        trainer.threads = threads
        let shardThreads = trainer.shardThreads
        let config = resolved(config)
        let shape = inputShape(config)
        let model = try Factory.model(config, inputShape: shape)
        let batchSize = options.batchSize > 0 ? options.batchSize : config.data.batchSize
        // The sgemm FLOPs of a forward pass, recorded on the host (evaluation mode: no state changes).
        model.setTraining(false)
        var data = RandomStream(seed: config.experiment.seed, name: "bench-data")
        let input = syntheticExamples(batchSize, model: model, config: config, random: &data)
        // A conditional model's labels, uniform over its classes.
        let labels = model.conditionClasses > 0 ? (0..<batchSize).map { _ in data.integer(below: model.conditionClasses) } : nil
        let forward = forwardFLOPs(model.bound(labels.map { $0[...] }), input: input)
        let backend = options.backend
        // Where the batches go: the device, unless the model reads them on the host (token ids).
        let inputBackend = model.readsInputOnHost ? nil : backend
        model.move(to: backend)
        defer { model.move(to: nil) }
        let optimizer = try Factory.optimizer(config)
        let parameters = model.parameters
        var noise = RandomStream(seed: config.experiment.seed, name: "noise")
        var stepCount = 0
        let shards = backend != nil ? 1 : options.shards > 0 ? options.shards
            : BatchGradients.shardCount(for: model, rows: batchSize, threads: shardThreads)
        let evaluationThreads = backend != nil ? 1 : shardThreads
        model.setTraining(true)
        var optimizerSeconds = 0.0
        func step(shards: Int, rows: Range<Int>? = nil) {
            let batch = BatchGradients(model: model, parameters: parameters, input: (rows.map { input.slice($0) } ?? input).moved(to: inputBackend),
                                       labels: labels.map { $0[rows ?? 0..<batchSize] }, noise: &noise, step: stepCount, shards: shards)
            let updateStart = Date()
            optimizer.update(parameters, summing: batch.parts)
            optimizerSeconds += Date().timeIntervalSince(updateStart)
            stepCount += 1
        }
        func step() { step(shards: shards) }

        progress?("warming up")
        for _ in 0..<options.warmUpSteps { step() }
        // The whole batch's products (the recorder sees one thread's calls): the step's FLOPs, and its shapes when
        // it is not sharded.
        let recorder = GEMMRecorder()
        recorder.recording { step(shards: 1) }
        // A sharded step's shapes are one shard's (its rows, one core), issued on every core at once.
        var timedRecorder = recorder
        if shards > 1 {
            timedRecorder = GEMMRecorder()
            timedRecorder.recording { step(shards: 1, rows: Parallel.partition(batchSize, into: shards)[0]) }
        }
        progress?("timing \(options.steps) training steps")
        var stepSeconds: [Double] = []
        optimizerSeconds = 0
        options.aroundTimedSteps?(true)
        let started = Date()
        for _ in 0..<max(options.steps, 1) {
            let stepStart = Date()
            step()
            stepSeconds.append(Date().timeIntervalSince(stepStart))
        }
        let trainingSeconds = Date().timeIntervalSince(started) / Double(max(options.steps, 1))
        options.aroundTimedSteps?(false)
        model.setTraining(false)
        let trainingFLOPs = 3 * forward
        stepSeconds.sort()

        var peak = 0.0
        if backend == nil {
            progress?("timing sgemm")
            let peakShape = GEMMShape(m: 1024, n: 1024, k: 1024)
            peak = peakShape.flops / BLAS.time(peakShape, repetitions: 10) / 1e9
        } else if let backend, options.timeDevicePeak {
            progress?("timing a 4096³ product on the device")
            peak = devicePeakGFLOPs(backend)
        }
        var timings: [GEMMTiming] = []
        var modelShapes: Double?, gemmFraction: Double?
        if options.timeModelShapes && backend == nil {
            var gemmSeconds = 0.0
            for (shape, calls) in zip(timedRecorder.shapes, timedRecorder.calls) {
                // About 20 ms of work per round, at least one call.
                let repetitions = max(1, Int(0.02 / (shape.flops / (peak * 1e9))))
                // Sharded: every shard times the shape on its own core at once (single-threaded BLAS, as in the
                // step); the slowest shard is the step's wall time for it.
                let seconds = shards > 1
                    ? Parallel.mapShards(shards) { _ in BLAS.time(shape, repetitions: repetitions) }.max()!
                    : BLAS.time(shape, repetitions: repetitions)
                gemmSeconds += seconds * Double(calls)
                timings.append(GEMMTiming(shape: shape.description, callsPerStep: calls, gflopsPerSecond: shape.flops / seconds / 1e9))
            }
            modelShapes = recorder.gemmFLOPs / gemmSeconds / 1e9
            gemmFraction = gemmSeconds / trainingSeconds
        }

        var evaluationRate: Double?, evaluationGFLOPs: Double?
        if options.evaluationImages > 0 {
            progress?("timing −ELBO evaluation")
            let images = syntheticExamples(options.evaluationImages, model: model, config: config, random: &data).moved(to: inputBackend)
            let evaluator = Evaluator(model: model, batchSize: config.data.testBatchSize, threads: evaluationThreads)
            var noise = RandomStream(seed: 1, name: "evaluation")
            _ = evaluator.negativeELBO(images.slice(0..<min(options.evaluationImages, config.data.testBatchSize)), noise: &noise)
            // FLOPs from an untimed one-thread pass: a recorder is task-local and sees only the products issued
            // on its own thread, not the other shards'.
            let evaluationRecorder = GEMMRecorder()
            var countingNoise = noise
            _ = evaluationRecorder.recording {
                Evaluator(model: model, batchSize: config.data.testBatchSize, threads: 1).negativeELBO(images, noise: &countingNoise)
            }
            let start = Date()
            _ = evaluator.negativeELBO(images, noise: &noise)
            let seconds = Date().timeIntervalSince(start)
            evaluationRate = Double(options.evaluationImages) / seconds
            evaluationGFLOPs = evaluationRecorder.flops / seconds / 1e9
        }
        var importanceRate: Double?, importanceGFLOPs: Double?
        if options.importanceSamples > 0 && options.importanceImages > 0 {
            progress?("timing IWAE k = \(options.importanceSamples)")
            let images = syntheticExamples(options.importanceImages, model: model, config: config, random: &data).moved(to: inputBackend)
            var evaluator = Evaluator(model: model, batchSize: config.data.testBatchSize, threads: evaluationThreads)
            evaluator.importanceChunk = options.importanceChunk
            var noise = RandomStream(seed: 1, name: "importance")
            _ = evaluator.negativeLogLikelihood(images.slice(0..<1), samples: options.importanceSamples, noise: &noise)
            // FLOPs of one image on one thread (every image costs the same), untimed; see the −ELBO pass above.
            let importanceRecorder = GEMMRecorder()
            var countingNoise = noise
            _ = importanceRecorder.recording {
                Evaluator(model: model, batchSize: config.data.testBatchSize, threads: 1)
                    .negativeLogLikelihood(images.slice(0..<1), samples: options.importanceSamples, noise: &countingNoise,
                                           chunk: options.importanceChunk)
            }
            let start = Date()
            _ = evaluator.negativeLogLikelihood(images, samples: options.importanceSamples, noise: &noise)
            let seconds = Date().timeIntervalSince(start)
            importanceRate = Double(options.importanceImages) / seconds
            importanceGFLOPs = importanceRecorder.flops * Double(options.importanceImages) / seconds / 1e9
        }

        let trainingRate = trainingFLOPs / trainingSeconds / 1e9
        return BenchmarkReport(
            model: config.model.name, device: backend?.name, inputShape: shape, examples: config.data.isText ? "sentences" : "images",
            parameters: model.parameterCount, batchSize: batchSize,
            threads: threads, shards: shards, steps: max(options.steps, 1), forwardFLOPsPerStep: forward, trainingFLOPsPerStep: trainingFLOPs,
            recordedTrainingFLOPsPerStep: recorder.flops, millisecondsPerStep: 1000 * trainingSeconds,
            medianMillisecondsPerStep: 1000 * stepSeconds[stepSeconds.count / 2],
            fastestMillisecondsPerStep: 1000 * stepSeconds[0],
            optimizerMillisecondsPerStep: 1000 * optimizerSeconds / Double(max(options.steps, 1)),
            trainingImagesPerSecond: Double(batchSize) / trainingSeconds, trainingGFLOPsPerSecond: trainingRate,
            peakGFLOPsPerSecond: peak, modelShapesGFLOPsPerSecond: modelShapes, fractionOfPeak: peak > 0 ? trainingRate / peak : 0,
            fractionOfModelShapes: modelShapes.map { trainingRate / $0 }, gemmTimings: timings, gemmFractionOfStep: gemmFraction,
            evaluationImages: options.evaluationImages, evaluationImagesPerSecond: evaluationRate,
            evaluationGFLOPsPerSecond: evaluationGFLOPs, importanceSamples: options.importanceSamples,
            importanceImages: options.importanceImages, importanceChunk: options.importanceChunk, importanceImagesPerSecond: importanceRate,
            importanceGFLOPsPerSecond: importanceGFLOPs, peakResidentMiB: peakResidentMiB())
    }

    /// getrusage's ru_maxrss of this process in MiB (Linux reports KiB, macOS bytes).
    public static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / (1024 * 1024)
        #endif
    }
}
