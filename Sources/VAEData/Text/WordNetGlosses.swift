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
                // The gloss follows the first " | " (the fields before it hold no "|").
                guard let bar = line.utf8.firstIndex(of: UInt8(ascii: "|")) else { continue }
                for part in parts(of: line[line.utf8.index(after: bar)...]) {
                    if part.count > 2, part.first == UInt8(ascii: "\""), part.last == UInt8(ascii: "\"") {
                        let example = trimmed(part.dropFirst().dropLast())
                        if !example.isEmpty { examples.append(example); all.append(example) }
                    } else {
                        let definition = trimmed(part.filter { $0 != UInt8(ascii: "\"") }[...])
                        if !definition.isEmpty { definitions.append(definition); all.append(definition) }
                    }
                }
            }
        }
        return (definitions, examples, all)
    }

    /// A gloss's UTF-8 bytes cut at `;` outside quotes (both are ASCII), empty parts dropped.
    static func parts(of gloss: Substring) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = [], quoted = false
        let bytes = Array(gloss.utf8)
        var start = 0
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == UInt8(ascii: ";") && !quoted {
                parts.append(strip(bytes[start..<index]))
                start = index + 1
            }
        }
        parts.append(strip(bytes[start...]))
        return parts.filter { !$0.isEmpty }
    }

    /// Bytes without the ASCII spaces and tabs at either end.
    static func strip(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: strip(bytes), as: UTF8.self) }

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
