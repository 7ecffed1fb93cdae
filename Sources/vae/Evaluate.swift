import ArgumentParser
import Foundation
import VAEData
import VAETensor
import VAEFormats
import VAEModels
import VAETraining

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Test −ELBO, importance-weighted NLL, KL per dimension and active units of a trained run.")

    @Argument(help: "A run directory written by `vae train`.")
    var runDirectory: String
    @Option(name: [.customShort("k"), .long], parsing: .unconditional, help: "Importance samples per image (or sentence) for the NLL (0 skips it; default 5000 for images, 100 for sentences, whose decoder runs once per sample).")
    var importanceSamples: Int?
    @Option(parsing: .unconditional, help: "Evaluate only the first N test images (0 = the whole test set).")
    var limit = 0
    @Option(help: "Directory of IDX files (default: the run's data_params.data_dir).")
    var data: String?
    @Option(parsing: .unconditional, help: "Seed of the evaluation noise.")
    var seed = 0
    @Flag(help: "Also measure sample quality: the Fréchet distance between samples and test images in the features of a classifier trained on the dataset's labels (cached beside the run, in .classifiers/), and the samples' precision and recall.")
    var sampleQuality = false
    @Option(help: "Where --sample-quality's samples take their codes from: normal (the prior), gmm or two-stage (see `vae sample --sampler`).")
    var sampler = "normal"
    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if let importanceSamples, importanceSamples < 0 { throw ValidationError("--importance-samples must be 0 or greater, got \(importanceSamples)") }
        if limit < 0 { throw ValidationError("--limit must be 0 or greater, got \(limit)") }
        if seed < 0 { throw ValidationError("--seed must be 0 or greater, got \(seed)") }
        if PostHocSampler(rawValue: sampler) == nil {
            throw ValidationError("--sampler: expected one of \(PostHocSampler.allCases.map(\.rawValue).joined(separator: ", ")), got '\(sampler)'")
        }
    }

    @Flag(help: "No progress or notes on standard error (errors still show); results stay on standard output.")
    var quiet = false

    @Option(help: "Where to evaluate: cpu, or cuda (GPU 0; `vae devices` shows what this machine has).")
    var device = "cpu"

    @Flag(help: "With --device cuda: products in TF32 on the tensor cores (faster, inputs rounded to 10 bits of mantissa); FP32 without it, whatever the run trained with.")
    var tf32 = false

    @Option(parsing: .unconditional, help: "Decoder rows per pass of the NLL: k samples of one image, or the samples of several images together (default 2048, which keeps a CPU's passes in cache; on a GPU a larger pass, e.g. 32768, issues fewer launches and reads back fewer times, at the cost of memory).")
    var chunk = 2048

    func run() throws {
        Console.quiet = quiet
        try reportingErrors {
            guard ["cpu", "cuda"].contains(device) else { throw ValidationError("--device must be cpu or cuda, got '\(device)'") }
            guard (1...(1 << 24)).contains(chunk) else { throw ValidationError("--chunk must be from 1 to 16777216 decoder rows, got \(chunk)") }
            // Under mpirun the images are split across the ranks (each rank's shards on its threads); rank 0 prints and
            // writes. A rank waits for the others' whole share of the NLL, hence the day-long timeout.
            let group = try processGroup(timeout: 86_400)
            if group.rank != 0 { Console.quiet = true }
            guard !tf32 || device == "cuda" else { throw ValidationError("--tf32 sets how a GPU multiplies: use it with --device cuda (got --device \(device))") }
            let backend = try cudaBackend(device, flag: "--device cuda", group: group, tf32: tf32)
            let run = try TrainedRun(directory: runDirectory)
            BLAS.setThreadCount(run.config.trainer.threads)
            let (test, images) = try run.testData(dataDirectory: data, limit: limit)
            run.model.move(to: backend)
            var evaluator = Evaluator(model: run.model, labels: test.labels, batchSize: run.config.data.testBatchSize,
                                      threads: backend == nil ? run.config.trainer.shardThreads : 1, group: group)
            evaluator.importanceChunk = chunk
            let bar = Console.progressBar
            let importanceSamples = self.importanceSamples ?? (test is TextDataset ? 100 : 5000)
            var report = evaluator.report(images, importanceSamples: importanceSamples, seed: UInt64(seed),
                                          progress: bar.map { bar in { bar.show(min($0 * group.size, test.count), test.count, label: "NLL") } })
            bar?.clear()
            guard group.rank == 0 else { return }
            if let model = run.model as? SentenceVAE, let sentences = test as? TextDataset {
                report.addText(model: model, sentences: sentences, inputs: images, seed: UInt64(seed),
                               batchSize: run.config.data.testBatchSize)
            }
            if sampleQuality {
                let folder = URL(fileURLWithPath: runDirectory).standardizedFileURL.deletingLastPathComponent().path + "/.classifiers"
                let quality = try SampleQuality.measure(run, limit: limit, seed: UInt64(seed),
                                                        sampler: PostHocSampler(rawValue: sampler) ?? .normal, classifierFolder: folder,
                                                        report: { Console.note($0) })
                report.sampleQuality = ["frechet_classifier_distance": quality.frechetDistance, "precision": quality.precision,
                                        "recall": quality.recall, "classifier_accuracy": quality.classifierAccuracy]
            }
            let encoded = try JSONOutput.encode(report)
            // Kept beside the run for report.html (`vae plot RUN report`); the latest evaluation wins.
            try RunDirectory.write(encoded + "\n", to: runDirectory + "/eval.json")
            if json {
                print(encoded)
            } else {
                func line(_ label: String, _ value: String) { print(label.padding(toLength: 20, withPad: " ", startingAt: 0) + value) }
                line(report.tokens == nil ? "images" : "sentences", "\(report.images)" + (report.tokens.map { " (\($0) tokens)" } ?? ""))
                line("-ELBO", String(format: "%.2f nats  (reconstruction %.2f, kl %.2f)", report.negativeELBO, report.reconstruction, report.kl))
                if let nll = report.negativeLogLikelihood {
                    line("NLL (IWAE k=\(report.importanceSamples ?? 0))", String(format: "%.2f nats", nll)
                         + (report.bitsPerDimension.map { String(format: "  (%.4f bits/dim)", $0) } ?? ""))
                }
                if let perplexity = report.perplexity { line("perplexity", String(format: "%.2f per word (from the NLL)", perplexity)) }
                if let perplexity = report.elboPerplexity { line("ELBO perplexity", String(format: "%.2f per word (an upper bound)", perplexity)) }
                if let information = report.mutualInformation { line("I(x; z)", String(format: "%.2f nats (He et al. 2019)", information)) }
                line("active units", "\(report.activeUnits) of \(report.klPerDimension.count)")
                for (name, value) in (report.diagnostics ?? [:]).sorted(by: { $0.key < $1.key }) {
                    line(name.replacingOccurrences(of: "_", with: " "), String(format: "%.1f", value))
                }
                if report.klPerDimension.count <= 64 {
                    line("KL per dimension", report.klPerDimension.map { String(format: "%.2f", $0) }.joined(separator: " "))
                } else {
                    // A code map (vq-vae) or many one-hot codes: thousands of numbers are for eval.json, not a terminal.
                    let largest = report.klPerDimension.max() ?? 0
                    line("KL per dimension", String(format: "%d values, largest %.2f (all in eval.json)", report.klPerDimension.count, largest))
                }
                if let quality = report.sampleQuality {
                    line("sample quality", String(format: "Fréchet classifier distance %.2f, precision %.3f, recall %.3f (classifier accuracy %.4f)",
                                                  quality["frechet_classifier_distance"] ?? .nan, quality["precision"] ?? .nan,
                                                  quality["recall"] ?? .nan, quality["classifier_accuracy"] ?? .nan))
                }
                line("seconds", String(format: "%.1f", report.seconds))
                line("saved", runDirectory + "/eval.json")
            }
        }
    }
}
