import Foundation
import VAEFormats

/// Token ↔ id: the four special tokens first (`<pad>` 0, `<unk>` 1, `<bos>` 2, `<eos>` 3), then the corpus's tokens
/// by frequency (most frequent first, ties in byte order), at most `size` ids in all and only tokens seen at least
/// `minimumCount` times; every other token maps to `<unk>`. Saved beside a run's weights as `vocabulary.txt`, one
/// token per line, line n holding id n − 1.
public struct Vocabulary: Equatable, Sendable {
    public static let specials = ["<pad>", "<unk>", "<bos>", "<eos>"]
    public static let padding = 0, unknown = 1, beginning = 2, end = 3
    public static let fileName = "vocabulary.txt"

    /// The token of each id.
    public let tokens: [String]
    private let ids: [String: Int]

    public init(tokens: [String]) throws {
        guard Array(tokens.prefix(4)) == Self.specials else {
            throw FormatError(message: "a vocabulary starts with \(Self.specials.joined(separator: ", ")), got \(tokens.prefix(4).joined(separator: ", "))")
        }
        var ids: [String: Int] = [:]
        for (id, token) in tokens.enumerated() {
            guard ids[token] == nil else { throw FormatError(message: "vocabulary: token '\(token)' appears twice (ids \(ids[token]!) and \(id))") }
            ids[token] = id
        }
        self.tokens = tokens
        self.ids = ids
    }

    /// The vocabulary of `sentences` (token lists): see the type's rule.
    public init(counting sentences: [[String]], size: Int, minimumCount: Int = 1) {
        var counts: [String: Int] = [:]
        for sentence in sentences { for token in sentence { counts[token, default: 0] += 1 } }
        let ranked = counts.filter { $0.value >= minimumCount && !Self.specials.contains($0.key) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        // The ids are distinct by construction.
        try! self.init(tokens: Self.specials + ranked.prefix(max(0, size - Self.specials.count)).map(\.key))
    }

    public var count: Int { tokens.count }

    public func id(_ token: String) -> Int { ids[token] ?? Self.unknown }

    public func ids(_ tokens: [String]) -> [Int] { tokens.map(id) }

    /// The words of `ids` joined by spaces, stopping at `<eos>`, without `<bos>` and padding.
    public func sentence(_ ids: [Int]) -> String {
        ids.prefix { $0 != Self.end }.filter { $0 != Self.beginning && $0 != Self.padding }
            .map { $0 >= 0 && $0 < tokens.count ? tokens[$0] : "<unk>" }.joined(separator: " ")
    }

    /// Writes `vocabulary.txt` into `directory` (atomically).
    public func write(toDirectory directory: String) throws {
        try AtomicFile.write(Array((tokens.joined(separator: "\n") + "\n").utf8), to: directory + "/" + Self.fileName)
    }

    /// Reads `vocabulary.txt` from `directory`; an error names the file and line of what is wrong.
    public static func read(fromDirectory directory: String) throws -> Vocabulary {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError(source: path, "no vocabulary file (a text run writes it beside its weights)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw FormatError(source: path, "not UTF-8 text") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tokens = Array(lines.last == "" ? lines.dropLast() : lines[...])
        if let empty = tokens.firstIndex(where: \.isEmpty) {
            throw FormatError(source: path, "line \(empty + 1) is empty (one token per line expected)")
        }
        do {
            return try Vocabulary(tokens: tokens)
        } catch let error as FormatError {
            throw FormatError(source: path, error.message)
        }
    }
}
