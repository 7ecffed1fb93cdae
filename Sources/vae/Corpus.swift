import ArgumentParser
import Foundation
import VAEData
import VAETraining

struct Corpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Write a text corpus as VAEKit tokenises it: train.txt, valid.txt and test.txt, tokens separated by spaces.",
        discussion: """
            The source is what data_params.data_dir of a text run names: a text file (split by line: lines 20, 40, …
            are test sentences, the line after each a validation sentence), a directory of train/valid/test files,
            or WordNet's directory (the default, /usr/share/wordnet: its glosses). The output directory is itself a
            corpus data_dir can name, and what benchmarks/torch_sentence_vae.py reads.
            """)

    @Option(help: "The text source (default: WordNet's glosses in /usr/share/wordnet).")
    var data = WordNetGlosses.directory
    @Option(help: "Directory to write train.txt, valid.txt and test.txt into (created if missing).")
    var output: String

    func run() throws {
        try reportingErrors {
            let corpus = try TextData.corpus(data)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for (name, sentences) in [("train.txt", corpus.train), ("valid.txt", corpus.valid), ("test.txt", corpus.test)] {
                try RunDirectory.write(sentences.map { $0.joined(separator: " ") + "\n" }.joined(), to: output + "/" + name)
            }
            print("wrote \(corpus.train.count) training, \(corpus.valid.count) validation and \(corpus.test.count) test sentences of \(corpus.source) to \(output)")
        }
    }
}
