import Foundation
import VAEFormats

/// The built-in text corpus: the glosses of WordNet 3.0 (Debian's `wordnet-base`), split into sentences. Each
/// synset line of `data.noun`, `data.verb`, `data.adj` and `data.adv` ends with `| gloss`; a gloss is parts
/// separated by `; `, a quoted part being an example sentence and any other part a definition ("draw air into, and
/// expel out of, the lungs; "I can breathe better when the air is clean""). The licence header (lines starting with
/// two spaces) is skipped. Sentences keep the files' order (noun, verb, adj, adv) and are split as one text file
/// (``TextCorpus/split(_:source:)``: every 20th sentence test, the next valid).
public enum WordNetGlosses {
    public static let directory = "/usr/share/wordnet"
    public static let files = ["data.noun", "data.verb", "data.adj", "data.adv"]

    /// Definitions and examples, in file order.
    public static func sentences(directory: String = directory) throws -> (definitions: [String], examples: [String], all: [String]) {
        var definitions: [String] = [], examples: [String] = [], all: [String] = []
        for file in files {
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw FormatError(source: path, "cannot be read as text (WordNet's data files come with Debian's wordnet-base: scripts/setup.sh installs it)")
            }
            for line in text.split(separator: "\n") where !line.hasPrefix("  ") {
                guard let bar = line.range(of: " | ") else { continue }
                for part in parts(of: String(line[bar.upperBound...])) {
                    if part.count > 2, part.hasPrefix("\""), part.hasSuffix("\"") {
                        let example = String(part.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                        if !example.isEmpty { examples.append(example); all.append(example) }
                    } else {
                        let definition = part.replacingOccurrences(of: "\"", with: "").trimmingCharacters(in: .whitespaces)
                        if !definition.isEmpty { definitions.append(definition); all.append(definition) }
                    }
                }
            }
        }
        return (definitions, examples, all)
    }

    /// A gloss cut at `;` outside quotes, each part trimmed.
    static func parts(of gloss: String) -> [String] {
        var parts: [String] = [], current = "", quoted = false
        for character in gloss {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts.filter { !$0.isEmpty }
    }

    /// The corpus: every sentence a line, split as one text file.
    public static func corpus(directory: String = directory) throws -> TextCorpus {
        let all = try sentences(directory: directory).all
        return TextCorpus.split(all.enumerated().map { (number: $0.offset + 1, text: $0.element) },
                                source: "WordNet 3.0 glosses (\(directory))")
    }

    /// Writes the corpus as `train.txt`, `valid.txt` and `test.txt` (tokens joined by spaces) into `output`,
    /// a directory `data_params.data_dir` can name.
    public static func write(to output: String, directory: String = directory) throws {
        let corpus = try corpus(directory: directory)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for (name, sentences) in [("train.txt", corpus.train), ("valid.txt", corpus.valid), ("test.txt", corpus.test)] {
            try AtomicFile.write(Array(sentences.map { $0.joined(separator: " ") + "\n" }.joined().utf8), to: output + "/" + name)
        }
    }
}
