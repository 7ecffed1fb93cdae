import Foundation
import VAEFormats

/// A text corpus, one sentence per line, tokenised (``Tokenizer``), in three splits.
///
/// ``load(path:)`` reads a directory holding the three splits by name (`ptb.train.txt`, `ptb.valid.txt`,
/// `ptb.test.txt` as the Penn Treebank ships, or `train.txt`, `valid.txt`, `test.txt`), or one file, split by line
/// number: every 20th line (lines 20, 40, …) is a test sentence, the line after it a validation sentence, the
/// rest training sentences. Blank lines are skipped. A file that is not UTF-8 text (or holds NUL bytes), or has
/// no sentence, is an error naming the file (and the line).
public struct TextCorpus: Sendable {
    public var train: [[String]]
    public var valid: [[String]]
    public var test: [[String]]
    public let source: String

    public init(train: [[String]], valid: [[String]], test: [[String]], source: String) {
        (self.train, self.valid, self.test, self.source) = (train, valid, test, source)
    }

    /// Lines 20, 40, … go to test, the line after each to valid (1-based line numbers).
    public static let splitStride = 20

    public static func load(path: String) throws -> TextCorpus {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(source: path, "no such file or directory (data_params.data_dir of a text run: a text file, one sentence per line, or a directory of train/valid/test files)")
        }
        if !isDirectory.boolValue { return split(try lines(of: path), source: path) }
        for names in [["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"], ["train.txt", "valid.txt", "test.txt"]] {
            let paths = names.map { path + "/" + $0 }
            if paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                let splits = try paths.map { try lines(of: $0).map { Tokenizer.tokens($0.text) } }
                return TextCorpus(train: splits[0], valid: splits[1], test: splits[2], source: path)
            }
        }
        throw FormatError(source: path, "expected ptb.train.txt, ptb.valid.txt and ptb.test.txt (or train.txt, valid.txt and test.txt) in this directory")
    }

    /// Sentences of one text in the three splits by line number (see the type's rule).
    public static func split(_ lines: [(number: Int, text: String)], source: String) -> TextCorpus {
        var corpus = TextCorpus(train: [], valid: [], test: [], source: source)
        for (number, text) in lines {
            let tokens = Tokenizer.tokens(text)
            switch number % splitStride {
            case 0: corpus.test.append(tokens)
            case 1 where number > 1: corpus.valid.append(tokens)
            default: corpus.train.append(tokens)
            }
        }
        return corpus
    }

    /// The non-blank lines of a UTF-8 text file with their 1-based numbers.
    public static func lines(of path: String) throws -> [(number: Int, text: String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw FormatError(source: path, "cannot be read") }
        if let zero = data.firstIndex(of: 0) {
            let line = data[..<zero].filter { $0 == 10 }.count + 1
            throw FormatError(source: path, "line \(line): a NUL byte; expected UTF-8 text, one sentence per line (is this a binary file?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            var line = 1
            for piece in data.split(separator: 10, omittingEmptySubsequences: false) {
                if String(data: Data(piece), encoding: .utf8) == nil { break }
                line += 1
            }
            throw FormatError(source: path, "line \(line) is not UTF-8 text")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { (number: $0.offset + 1, text: String($0.element).trimmingCharacters(in: .whitespacesAndNewlines)) }
            .filter { !$0.text.isEmpty }
        guard !lines.isEmpty else { throw FormatError(source: path, "has no sentences (every line is blank)") }
        return lines
    }
}
