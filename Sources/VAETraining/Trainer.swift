import Foundation
import Logging
import VAEData
import VAEFormats
import VAEModels
import VAENN
import VAEOptimizers
import VAEPictures
import VAETensor

/// Trains a model from a ``RunConfig`` and writes its run directory.
///
/// Randomness comes from named streams of the config's seed: "init" (weights), "shuffle" (epoch order),
/// "noise" (reparameterisation ε), "binarization" (dynamic binarisation), "evaluation" (test −ELBO, the same
/// draws every epoch) and "sampling" (pictures). With a fixed BLAS thread count a rerun is bit-identical.
public final class Trainer {
    public let config: RunConfig
    public let train: any Dataset
    public let test: any Dataset
    public let model: any VariationalAutoencoder
    public let optimizer: any Optimizer
    /// The optimiser of the model's `AuxiliaryTraining` weights (run settings); nil when it has none.
    public let auxiliaryOptimizer: (any Optimizer)?
    /// Test images as evaluated (binarised once with a fixed stream when the config binarises).
    public let testImages: Tensor

    var shuffle: RandomStream
    var noise: RandomStream
    var binarization: RandomStream
    var flipping: RandomStream
    /// Noise of the auxiliary loss ("auxiliary-noise"), apart from the model's so that its draws stay as they are.
    var auxiliaryNoise: RandomStream
    public internal(set) var epoch = 0
    public internal(set) var step = 0
    /// Lowest test loss so far and its epoch (kept in `best/`); restored on resume.
    public internal(set) var bestTestLoss: Double?
    public internal(set) var bestEpoch: Int?
    /// Where the lines ``run(in:report:progress:epochMetrics:)`` reports also go (swift-log): silent unless an app
    /// sets its own, e.g. `trainer.logger = Logger(label: "vaekit")` after `LoggingSystem.bootstrap(…)`.
    public var logger = Logger(label: "vaekit.trainer", factory: { _ in SwiftLogNoOpLogHandler() })
    /// TensorBoard's event file of the current ``run(in:report:progress:)`` (`trainer_params.tensorboard`).
    var board: TensorBoardLog?
    /// The processes this run is spread over (see `RankExchange.swift`); set before ``run(in:report:progress:epochMetrics:)``.
    /// Only rank 0 writes the run directory; the others train, evaluate and write nothing.
    public var group: any ProcessGroup = SingleProcess()
    /// How the ranks' gradients are added.
    public var rankReduction = RankReduction.ordered
    /// The device the run trains on (`trainer_params.device: cuda`: the CLI makes VAECUDA's backend), or nil for
    /// the host. The model moves there when ``run(in:report:progress:epochMetrics:)`` starts, and the training
    /// examples once where they can stay there (`DeviceTrainingSet`), else each batch once; a batch is then one
    /// shard (the device is parallel itself), and the ranks of MPI stay on the host.
    public var backend: (any TensorBackend)?
    /// The training examples on ``backend`` when they can stay there (made at the first epoch; nil otherwise).
    private var deviceTrainingSet: DeviceTrainingSet?
    private var deviceTrainingSetChecked = false
    /// Whether the training examples were kept on the device (`DeviceTrainingSet`): nil before the first epoch and
    /// on the CPU; false when each batch was copied there (too large for a quarter of its free memory, several
    /// processes, or a model that reads its input on the host).
    public var examplesKeptOnDevice: Bool? { backend == nil || !deviceTrainingSetChecked ? nil : deviceTrainingSet != nil }
    /// Seconds this epoch spent exchanging gradients between ranks, and the part of them inside MPI's collectives.
    var exchangeSeconds = 0.0, collectiveSeconds = 0.0

    /// Everything is loaded and built before any file is written, so bad input leaves nothing behind. `group`: the
    /// processes the run is spread over (they share the decoding of an image folder).
    public convenience init(config: RunConfig, group: any ProcessGroup = SingleProcess()) throws {
        try config.validate()
        let (train, test) = try Factory.datasets(config, group: group)
        try self.init(config: config, train: train, test: test)
        self.group = group
    }

