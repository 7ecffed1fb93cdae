import Foundation
import Testing
import TestSupport
import VAEFormats
@testable import VAEData

/// Text: the tokeniser's rule, the vocabulary (ranking, cap, round trip, bad files), corpora from a directory or
/// one split file (bad files named with their line), sentences as padded id rows, and WordNet's glosses.
@Suite struct TextTests {
    @Test func tokensFollowTheRule() {
        #expect(Tokenizer.tokens("The cat's self-contained (really)!") == ["the", "cat's", "self-contained", "(", "really", ")", "!"])
        #expect(Tokenizer.tokens("  a  <unk> of N.Y. -- 3-d  ") == ["a", "<unk>", "of", "n", ".", "y", ".", "-", "-", "3-d"])
        #expect(Tokenizer.tokens("'quoted' end-") == ["'", "quoted", "'", "end", "-"])
        #expect(Tokenizer.tokens("Été à Zürich") == ["été", "à", "zürich"])
        #expect(Tokenizer.tokens("   ").isEmpty)
        // ASCII text takes a byte-level path: the same tokens as the character-level rule.
        for line in ["The cat's self-contained (really)!", "  a  <unk> of N.Y. -- 3-d  ", "'quoted' end-", "x-'y a--b ''z'' 9's",
                     "tab\there\r\nand\u{0B}more", "<UNK> <unk>x", "e.g., U.S.-based; \"quote\""] {
            var bytes = Array(line.utf8)
            #expect(Tokenizer.asciiTokens(&bytes) == Tokenizer.unicodeTokens(line), "\(line)")
        }
    }

    @Test func vocabularyRanksCapsAndRoundTrips() throws {
        let sentences = [["b", "a", "c"], ["a", "b"], ["a", "d"], ["e"]]
        let vocabulary = Vocabulary(counting: sentences, size: 7)
        #expect(vocabulary.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c"], "by count, ties in byte order, capped at 7")
        #expect(vocabulary.ids(["a", "e", "zzz"]) == [4, Vocabulary.unknown, Vocabulary.unknown])
        #expect(vocabulary.sentence([Vocabulary.beginning, 4, 5, Vocabulary.end, 6]) == "a b")
        #expect(Vocabulary(counting: sentences, size: 100, minimumCount: 2).tokens.dropFirst(4) == ["a", "b"])
        let workspace = try Workspace("vocabulary")
        defer { workspace.remove() }
        try vocabulary.write(toDirectory: workspace.path)
        #expect(try Vocabulary.read(fromDirectory: workspace.path) == vocabulary)
        let path = workspace.path + "/" + Vocabulary.fileName
        for (text, message) in [("<pad>\n<unk>\n<bos>\n<eos>\na\n\nb\n", "line 6 is empty"),
                                ("a\nb\n", "starts with <pad>"),
                                ("<pad>\n<unk>\n<bos>\n<eos>\na\na\n", "'a' appears twice")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try Vocabulary.read(fromDirectory: workspace.path)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(path) && "\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test func corporaFromADirectoryOrOneFile() throws {
        let workspace = try Workspace("corpus")
        defer { workspace.remove() }
        for (name, text) in [("ptb.train.txt", "a b\n\nc d e\n"), ("ptb.valid.txt", "f\n"), ("ptb.test.txt", "g h\n")] {
            try text.write(toFile: workspace.path + "/" + name, atomically: true, encoding: .utf8)
        }
        let directory = try TextCorpus.load(path: workspace.path)
        #expect(directory.train == [["a", "b"], ["c", "d", "e"]] && directory.valid == [["f"]] && directory.test == [["g", "h"]])
        let file = workspace.path + "/one.txt"
        try (1...45).map { "line \($0)" }.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let split = try TextCorpus.load(path: file)
        #expect(split.test == [["line", "20"], ["line", "40"]] && split.valid == [["line", "21"], ["line", "41"]])
        #expect(split.train.count == 41 && split.train.first == ["line", "1"])
    }

    @Test func badTextFilesAreNamedWithTheirLine() throws {
        let workspace = try Workspace("bad-text")
        defer { workspace.remove() }
        let cases: [(String, [UInt8], String)] = [
            ("binary.txt", Array("ok\nfine\n".utf8) + [0, 1, 2], "line 3: a NUL byte"),
            ("latin1.txt", Array("ok\n".utf8) + [0x63, 0x61, 0x66, 0xe9, 0x0a], "line 2 is not UTF-8"),
            ("blank.txt", Array(" \n\n  \n".utf8), "has no sentences"),
        ]
        for (name, bytes, message) in cases {
            let path = workspace.path + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try TextCorpus.load(path: path)
                Issue.record("\(name) was accepted")
            } catch {
                #expect("\(error)".contains(path) && "\(error)".contains(message), "\(error)")
            }
        }
        #expect(throws: FormatError.self) { try TextCorpus.load(path: workspace.path + "/missing.txt") }
        #expect(throws: FormatError.self) { try TextCorpus.load(path: workspace.path) }  // a directory without the splits
    }

    @Test func sentencesBecomePaddedIdRows() {
        let vocabulary = Vocabulary(counting: [["a", "b", "c"]], size: 10)
        let sentences = [["a", "b"], ["c", "a", "b", "a"], ["b"], []]
        let dropping = TextDataset(sentences: sentences, vocabulary: vocabulary, maximumLength: 3, longSentences: .drop, source: "test")
        #expect(dropping.count == 2 && dropping.dropped == 1 && dropping.cut == 0)
        let cutting = TextDataset(sentences: sentences, vocabulary: vocabulary, maximumLength: 3, longSentences: .cut, source: "test")
        #expect(cutting.count == 3 && cutting.cut == 1 && cutting.sequences[1] == vocabulary.ids(["c", "a", "b"]) + [Vocabulary.end])
        let batch = cutting.batch([0, 2])
        #expect(batch.shape == [2, 4])
        #expect(batch.scalars == [4, 5, 3, 0, 5, 3, 0, 0].map(Float.init))
        #expect(cutting.tokenCount == 3 + 4 + 2)
        let none = TextDataset(sentences: [["a", "b", "c", "a"]], vocabulary: vocabulary, maximumLength: 2, longSentences: .drop, source: "test")
        #expect(none.count == 0 && none.dropped == 1)
    }

    /// Debian's wordnet-base: about 136,000 definitions and 47,000 examples, 1.6 million tokens.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: WordNetGlosses.directory + "/data.noun"), "needs Debian's wordnet-base (scripts/setup.sh installs it)"))
    func wordNetGlossesAreSentences() throws {
        let (definitions, examples, all) = try WordNetGlosses.sentences()
        // Counted independently (a Python reading of the same rule): 136,619 definitions and 47,494 examples.
        #expect(definitions.count == 136_619 && examples.count == 47_494, "\(definitions.count) definitions, \(examples.count) examples")
        #expect(all.count == definitions.count + examples.count && all.first == definitions.first)
        #expect(definitions.first == "that which is perceived or known or inferred to have its own distinct existence (living or nonliving)")
        #expect(examples.contains("I can breathe better when the air is clean") && examples.allSatisfy { !$0.hasPrefix("\"") })
        let corpus = try WordNetGlosses.corpus()
        let tokens = (corpus.train + corpus.valid + corpus.test).reduce(0) { $0 + $1.count }
        #expect((1_500_000...1_800_000).contains(tokens), "\(tokens) tokens")
        #expect(corpus.test.count == all.count / 20 && abs(corpus.valid.count - corpus.test.count) <= 1)
    }
}
