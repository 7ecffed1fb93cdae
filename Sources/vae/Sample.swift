import ArgumentParser
import Foundation
import VAEModels
import VAEPictures
import VAETensor
import VAETraining

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode draws from the prior into a PNG grid, or, for a text run, into sentences on standard output.")

    @Argument(help: "A run directory written by `vae train`.")
    var runDirectory: String
    @Option(parsing: .unconditional, help: "Number of images (1…4096).")
    var count = 64
    @Option(parsing: .unconditional, help: "Seed of the prior draws.")
    var seed = 0
    @Option(help: "PNG file to write (image runs).")
    var output: String?
    @Option(help: "Text runs: how codes become words: greedy (the most likely word each step), sample (a word drawn from the softmax each step) or beam (beam search, --beam-width).")
    var decoding = "greedy"
    @Option(parsing: .unconditional, help: "Text runs: hypotheses kept by --decoding beam (1…100).")
    var beamWidth = 5
    @Option(parsing: .unconditional, help: "Class to draw, for a conditional model (cvae); without it a cvae draws one row per class.")
    var label: Int?
    @Option(help: "Where codes come from: normal (the model's prior), gmm (a 10-component Gaussian mixture fitted to the training set's posterior means) or two-stage (a second VAE trained on them); fitted samplers are saved in the run directory.")
    var sampler = "normal"

    func validate() throws {
        if count < 1 || count > 4096 { throw ValidationError("--count must be from 1 to 4096, got \(count)") }
        if seed < 0 { throw ValidationError("--seed must be 0 or greater, got \(seed)") }
        if let output, !output.lowercased().hasSuffix(".png") { throw ValidationError("--output must name a .png file, got '\(output)'") }
        if !["greedy", "sample", "beam"].contains(decoding) {
            throw ValidationError("--decoding: expected greedy, sample or beam, got '\(decoding)'")
        }
        if beamWidth < 1 || beamWidth > 100 { throw ValidationError("--beam-width must be from 1 to 100, got \(beamWidth)") }
        if PostHocSampler(rawValue: sampler) == nil {
            throw ValidationError("--sampler: expected one of \(PostHocSampler.allCases.map(\.rawValue).joined(separator: ", ")), got '\(sampler)'")
        }
    }

    @Flag(help: "No progress or notes on standard error (errors still show); results stay on standard output.")
    var quiet = false

    func run() throws {
        Console.quiet = quiet
        try reportingErrors {
            let run = try TrainedRun(directory: runDirectory)
            if let model = run.model as? SentenceVAE, let vocabulary = run.vocabulary {
                guard sampler == "normal", label == nil else {
                    throw ValidationError("--sampler and --label apply to image runs; \(runDirectory) is a text run")
                }
                var random = RandomStream(seed: UInt64(seed), name: "sampling")
                let codes = model.latentSize > 0 ? model.samplePrior(count: count, random: &random) : nil
                let choice: SentenceDecoding = decoding == "beam" ? .beam(width: beamWidth)
                    : decoding == "sample" ? .sampled(seed: UInt64(seed)) : .greedy
                for ids in model.decode(codes, batch: count, maximumLength: model.maximumLength, decoding: choice) {
                    print(vocabulary.sentence(ids))
                }
                return
            }
            guard let output else { throw ValidationError("--output: name the PNG file to write the samples to") }
            if label != nil && run.model.conditionClasses == 0 {
                throw ValidationError("--label: model '\(run.config.model.name)' is not conditioned on labels (only cvae is)")
            }
            let kind = PostHocSampler(rawValue: sampler) ?? .normal
            if kind != .normal && label != nil {
                throw ValidationError("--label and --sampler \(sampler) cannot be combined: the mixture is fitted to unlabelled codes")
            }
            let latents = kind == .normal ? nil : try kind.latents(run, count: count, seed: UInt64(seed), report: { Console.note($0) })
            try Pictures.samples(model: run.model, count: count, seed: UInt64(seed), imageShape: run.state.inputShape,
                                 label: label, latents: latents, to: output)
            print("wrote \(output)")
        }
    }
}

struct Configs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in configs, or print one with each model setting's doc.")

    @Argument(help: "A built-in config to print.")
    var name: String?

    func run() throws {
        try reportingErrors {
            if let name { print(try ConfigLoader.load(name).yaml(documented: true), terminator: "") }
            else { ConfigLoader.builtInNames.forEach { print($0) } }
        }
    }
}
