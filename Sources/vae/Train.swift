import ArgumentParser
import Foundation
import VAECUDA
import VAEData
import VAEFormats
import VAETraining

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model; with no flags, the `mlp` VAE on Fashion-MNIST into runs/mlp.")

    @Option(help: "Built-in config name (\(ConfigLoader.builtInNames.joined(separator: ", "))) or a YAML file (default: mlp).")
    var config: String?
    @Option(help: "Directory of IDX files (train-images-idx3-ubyte[.gz], …); overrides data_params.data_dir.")
    var data: String?
    @Option(parsing: .unconditional, help: "Number of epochs (trainer_params.epochs).")
    var epochs: Int?
    @Option(parsing: .unconditional, help: "Mini-batch size (data_params.batch_size).")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "Optimiser step size (exp_params.learning_rate).")
    var learningRate: Double?
    @Option(parsing: .unconditional, help: "Seed of every random stream (exp_params.seed).")
    var seed: Int?
    @Option(parsing: .unconditional, help: "Threads (trainer_params.threads): the BLAS's, and data-parallel shards of each batch for models whose loss is a row mean; results are bit-identical for a fixed count.")
    var threads: Int?
    @Option(help: "Where to train (trainer_params.device): cpu, or cuda (an NVIDIA GPU; `vae devices` shows what this machine has).")
    var device: String?
    @Flag(help: "On --device cuda, products (linear layers, convolutions) in TF32 on the tensor cores (trainer_params.tf32): inputs rounded to 10 bits of mantissa, as PyTorch's convolutions by default; FP32 without it.")
    var tf32 = false
    @Option(parsing: .unconditional, help: "Use only the first N training images (data_params.train_limit; 0 = all).")
    var trainLimit: Int?
    @Option(parsing: .unconditional, help: "Use only the first N test images (data_params.test_limit; 0 = all).")
    var testLimit: Int?
    @Flag(help: "Dynamic binarisation: pixels drawn as Bernoulli(grey level) each time (data_params.binarize).")
    var binarize = false
    @Option(help: "Run directory (default: trainer_params.output_dir/run_name, with -2, -3, … if taken).")
    var output: String?
    @Option(help: ArgumentHelp("Continue the run in RUN_DIR from its last checkpoint, exactly as if it had not stopped; only --epochs (the run's new total) and --learning-rate may be given with it.", valueName: "RUN_DIR"))
    var resume: String?
    @Flag(help: "No progress or per-epoch lines on standard error (errors still show); the result line stays on standard output.")
    var quiet = false
    @Option(help: "Progress on standard error as text lines, or json: one JSON object per line ({\"event\": \"epoch\", …metrics.csv's columns} after each epoch).")
    var logFormat: Console.Format = .text
    @Option(help: "Under mpirun: how the ranks' gradients are added: ordered (each rank gets all and adds them in rank order: N ranks × 1 thread = 1 process × N threads, bit for bit, for batches of at least 16·N rows) or allreduce (MPI_Allreduce).")
    var mpiReduction: RankReduction = .ordered
    @Option(parsing: .unconditional, help: "Under mpirun: seconds a rank waits for the others in one exchange before it stops the job (it includes waiting while rank 0 writes checkpoints and pictures).")
    var mpiTimeout: Double = 600

    func validate() throws {
        func positive(_ value: Int?, _ flag: String) throws {
            if let value, value < 1 { throw ValidationError("--\(flag) must be a positive integer, got \(value)") }
        }
        try positive(epochs, "epochs")
        try positive(batchSize, "batch-size")
        try positive(threads, "threads")
        if let seed, seed < 0 { throw ValidationError("--seed must be 0 or greater, got \(seed)") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
        }
        if let trainLimit, trainLimit < 0 { throw ValidationError("--train-limit must be 0 or greater, got \(trainLimit)") }
        if let testLimit, testLimit < 0 { throw ValidationError("--test-limit must be 0 or greater, got \(testLimit)") }
        if let device, !["cpu", "cuda"].contains(device) { throw ValidationError("--device must be cpu or cuda, got '\(device)'") }
        if !(mpiTimeout > 0 && mpiTimeout.isFinite) { throw ValidationError("--mpi-timeout must be a positive number of seconds, got \(mpiTimeout)") }
        if resume != nil {
            // Everything else would change the model, the data or the random streams half-way through the run.
            let given: [(String, Bool)] = [("config", config != nil), ("data", data != nil), ("batch-size", batchSize != nil),
                                           ("seed", seed != nil), ("threads", threads != nil), ("device", device != nil), ("tf32", tf32), ("train-limit", trainLimit != nil),
                                           ("test-limit", testLimit != nil), ("binarize", binarize), ("output", output != nil)]
            if let (flag, _) = given.first(where: \.1) {
                throw ValidationError("--\(flag) cannot be used with --resume: a resumed run keeps the config in RUN_DIR/config.yaml (only --epochs and --learning-rate may change)")
            }
        }
    }

    func resolvedConfig() throws -> RunConfig {
        var resolved = try ConfigLoader.load(config ?? "mlp")
        if let data { resolved.data.dataDirectory = data }
        if let epochs { resolved.trainer.epochs = epochs }
        if let batchSize { resolved.data.batchSize = batchSize }
        if let learningRate { resolved.experiment.learningRate = learningRate }
        if let seed { resolved.experiment.seed = UInt64(seed) }
        if let threads { resolved.trainer.threads = threads }
        if let device { resolved.trainer.device = device }
        if tf32 { resolved.trainer.tf32 = true }
        if let trainLimit { resolved.data.trainLimit = trainLimit }
        if let testLimit { resolved.data.testLimit = testLimit }
        if binarize { resolved.data.binarize = true }
        try resolved.validate()
        return resolved
    }

    func run() throws {
        (Console.quiet, Console.format) = (quiet, logFormat)
        try reportingErrors {
            let group = try processGroup(timeout: mpiTimeout)
            // Ranks other than 0 write nothing: no run directory, no lines (their errors still show).
            if group.rank != 0 { Console.quiet = true }
            if let resume { return try continueRun(in: resume, group: group) }
            let resolved = try resolvedConfig()
            let backend = try cudaBackend(resolved.trainer.device, flag: "--device cuda (trainer_params.device)", group: group,
                                          tf32: resolved.trainer.tf32)
            let trainer = try Trainer(config: resolved, group: group)
            (trainer.rankReduction, trainer.backend) = (mpiReduction, backend)
            // Rank 0 picks the directory (runs/mlp-2 when runs/mlp is taken) and tells the others.
            let chosen = group.rank == 0 ? try RunDirectory.choose(for: resolved, explicit: output) : ""
            let directory = String(decoding: group.broadcast(Array(chosen.utf8)), as: UTF8.self)
            guard group.rank == 0 else { return try trainer.run(in: directory, report: { _ in }) }
            let existed = FileManager.default.fileExists(atPath: directory)
            try RunDirectory.create(directory)
            var completed = false
            defer {
                // A run that finished no epoch leaves nothing that looks like a run: a directory it made is
                // removed, and in a directory that was already there only the files it wrote go.
                if !completed && trainer.epoch == 0 {
                    if existed {
                        for file in ["config.yaml", "environment.json", "metrics.csv"] {
                            try? FileManager.default.removeItem(atPath: directory + "/" + file)
                        }
                    } else {
                        try? FileManager.default.removeItem(atPath: directory)
                    }
                }
            }
            Console.progress("training \(resolved.model.name) (\(trainer.model.parameterCount) parameters) on \(trainer.train.count) \(trainer.train is TextDataset ? "sentences" : "images") of \(trainer.train.source) → \(directory)" + trainer.processesText)
            for (split, data) in [("training", trainer.train), ("test", trainer.test)] {
                guard let text = data as? TextDataset, text.dropped + text.cut > 0 else { continue }
                let (count, verb) = text.dropped > 0 ? (text.dropped, "dropped") : (text.cut, "cut to \(text.maximumLength) tokens")
                Console.note("\(count) \(split) sentence\(count == 1 ? "" : "s") longer than \(text.maximumLength) tokens \(verb) (data_params.max_length, long_sentences)")
            }
            Console.event("start", ["model": resolved.model.name, "parameters": trainer.model.parameterCount,
                                    "images": trainer.train.count, "data": trainer.train.source, "directory": directory,
                                    "ranks": group.size, "threads": resolved.trainer.threads])
            try runShowingProgress(trainer, in: directory)
            completed = true
        }
    }
}

