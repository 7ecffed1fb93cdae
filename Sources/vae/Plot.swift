import ArgumentParser
import Foundation
import VAEData
import VAEModels
import VAETensor
import VAEPictures
import VAETraining

struct Plot: ParsableCommand {
    static let kinds = PictureKind.allCases.map(\.rawValue) + ["all", "report"]

    static let configuration = CommandConfiguration(
        abstract: "Draw a picture of a trained run: \(kinds.joined(separator: ", ")).",
        discussion: """
            Pictures go into the run directory (samples.png, reconstructions.png, interpolation.png, traversal.png,
            manifold.png, scatter.svg, losses.svg) unless --output names another file. `all` writes every picture
            and report.html; `report` writes only report.html, with every picture embedded.
            """)

    @Argument(help: "A run directory written by `vae train`.")
    var runDirectory: String
    @Argument(help: "What to draw: \(kinds.joined(separator: ", ")).")
    var kind: String
    @Option(help: "File to write (a directory for `all`); default: the kind's file in the run directory.")
    var output: String?
    @Option(parsing: .unconditional, help: "Seed of the picture streams (default: the run's exp_params.seed, as `vae train` drew them).")
    var seed: Int?
    @Flag(help: "Interpolate along great circles (slerp) instead of straight lines.")
    var spherical = false
    @Option(help: "Directory of test data (default: the run's data_params.data_dir).")
    var data: String?
    @Option(parsing: .unconditional, help: "Number of prior samples in samples.png (default: trainer_params.picture_count).")
    var count: Int?
    @Option(help: "Text runs, interpolation: the first sentence (default: the first test sentence).")
    var from: String?
    @Option(help: "Text runs, interpolation: the last sentence (default: the second test sentence).")
    var to: String?
    @Option(parsing: .unconditional, help: "Text runs, interpolation: sentences in the homotopy, ends included (2…64).")
    var steps = 8
    @Option(parsing: .unconditional, help: "Traversal: rows, one per latent dimension, the most active (largest KL) first (default 8, or the latent size when smaller).")
    var dimensions: Int?
    @Option(help: "Where samples.png's codes come from: normal (the prior), gmm or two-stage (see `vae sample --sampler`).")
    var sampler = "normal"

    func validate() throws {
        if let seed, seed < 0 { throw ValidationError("--seed must be 0 or greater, got \(seed)") }
        if steps < 2 || steps > 64 { throw ValidationError("--steps must be from 2 to 64, got \(steps)") }
        if let count, count < 1 || count > 4096 { throw ValidationError("--count must be from 1 to 4096, got \(count)") }
        if let dimensions, dimensions < 1 { throw ValidationError("--dimensions must be 1 or more, got \(dimensions)") }
        if PostHocSampler(rawValue: sampler) == nil {
            throw ValidationError("--sampler: expected one of \(PostHocSampler.allCases.map(\.rawValue).joined(separator: ", ")), got '\(sampler)'")
        }
    }

    @Flag(help: "No progress or notes on standard error (errors still show); results stay on standard output.")
    var quiet = false

