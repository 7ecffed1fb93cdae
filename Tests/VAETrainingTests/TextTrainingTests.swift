import Foundation
import Testing
import TestSupport
import VAEData
import VAEFormats
import VAEModels
import VAETensor
@testable import VAETraining

extension ModelComputation {
    /// `sentence-vae` and `rnnlm` through the trainer, run directory, evaluation and report, on a small corpus
    /// written here (one file, split by line).
    @Suite struct TextTrainingTests {
        static let subjects = ["the cat", "a dog", "the bird", "my friend", "a small fish", "the old man"]
        static let verbs = ["sees", "likes", "follows", "finds"]

        /// A file of 240 sentences such as "The Cat Likes A Dog." (lines 20, 40, … are test sentences, lines 21, 41, …
        /// validation sentences: 217 training sentences).
        static func corpus(_ directory: String) throws -> String {
            let path = directory + "/corpus.txt"
            var lines: [String] = []
            for index in 0..<240 {
                let subject = subjects[index % subjects.count], verb = verbs[(index / 6) % verbs.count]
                let object = subjects[(index / 24 + index) % subjects.count]
                lines.append("\(subject.capitalized) \(verb) \(object).")
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        static func config(_ name: String, corpus: String, epochs: Int = 3) throws -> RunConfig {
            var config = try ConfigLoader.load(name)
            config.data.dataDirectory = corpus
            config.data.batchSize = 16
            config.data.testBatchSize = 100
            config.model[SentenceSettings.embeddingSize] = 16
            config.model[SentenceSettings.hiddenSize] = 32
            if name == "sentence-vae" {
                config.model[GaussianLatent.latentSize] = 4
                config.model[SentenceSettings.annealing] = "linear"
                config.model[SentenceSettings.annealingSteps] = 20
            }
            config.experiment.learningRate = 0.01
            config.trainer.epochs = epochs
            config.trainer.threads = 1
            return config
        }

        @Test func sentenceVAETrainsSavesItsVocabularyAndReloads() throws {
            let workspace = try Workspace("text-train")
            defer { workspace.remove() }
            let corpus = try Self.corpus(workspace.path)
            let config = try Self.config("sentence-vae", corpus: corpus)
            let (trainer, directory, lines) = try trainRun(config, label: "sentence-vae")
            defer { removeDirectory(directory) }
            #expect(trainer.train.count == 217 && trainer.test.count == 12)
            // The model reads back from the rows exactly the ids the dataset wrote into them.
            let text = try #require(trainer.train as? TextDataset)
            #expect(SentenceVAE.sentences(text.batch(0..<text.count)) == text.sequences)
            let vocabulary = try Vocabulary.read(fromDirectory: directory)
            // 4 specials, 6 subjects' words (the, cat, a, dog, bird, my, friend, small, fish, old, man), 4 verbs and ".".
            #expect(vocabulary.count == 4 + 11 + 4 + 1)
            let saved = try String(contentsOfFile: directory + "/config.yaml", encoding: .utf8)
            #expect(saved.contains("vocabulary_size: \(vocabulary.count)"))
            #expect(lines.count == 3)
            let metrics = try readMetrics(directory)
            let first = try number(metrics.rows[0], "test_loss"), last = try number(metrics.rows[2], "test_loss")
            #expect(last < first, "test −ELBO \(first) → \(last)")

            let run = try TrainedRun(directory: directory)
            #expect(run.vocabulary == vocabulary)
            let (test, inputs) = try run.testData()
            var noise = RandomStream(seed: 1, name: "evaluation"), again = noise
            let reloaded = withoutGradients { run.model.negativeELBO(inputs, noise: &noise) }
            let original = withoutGradients { trainer.model.negativeELBO(inputs, noise: &again) }
            #expect(reloaded.reconstruction.scalars == original.reconstruction.scalars)

            var report = Evaluator(model: run.model, batchSize: 100, threads: 1).report(inputs, importanceSamples: 10, seed: 0)
            let model = try #require(run.model as? SentenceVAE), sentences = try #require(test as? TextDataset)
            report.addText(model: model, sentences: sentences, inputs: inputs, seed: 0, batchSize: 100)
            let nll = try #require(report.negativeLogLikelihood), perplexity = try #require(report.perplexity)
            #expect(abs(perplexity - exp(nll * Double(sentences.count) / Double(sentences.tokenCount))) < 1e-9 * perplexity)
            #expect(report.bitsPerDimension == nil && report.tokens == sentences.tokenCount)
            #expect(try #require(report.mutualInformation) >= 0 && report.mutualInformation! <= log(12.0) + 1e-9)

            let page = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
            for heading in ["Samples", "Reconstructions", "Interpolation"] { #expect(page.contains(">\(heading)</h2>")) }

            // A vocabulary file that is not the weights' is refused, naming it.
            try (vocabulary.tokens.dropLast().joined(separator: "\n") + "\n").write(toFile: directory + "/vocabulary.txt", atomically: true, encoding: .utf8)
            #expect { try TrainedRun(directory: directory) } throws: { "\($0)".contains("vocabulary.txt: 19 tokens, but the weights cover 20") }
        }

        @Test func theLanguageModelLearnsTheCorpus() throws {
            let workspace = try Workspace("text-rnnlm")
            defer { workspace.remove() }
            let config = try Self.config("rnnlm", corpus: try Self.corpus(workspace.path), epochs: 4)
            let (trainer, directory, _) = try trainRun(config, label: "rnnlm")
            defer { removeDirectory(directory) }
            #expect(trainer.model.latentSize == 0)
            let metrics = try readMetrics(directory)
            // A sentence is 5 tokens with <eos>, of which the subjects, verb and object are 6·4·6 choices: ≈ 4.9 nats at best.
            let last = try number(metrics.rows[3], "test_loss")
            #expect(last < 9, "test NLL \(last) nats per sentence")
            #expect(try number(metrics.rows[3], "kl") == 0)
        }

        @Test func textAndImageModelsRefuseEachOthersData() throws {
            let workspace = try Workspace("text-bad")
            defer { workspace.remove() }
            let corpus = try Self.corpus(workspace.path)
            var imageModel = try Self.config("rnnlm", corpus: corpus)
            imageModel.model = try ConfigLoader.load("mlp").model
            #expect { try Trainer(config: imageModel) } throws: { "\($0)".contains("text data needs a text model (model_params.name: sentence-vae or rnnlm)") }

            var short = try Self.config("sentence-vae", corpus: corpus)
            short.data.maximumLength = 2
            #expect { try Trainer(config: short) } throws: { "\($0)".contains("no train sentence has at most 2 tokens (data_params.max_length") }
            short.data.longSentences = "cut"
            #expect(try Trainer(config: short).train.count == 217)

            var sized = try Self.config("sentence-vae", corpus: corpus)
            sized.model[SentenceSettings.vocabularySize] = 50
            #expect { try Trainer(config: sized) } throws: { "\($0)".contains("model_params.vocabulary_size: 50, but the data's vocabulary has 20 tokens") }

            var empty = try Self.config("sentence-vae", corpus: workspace.path + "/missing.txt")
            empty.data.dataDirectory = workspace.path + "/missing.txt"
            #expect { try Trainer(config: empty) } throws: { "\($0)".contains("missing.txt") }
        }
    }
}