    /// Trains on any `Dataset`: `train` and `test` must have examples of one shape. `model` replaces the one
    /// the config names (a model built in code; it must take the examples' shape).
    public init(config: RunConfig, train: any Dataset, test: any Dataset,
                model: (any VariationalAutoencoder)? = nil) throws {
        try config.validate()
        guard train.exampleShape == test.exampleShape else {
            throw TrainingError("\(test.source): test examples are \(test.exampleShape) but training examples (\(train.source)) are \(train.exampleShape)")
        }
        BLAS.setThreadCount(config.trainer.threads)
        (self.train, self.test) = (train, test)
        // A conditional model's class count defaults to the labels' (class_count: 0); the run's config.yaml
        // keeps the resolved count so the checkpoint reloads without the data.
        var resolved = config
        if resolved.model.countsClassesFromLabels {
            resolved.model[ComposedVAE.classCount] = train.classCount
        }
        // β-TCVAE's estimator needs the number of training examples (dataset_size: 0); config.yaml keeps it.
        if resolved.model[TotalCorrelationObjective.datasetSizeSetting] == 0,
           let recipe = ModelRegistry.recipe(config.model.name), recipe.ownSettings.contains(where: { $0.key == "dataset_size" }) {
            resolved.model[TotalCorrelationObjective.datasetSizeSetting] = train.count
        }
        // A text model covers the training data's vocabulary (vocabulary_size: 0); config.yaml keeps the size and
        // vocabulary.txt the tokens.
        if let text = train as? TextDataset,
           ModelRegistry.recipe(config.model.name)?.ownSettings.contains(where: { $0.key == SentenceSettings.vocabularySize.key }) == true {
            let size = resolved.model[SentenceSettings.vocabularySize]
            if size == 0 {
                resolved.model[SentenceSettings.vocabularySize] = text.vocabulary.count
            } else if size != text.vocabulary.count {
                throw TrainingError("model_params.vocabulary_size: \(size), but the data's vocabulary has \(text.vocabulary.count) tokens (data_params.max_vocabulary caps it); leave vocabulary_size at 0")
            }
        }
        // The network a model uses by default is written out, so the run's config.yaml says which it was.
        if resolved.model.network.isEmpty, let network = ModelRegistry.recipe(config.model.name)?.defaultNetwork {
            resolved.model.network = network
        }
        self.config = resolved
        self.model = try model ?? Factory.model(resolved, inputShape: train.exampleShape)
        try self.model.checkLabels(train.labels, rows: train.count, source: train.source)
        try self.model.checkLabels(test.labels, rows: test.count, source: test.source)
        optimizer = try Factory.optimizer(config)
        auxiliaryOptimizer = try self.model.auxiliaryTraining.map { auxiliary in
            guard let settings = auxiliary.optimizerSettings else { return try Factory.optimizer(config) }
            return Adam(learningRate: Float(settings.learningRate), beta1: Float(settings.beta1), beta2: Float(settings.beta2))
        }
        let seed = config.experiment.seed
        shuffle = RandomStream(seed: seed, name: "shuffle")
        noise = RandomStream(seed: seed, name: "noise")
        binarization = RandomStream(seed: seed, name: "binarization")
        flipping = RandomStream(seed: seed, name: "flip")
        auxiliaryNoise = RandomStream(seed: seed, name: "auxiliary-noise")
        try Factory.checkDataRange(train, model: self.model)
        testImages = test.evaluationInputs(config)
    }

