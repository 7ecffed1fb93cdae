import Foundation
import VAEData
import VAEModels
import VAETensor

/// Text runs' data (`data_params.format: text`): the corpus `data_dir` names (a text file split by line, a directory
/// of train/valid/test files, or WordNet's dictionary directory — the built-in corpus), its vocabulary counted on
/// the training split (`max_vocabulary`), and sentences of at most `max_length` tokens (`long_sentences`).
public enum TextData {
    /// Corpora read in this process, by path (WordNet takes seconds to read; a run reads its train and test splits).
    private static let corpora = Locked<[String: TextCorpus]>([:])

    /// The corpus at `path`, read once per process.
    public static func corpus(_ path: String) throws -> TextCorpus {
        if let cached = corpora.withLock({ $0[path] }) { return cached }
        let corpus = isWordNet(path) ? try WordNetGlosses.corpus(directory: path) : try TextCorpus.load(path: path)
        guard !corpus.train.isEmpty, !corpus.test.isEmpty else {
            throw DataError("\(corpus.source): \(corpus.train.count) training and \(corpus.test.count) test sentences; a text run needs both (one file is split by line: every 20th line is a test sentence, so it needs 20 lines or more)")
        }
        corpora.withLock { $0[path] = corpus }
        return corpus
    }

    /// True for a directory holding WordNet's `data.noun` (Debian's `wordnet-base` puts it in /usr/share/wordnet).
    static func isWordNet(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/data.noun")
    }

    /// The vocabulary a run on `config`'s data counts (from the training split).
    public static func vocabulary(_ config: RunConfig) throws -> Vocabulary {
        Vocabulary(counting: try corpus(config.data.dataDirectory).train, size: config.data.maximumVocabulary)
    }

    /// One split, at most `limit` sentences (0 = all), as ids of `vocabulary` (nil: counted from the training split).
    public static func dataset(_ config: RunConfig, split: DatasetSplit, limit: Int,
                               vocabulary: Vocabulary? = nil) throws -> TextDataset {
        let corpus = try corpus(config.data.dataDirectory)
        let sentences = split == .train ? corpus.train : corpus.test
        let limited = limit > 0 ? Array(sentences.prefix(limit)) : sentences
        let vocabulary = try vocabulary ?? self.vocabulary(config)
        let dataset = TextDataset(sentences: limited, vocabulary: vocabulary, maximumLength: config.data.maximumLength,
                                  longSentences: TextDataset.LongSentences(rawValue: config.data.longSentences) ?? .drop,
                                  source: "\(corpus.source) (\(split.rawValue))")
        guard dataset.count > 0 else {
            throw DataError("\(corpus.source): no \(split.rawValue) sentence has at most \(config.data.maximumLength) tokens (data_params.max_length; or set long_sentences: cut)")
        }
        return dataset
    }
}
