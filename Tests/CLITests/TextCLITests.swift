import Foundation
import TestSupport
import Testing

/// A text run through the binary: train on a small corpus file, evaluate, sample sentences with each decoding,
/// interpolate between two sentences, write the report; and the text flags' errors.
@Suite(.serialized)
struct TextCLITests {
    @Test func sentenceVAETrainsEvaluatesSamplesAndInterpolates() throws {
        let workspace = try makeTemporaryDirectory("text-cli")
        defer { removeDirectory(workspace) }
        let subjects = ["the cat", "a dog", "the bird", "my friend"], verbs = ["sees", "likes", "follows"]
        var lines = (0..<200).map { "\(subjects[$0 % 4]) \(verbs[($0 / 4) % 3]) \(subjects[($0 / 12 + $0) % 4])." }
        lines[5] = Array(repeating: "the cat sees a dog and", count: 10).joined(separator: " ") + "."   // 61 tokens
        try lines.joined(separator: "\n").write(toFile: workspace + "/corpus.txt", atomically: true, encoding: .utf8)
        let config = """
        model_params: {name: sentence-vae, embedding_size: 16, hidden_size: 32, latent_size: 4, kl_annealing: linear, kl_steps: 30}
        data_params: {format: text, data_dir: \(workspace)/corpus.txt, batch_size: 16, test_batch_size: 50}
        exp_params: {learning_rate: 0.01}
        trainer_params: {epochs: 2, threads: 1}
        """
        try config.write(toFile: workspace + "/text.yaml", atomically: true, encoding: .utf8)
        let run = workspace + "/run"
        let train = try runVAE(["train", "--config", workspace + "/text.yaml", "--output", run], in: workspace)
        #expect(train.status == 0, "stderr: \(train.standardError)")
        #expect(train.standardError.contains("sentences of"), "stderr: \(train.standardError)")
        #expect(train.standardError.contains("1 training sentence longer than 40 tokens dropped (data_params.max_length, long_sentences)"),
                "stderr: \(train.standardError)")
        #expect(FileManager.default.fileExists(atPath: run + "/vocabulary.txt"))

        let evaluation = try runVAE(["eval", run, "-k", "5", "--json"], in: workspace)
        #expect(evaluation.status == 0, "stderr: \(evaluation.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(evaluation.standardOutput.utf8)) as? [String: Any])
        let perplexity = try #require(report["perplexity"] as? Double), tokens = try #require(report["tokens"] as? Int)
        // 10 test sentences of 4 or 5 words, a full stop and <eos>.
        #expect(tokens >= 60 && tokens <= 70 && perplexity > 1 && perplexity < 1000, "\(tokens) tokens, perplexity \(perplexity)")
        #expect(report["mutual_information"] is Double && report["bits_per_dimension"] == nil)

        for decoding in ["greedy", "sample", "beam"] {
            let sample = try runVAE(["sample", run, "--count", "3", "--decoding", decoding], in: workspace)
            #expect(sample.status == 0, "stderr: \(sample.standardError)")
            #expect(sample.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).count == 4, "\(decoding): \(sample.standardOutput)")
        }
        let interpolation = try runVAE(["plot", run, "interpolation", "--from", "the cat sees a dog", "--to", "my friend likes the bird",
                                        "--steps", "5"], in: workspace)
        #expect(interpolation.status == 0, "stderr: \(interpolation.standardError)")
        #expect(interpolation.standardOutput.split(separator: "\n").count == 5)
        let page = try runVAE(["plot", run, "report"], in: workspace)
        #expect(page.status == 0, "stderr: \(page.standardError)")
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(html.contains(">Interpolation</h2>") && html.contains(">Reconstructions</h2>"))

        let picture = try runVAE(["plot", run, "manifold"], in: workspace)
        expectSingleErrorLine(picture, mentioning: ["manifold", "a text run has samples, reconstructions, interpolation"])
        let sampler = try runVAE(["sample", run, "--sampler", "gmm"], in: workspace)
        expectSingleErrorLine(sampler, mentioning: ["--sampler and --label apply to image runs", "text run"])
        let decoding = try runVAE(["sample", run, "--decoding", "topk"], in: workspace)
        expectSingleErrorLine(decoding, mentioning: ["--decoding", "greedy, sample or beam", "topk"])
    }
}