    /// Runs the remaining epochs up to `config.trainer.epochs` in `directory` (which must exist): writes
    /// config.yaml and environment.json, then metrics.csv and a checkpoint after each epoch, then the pictures.
    /// `report` receives one line per epoch; `progress` (batches done, batches in epoch, running loss) is
    /// called often and may draw a progress bar.
    /// `epochMetrics` receives each epoch's row of metrics.csv as it is written. Every line `report` receives also
    /// goes to ``logger`` (at `info`, with the epoch's metrics as metadata on epoch lines).
    public func run(in directory: String, report reportLine: (String) -> Void,
                    progress: ((Int, Int, Double) -> Void)? = nil, epochMetrics: ((EpochMetrics) -> Void)? = nil) throws {
        try checkRanks()
        updateFailureAdvice(directory)
        guard group.rank == 0 else { return try runWithoutWriting(directory) }
        let logger = self.logger
        func report(_ line: String) {
            logger.info("\(line)")
            reportLine(line)
        }
        try RunDirectory.write(config.yaml(), to: directory + "/config.yaml")
        if let text = train as? TextDataset { try text.vocabulary.write(toDirectory: directory) }
        // A resumed run keeps the environment it started in (see `vae train --resume`).
        if epoch == 0 || !FileManager.default.fileExists(atPath: directory + "/environment.json") {
            try RunDirectory.write(RunDirectory.environment(command: CommandLine.arguments, ranks: group.size),
                                   to: directory + "/environment.json")
        }
        // Rows after the checkpoint's epoch belong to an epoch that was interrupted before its save finished.
        var log = MetricsLog(path: directory + "/metrics.csv",
                             existingRows: epoch > 0 ? try MetricsLog.rows(in: directory + "/metrics.csv", throughEpoch: epoch) : [])
        // A post-training fit (VQ-VAE's prior) fits the weights of the epoch it followed: more epochs make it stale,
        // so the new epochs are reported without it, as the first ones were, and it is fitted again at the end.
        if let fit = model.postTrainingFit, epoch < config.trainer.epochs { fit.invalidate() }
        model.move(to: backend)
        board = config.trainer.tensorboard ? try TensorBoardLog(directory: directory, resumingAfter: epoch > 0 ? step : nil) : nil
        defer { board = nil }
        while epoch < config.trainer.epochs {
            let metrics = try trainEpoch(progress: progress)
            epoch += 1
            try log.append(metrics)
            try board?.logEpoch(metrics, step: step, model: model, testImages: deviceTrainingSet?.testImages ?? testImages)
            epochMetrics?(metrics)
            if metrics.testLoss < bestTestLoss ?? .infinity {
                (bestTestLoss, bestEpoch) = (metrics.testLoss, epoch)
            }
            try saveCheckpoint(in: directory)
            updateFailureAdvice(directory)
            report(String(format: "epoch %d/%d  train %.2f  test %.2f  (reconstruction %.2f, kl %.2f)  %.2f s  %.0f ",
                          epoch, config.trainer.epochs, metrics.trainLoss, metrics.testLoss, metrics.reconstruction,
                          metrics.kl, metrics.seconds, metrics.imagesPerSecond)
                   + (train is TextDataset ? "sentences/s" : "images/s") + diagnosticsText() + exchangeText())
            if config.trainer.pictureEvery > 0, epoch % config.trainer.pictureEvery == 0, epoch < config.trainer.epochs {
                try writePictures(in: directory, epoch: epoch)
            }
        }
        // The post-training fit runs once the trained weights are final (again after a resume that trained more
        // epochs: the reset above), then is saved into the last epoch's checkpoint.
        if let fit = model.postTrainingFit, fit.epochs > 0, !fit.isFitted {
            try PostTrainingFitting(fit: fit, model: model, config: config).run(train: train, testImages: testImages,
                                                                               report: report)
            try saveCheckpoint(in: directory)
            if let bestEpoch, bestEpoch != epoch {
                report("note: best/ (epoch \(bestEpoch)) is without the \(fit.name), which was fitted to epoch \(epoch)'s weights (the run directory itself)")
            }
        }
        try writePictures(in: directory)
    }

    /// The epochs of a rank other than 0: the same steps and evaluations (they are collective), no files.
    func runWithoutWriting(_ directory: String) throws {
        while epoch < config.trainer.epochs {
            _ = try trainEpoch(progress: nil)
            epoch += 1
            updateFailureAdvice(directory)
        }
    }

    /// Tells the process group what a stopped job should say about this run's last checkpoint.
    func updateFailureAdvice(_ directory: String) {
        guard group.size > 1 else { return }
        let resume = "continue with `mpirun -np \(group.size) vae train --resume \(directory)` (or another number of ranks)"
        // Other ranks finish an epoch while rank 0 may still be saving its checkpoint.
        group.failureAdvice = epoch == 0
            ? "no checkpoint was written yet (the first comes after epoch 1)"
            : group.rank == 0 ? "the last checkpoint (epoch \(epoch)) in \(directory) is kept; " + resume
            : "rank 0 keeps the last checkpoint it completed (epoch \(epoch) or \(epoch - 1)) in \(directory); " + resume
    }

    /// " on 2 MPI ranks × 1 thread (Open MPI v4.1.4)" when the run spans ranks, else "".
    public var processesText: String {
        guard group.size > 1 else { return "" }
        let threads = config.trainer.threads
        return " on \(group.size) MPI ranks × \(threads) thread\(threads == 1 ? "" : "s") (\(group.name))"
    }

    /// "  (2 ranks: gradient exchange 1.23 ms/step, 0.80 in MPI)" when the run spans ranks, else "".
    func exchangeText() -> String {
        guard group.size > 1 else { return "" }
        let steps = Double(max((train.count + config.data.batchSize - 1) / config.data.batchSize, 1))
        return String(format: "  (%d ranks: gradient exchange %.2f ms/step, %.2f in MPI)", group.size,
                      1000 * exchangeSeconds / steps, 1000 * collectiveSeconds / steps)
    }