extension Train {
    /// `--resume RUN_DIR`: the run's own config.yaml with the new total of epochs (and learning rate), the
    /// state of its last checkpoint, then the remaining epochs appended to the same directory.
    func continueRun(in directory: String, group: any ProcessGroup) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError("--resume \(directory): no such run directory")
        }
        guard FileManager.default.fileExists(atPath: directory + "/config.yaml"),
              FileManager.default.fileExists(atPath: directory + "/checkpoint.json") else {
            throw TrainingError("--resume \(directory): no checkpoint to resume from (expected config.yaml and checkpoint.json, written after each epoch of `vae train` or by `vae import`)")
        }
        var resolved = try ConfigLoader.load(directory + "/config.yaml", keysOfOtherModels: .ignore)
        let state = try Checkpoint.loadState(from: directory)
        let total = epochs ?? resolved.trainer.epochs
        guard total > state.epoch else {
            throw TrainingError("--epochs \(total): the run in \(directory) has already completed \(state.epoch) epochs; give a total greater than \(state.epoch)")
        }
        resolved.trainer.epochs = total
        if let learningRate { resolved.experiment.learningRate = learningRate }
        try resolved.validate()
        let backend = try cudaBackend(resolved.trainer.device, flag: "--device cuda (trainer_params.device)", group: group,
                                          tf32: resolved.trainer.tf32)
        let trainer = try Trainer(config: resolved, group: group)
        (trainer.rankReduction, trainer.backend) = (mpiReduction, backend)
        try trainer.restore(from: directory)
        guard group.rank == 0 else { return try trainer.run(in: directory, report: { _ in }) }
        // config.yaml describes the run up to its last checkpoint: if no new epoch completes, the old one goes back.
        let savedConfig = try AtomicFile.read(directory + "/config.yaml", maximumBytes: 1 << 20)
        defer {
            if trainer.epoch == state.epoch { try? AtomicFile.write(savedConfig, to: directory + "/config.yaml") }
        }
        if let recorded = RunDirectory.recordedEnvironment(in: directory),
           let difference = RunDirectory.environmentDifference(recorded, ranks: group.size) {
            Console.note("note: \(difference); the resumed epochs may differ in the last bits from an uninterrupted run")
        }
        Console.progress("resuming \(resolved.model.name) in \(directory) after epoch \(state.epoch) (step \(state.step)), training to epoch \(total)" + trainer.processesText)
        Console.event("resume", ["model": resolved.model.name, "directory": directory, "epoch": state.epoch, "step": state.step,
                                 "epochs": total])
        try runShowingProgress(trainer, in: directory)
    }

    /// Runs the trainer's remaining epochs: a line (or JSON object) per epoch on standard error, a progress bar on
    /// terminals; the run directory's report on standard output.
    func runShowingProgress(_ trainer: Trainer, in directory: String) throws {
        let bar = Console.progressBar
        try trainer.run(in: directory, resumeAdvice: true, report: { line in
            bar?.clear()
            // In JSON, the epoch objects say what the epoch lines say; other lines (a prior fit's) are notes.
            if Console.format == .text { Console.progress(line) } else if !line.hasPrefix("epoch ") { Console.note(line) }
        }, progress: bar.map { bar in { done, total, loss in bar.show(done, total, label: String(format: "loss %.2f", loss)) } },
        epochMetrics: { metrics in
            Console.event("epoch", Dictionary(uniqueKeysWithValues: zip(EpochMetrics.header.split(separator: ",").map(String.init),
                                                                         metrics.csvFields)))
        })
        if let backend = trainer.backend as? CUDABackend {
            if let caching = backend.ops.device as? CachingDevice {
                Console.note("note: on \(backend.name), \(trainer.step) steps with their evaluations and pictures: \(caching.workSummary)")
            }
            if let kept = trainer.examplesKeptOnDevice {
                Console.note(kept ? "note: the training examples stayed on \(backend.name): copied there once, each epoch's order gathered there"
                    : "note: each batch was copied to \(backend.name): the examples were not kept there (more than a quarter of its free memory, or a model that reads its input on the host)")
            }
            if !backend.hostFallbacks.isEmpty {
                let ops = backend.hostFallbacks.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }
                Console.note("note: on \(backend.name), ops without a CUDA kernel yet ran on the CPU with copies: \(ops.joined(separator: ", "))")
            }
        }
        print("wrote \(directory)/report.html (metrics.csv, model.safetensors and the pictures beside it)")
    }
}

extension Trainer {
    /// Runs, and when training stops after a checkpoint was written, says how to continue from it.
    func run(in directory: String, resumeAdvice: Bool, report: (String) -> Void,
             progress: ((Int, Int, Double) -> Void)?, epochMetrics: ((EpochMetrics) -> Void)?) throws {
        do {
            try run(in: directory, report: report, progress: progress, epochMetrics: epochMetrics)
        } catch let error as TrainingError where epoch > 0 {
            throw TrainingError(error.description + "; continue with `vae train --resume \(directory) --learning-rate …`")
        }
    }
}

/// An in-place progress bar for terminals, redrawn at most ten times a second.
final class ProgressBar {
    private var lastDraw = Date.distantPast

    func show(_ done: Int, _ total: Int, label: String) {
        guard done == total || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)  \(label)".utf8))
    }

    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
}

extension RankReduction: ExpressibleByArgument {}