    func run() throws {
        Console.quiet = quiet
        try reportingErrors {
            // Checked here rather than in validate() so the message is our one line, not a usage screen.
            guard Plot.kinds.contains(kind) else {
                throw ValidationError("KIND '\(kind)' is not a picture; expected one of \(Plot.kinds.joined(separator: ", "))")
            }
            let selected = PictureKind(rawValue: kind)
            if let selected, let output {
                let suffix = "." + (selected.fileName.split(separator: ".").last.map(String.init) ?? "")
                guard output.lowercased().hasSuffix(suffix) else {
                    throw ValidationError("--output must name a \(suffix) file for \(kind), got '\(output)'")
                }
            }
            if kind == "report", let output, !output.lowercased().hasSuffix(".html") {
                throw ValidationError("--output must name a .html file for report, got '\(output)'")
            }

            let run = try TrainedRun(directory: runDirectory)
            BLAS.setThreadCount(run.config.trainer.threads)
            if let model = run.model as? SentenceVAE, let vocabulary = run.vocabulary {
                if dimensions != nil { throw ValidationError("--dimensions applies to an image run's traversal; \(runDirectory) is a text run") }
                try text(run, model: model, vocabulary: vocabulary)
                return
            }
            if from != nil || to != nil { throw ValidationError("--from and --to apply to text runs; \(runDirectory) is an image run") }
            if let dimensions, dimensions > run.model.latentSize {
                throw ValidationError("--dimensions \(dimensions): \(runDirectory)'s model has \(run.model.latentSize) latent dimensions")
            }
            let needsData = selected.map { $0 != .samples && $0 != .losses } ?? true
            let (images, labels, classNames) = needsData ? try testData(run) : (Tensor.zeros([0, run.state.inputShape.reduce(1, *)]), [], [])
            let metricsPath = runDirectory + "/metrics.csv"
            var inputs = PictureInputs(
                model: run.model, imageShape: run.state.inputShape, testImages: images, labels: labels,
                dataset: run.config.data.dataset, classNames: classNames, seed: seed.map(UInt64.init) ?? run.config.experiment.seed,
                sampleCount: count ?? run.config.trainer.pictureCount, spherical: spherical,
                metricsPath: FileManager.default.fileExists(atPath: metricsPath) ? metricsPath : nil,
                traversalDimensions: dimensions ?? 8)
            if let kind = PostHocSampler(rawValue: sampler), kind != .normal {
                let codes = try kind.latents(run, count: inputs.sampleCount, seed: inputs.seed, report: { Console.note($0) })
                inputs.sampleLatents = (codes, sampler)
            }

            if let selected {
                let picture = try RunPictures.render(selected, inputs)
                let path = output ?? runDirectory + "/" + picture.fileName
                try RunPictures.write(picture, to: path)
                print("wrote \(path)")
                return
            }
            let pictures = try RunPictures.renderAll(inputs)
            if kind == "all" {
                let directory = output ?? runDirectory
                try RunDirectory.create(directory)
                try RunPictures.write(pictures, in: directory)
                print("wrote \(pictures.map(\.fileName).joined(separator: ", ")) to \(directory)")
            }
            let html = try ReportPage.html(directory: runDirectory, pictures: pictures)
            let reportPath = kind == "report" ? (output ?? runDirectory + "/" + ReportPage.fileName)
                                              : (output ?? runDirectory) + "/" + ReportPage.fileName
            try RunDirectory.write(html, to: reportPath)
            print("wrote \(reportPath)")
        }
    }

    /// The run's test images as training evaluated them (binarised with the same stream when the run binarises),
    /// and their labels.
    func testData(_ run: TrainedRun) throws -> (Tensor, [Int], [String]) {
        let (test, inputs) = try run.testData(dataDirectory: data)
        return (inputs, test.labels, test.classNames)
    }

    /// A text run: sentences on standard output (samples, reconstructions, interpolation) or report.html.
    func text(_ run: TrainedRun, model: SentenceVAE, vocabulary: Vocabulary) throws {
        let kinds = ["samples", "reconstructions", "interpolation", "all", "report"]
        guard kinds.contains(kind) else {
            throw ValidationError("KIND '\(kind)': a text run has \(kinds.joined(separator: ", "))")
        }
        let report = TextReport(model: model, vocabulary: vocabulary, seed: seed.map(UInt64.init) ?? run.config.experiment.seed)
        let count = count ?? 10
        if kind == "samples" {
            report.samples(count: count, decoding: .greedy).forEach { print($0) }
            return
        }
        guard model.latentSize > 0 || kind == "report" || kind == "all" else {
            throw ValidationError("KIND '\(kind)': \(run.config.model.name) has no latent code (a language model); try samples")
        }
        let (test, _) = try run.testData(dataDirectory: data)
        guard let sentences = test as? TextDataset else { return }
        switch kind {
        case "reconstructions":
            for pair in report.reconstructions(Array(sentences.sequences.prefix(count))) {
                print("> " + pair.input)
                print("= " + pair.output)
            }
        case "interpolation":
            func ids(_ text: String?, default index: Int, flag: String) throws -> [Int] {
                guard let text else {
                    guard index < sentences.count else { throw ValidationError("\(flag): the test set has fewer than 2 sentences; give the sentence") }
                    return sentences.sequences[index]
                }
                let tokens = Tokenizer.tokens(text)
                guard !tokens.isEmpty else { throw ValidationError("\(flag): '\(text)' has no words") }
                return vocabulary.ids(Array(tokens.prefix(model.maximumLength))) + [Vocabulary.end]
            }
            let lines = report.interpolation(from: try ids(from, default: 0, flag: "--from"), to: try ids(to, default: 1, flag: "--to"),
                                             steps: steps, spherical: spherical)
            lines.forEach { print($0) }
        default:
            let path = (kind == "report" ? output : output.map { $0 + "/" + ReportPage.fileName }) ?? runDirectory + "/" + ReportPage.fileName
            try RunDirectory.write(try ReportPage.html(directory: runDirectory, pictures: [], texts: report.sections(test: sentences)), to: path)
            print("wrote \(path)")
        }
    }
}