    /// "  code_perplexity 123.4  codes_used 512.0" for a model with ``LatentDiagnostics`` (on the test images), else "".
    func diagnosticsText() -> String {
        guard let model = model as? LatentDiagnostics else { return "" }
        let values = withoutGradients { model.diagnostics(testImages) }
        return values.map { "  \($0.name) " + String(format: "%.1f", $0.value) }.joined()
    }

    func trainEpoch(progress: ((Int, Int, Double) -> Void)?) throws -> EpochMetrics {
        model.setTraining(true)
        let started = Date()
        let order = shuffle.permutation(train.count)
        if !deviceTrainingSetChecked {
            deviceTrainingSet = DeviceTrainingSet(train, testImages: testImages, config: config, model: model, backend: backend,
                                                  processes: group.size)
            deviceTrainingSetChecked = true
        }
        let ordered = deviceTrainingSet?.epoch(order)
        let batchSize = config.data.batchSize
        let batches = (train.count + batchSize - 1) / batchSize
        let parameters = model.parameters
        var sums = [Double](repeating: 0, count: 3)   // total, reconstruction, kl (weighted by batch size)
        (exchangeSeconds, collectiveSeconds) = (0, 0)
        let ranked = group.size > 1
        for batchIndex in 0..<batches {
            let indices = order[(batchIndex * batchSize)..<min((batchIndex + 1) * batchSize, train.count)]
            // This rank's rows of the batch, drawing those rows of the batch's augmentation (all rows with one rank).
            let rows = rankRows(ofBatch: indices.count)
            let mine = indices[(indices.startIndex + rows.lowerBound)..<(indices.startIndex + rows.upperBound)]
            func window(_ stream: RandomStream) -> RandomStream { ranked ? stream.rows(rows, of: indices.count) : stream }
            var augmentation = BatchAugmentation(binarizing: config.data.binarize ? window(binarization) : nil,
                                                 flipping: config.data.horizontalFlip ? window(flipping) : nil)
            let input = ordered.map { deviceTrainingSet!.batch(mine.startIndex..<mine.endIndex, of: $0, augmentation: &augmentation,
                                                               width: train.exampleShape.last ?? 1) }
                ?? train.batch(mine, augmentation: &augmentation).moved(to: model.readsInputOnHost ? nil : backend)
            if let binarizing = augmentation.binarizing { binarization = ranked ? binarization.joined([binarizing]) : binarizing }
            if let flips = augmentation.flipping { flipping = ranked ? flipping.joined([flips]) : flips }

            var batch = BatchGradients(model: model, parameters: parameters, input: input,
                                       labels: train.labels.isEmpty ? nil : ArraySlice(mine.map { train.labels[$0] }),
                                       noise: &noise, step: step,
                                       shards: backend != nil ? 1 : BatchGradients.shardCount(for: model, rows: mine.count,
                                                                                              threads: config.trainer.shardThreads),
                                       part: ranked ? (rows, indices.count) : nil)
            if ranked {
                var streams = [noise, binarization, flipping]
                exchange(&batch, streams: &streams)
                (noise, binarization, flipping) = (streams[0], streams[1], streams[2])
            }
            try guardFinite(batch)
            if config.experiment.gradientClipNorm > 0 {
                var gradients = batch.gradients
                clipGradientNorm(&gradients, maxNorm: Float(config.experiment.gradientClipNorm))
                batch.parts = [gradients]
            }
            optimizer.update(parameters, summing: batch.parts)
            try trainAuxiliary(on: input)
            step += 1
            try board?.logStep(step, loss: batch.loss, terms: batch.terms, learningRate: optimizer.learningRate,
                               schedule: model.scheduleValues(atStep: step - 1))

            let weight = Double(indices.count)
            sums[0] += Double(batch.loss) * weight
            sums[1] += Double(batch.value("reconstruction") ?? 0) * weight
            sums[2] += Double(batch.value("kl") ?? 0) * weight
            progress?(batchIndex + 1, batches, sums[0] / Double((batchIndex * batchSize) + indices.count))
        }
        let seconds = Date().timeIntervalSince(started)
        model.setTraining(false)
        var evaluationNoise = RandomStream(seed: config.experiment.seed, name: "evaluation")
        let testTerms = Evaluator(model: model, labels: test.labels, batchSize: config.data.testBatchSize,
                                  threads: backend != nil ? 1 : config.trainer.shardThreads, group: group)
            .negativeELBO(deviceTrainingSet?.testImages ?? testImages, noise: &evaluationNoise)
        let n = Double(train.count)
        return EpochMetrics(epoch: epoch + 1, trainLoss: sums[0] / n, testLoss: testTerms.total,
                            reconstruction: testTerms.reconstruction, kl: testTerms.kl, seconds: seconds,
                            imagesPerSecond: n / max(seconds, 1e-9), trainReconstruction: sums[1] / n, trainKL: sums[2] / n)
    }

    /// One step of the model's ``AuxiliaryTraining`` weights on the batch the model has just trained on, with the
    /// BLAS single-threaded (the weights are small; the result does not depend on the thread count).
    func trainAuxiliary(on input: Tensor) throws {
        guard let auxiliary = model.auxiliaryTraining, let auxiliaryOptimizer else { return }
        let context = LossContext(noise: auxiliaryNoise, step: step)
        let parameters = auxiliary.module.parameters
        // Single-threaded products, as the model's shards have: the same bits whatever the thread count.
        let (loss, gradients) = Parallel.singleThreadedBLAS {
            auxiliary.module.valueWithGradients(for: parameters) { auxiliary.loss(input, context: context) }
        }
        auxiliaryNoise = context.noise
        guard loss.scalar.isFinite, gradients.allSatisfy(\.isFinite) else {
            throw TrainingError("step \(step + 1): the \(auxiliary.name) loss is \(loss.scalar) (or its gradient is not finite); try a lower --learning-rate")
        }
        auxiliaryOptimizer.update(parameters, gradients: gradients)
    }

    /// Stops on a non-finite loss or gradient, naming the step, the term and what to try.
    func guardFinite(_ batch: BatchGradients) throws {
        let kept = epoch > 0 ? "the last good checkpoint (epoch \(epoch)) is kept" : "no checkpoint was written yet"
        if let backend, let failure = backend.failure {
            throw TrainingError("training stopped at step \(step + 1) (epoch \(epoch + 1)): \(backend.name) failed: \(failure); \(kept)")
        }
        let advice = "\(kept); try a lower --learning-rate or set exp_params.gradient_clip_norm"
        if !batch.loss.isFinite {
            let bad = batch.terms.filter { !$0.value.isFinite }.map { "\($0.name) = \($0.value)" }
            throw TrainingError("training stopped at step \(step + 1) (epoch \(epoch + 1)): the loss is \(batch.loss)"
                                + (bad.isEmpty ? "" : " (\(bad.joined(separator: ", ")))") + "; " + advice)
        }
        if let index = batch.nonFiniteGradient {
            let name = model.namedParameters[index].name
            throw TrainingError("training stopped at step \(step + 1) (epoch \(epoch + 1)): the gradient of \(name) is not finite; " + advice)
        }
    }

    func saveCheckpoint(in directory: String) throws {
        let state = CheckpointState(
            model: config.model.name, inputShape: train.exampleShape, epoch: epoch, step: step,
            optimizer: config.experiment.optimizer, learningRate: config.experiment.learningRate, bestTestLoss: bestTestLoss,
            bestEpoch: bestEpoch,
            random: ["shuffle": SavedStream(shuffle), "noise": SavedStream(noise), "binarization": SavedStream(binarization),
                     "flip": SavedStream(flipping)].merging(
                auxiliaryOptimizer == nil ? [:] : ["auxiliary-noise": SavedStream(auxiliaryNoise)]) { first, _ in first })
        try Checkpoint.save(model: model, optimizer: optimizer, auxiliary: auxiliaryOptimizer, state: state, in: directory)
    }

    /// Every picture of `PictureKind` and report.html (see `RunPictures/writeForTraining(_:runDirectory:epoch:)`);
    /// with `epoch`, the pictures alone into `pictures/epoch-NNNN/`.
    public func writePictures(in directory: String, epoch: Int? = nil) throws {
        // Text runs show sentences instead of pictures, in report.html (at the end of training).
        guard let imageShape = test.pictureShape else {
            if epoch == nil, let model = model as? SentenceVAE, let text = test as? TextDataset {
                let report = TextReport(model: model, vocabulary: text.vocabulary, seed: config.experiment.seed)
                try ReportPage.write(directory: directory, pictures: [], texts: report.sections(test: text))
            }
            return
        }
        let inputs = PictureInputs(model: model, imageShape: imageShape, testImages: testImages, labels: test.labels,
                                   dataset: config.data.dataset, classNames: test.classNames, seed: config.experiment.seed,
                                   sampleCount: config.trainer.pictureCount, metricsPath: directory + "/metrics.csv")
        let pictures = try RunPictures.writeForTraining(inputs, runDirectory: directory, epoch: epoch)
        try board?.logPictures(pictures, step: step)
    }
}
