import VAETensor

/// Sentences as token ids for training: each a row of `maximumLength + 1` ids, the sentence's tokens then `<eos>`,
/// padded with `<pad>` (0), as floats; a model reads the ids back from the rows (`SentenceVAE.sentences`). Sentences longer
/// than `maximumLength` tokens are dropped or cut (``LongSentences``); ``dropped`` and ``cut`` say how many.
public struct TextDataset: Dataset {
    public enum LongSentences: String, CaseIterable, Sendable { case drop, cut }

    public let vocabulary: Vocabulary
    public let maximumLength: Int
    /// Each sentence's ids, `<eos>` included.
    public let sequences: [[Int]]
    public let source: String
    public let dropped: Int
    public let cut: Int

    public init(sentences: [[String]], vocabulary: Vocabulary, maximumLength: Int, longSentences: LongSentences,
                source: String) {
        precondition(maximumLength >= 1, "a text dataset needs a maximum length of 1 or more")
        var sequences: [[Int]] = [], dropped = 0, cut = 0
        for sentence in sentences where !sentence.isEmpty {
            var ids = vocabulary.ids(sentence)
            if ids.count > maximumLength {
                if longSentences == .drop {
                    dropped += 1
                    continue
                }
                ids = Array(ids.prefix(maximumLength))
                cut += 1
            }
            sequences.append(ids + [Vocabulary.end])
        }
        (self.vocabulary, self.maximumLength, self.sequences, self.source) = (vocabulary, maximumLength, sequences, source)
        (self.dropped, self.cut) = (dropped, cut)
    }

    public var count: Int { sequences.count }
    public var exampleShape: [Int] { [maximumLength + 1] }
    public var pictureShape: [Int]? { nil }
    public var labels: [Int] { [] }
    public var classNames: [String] { [] }
    public var valueRange: ClosedRange<Float>? { count > 0 ? 0...Float(vocabulary.count - 1) : nil }
    /// Tokens in the dataset, `<eos>` included (the count perplexity is per).
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }

    public func batch(_ indices: some Collection<Int>, augmentation: inout BatchAugmentation) -> Tensor {
        let width = maximumLength + 1
        var scalars = [Float](repeating: Float(Vocabulary.padding), count: indices.count * width)
        for (row, index) in indices.enumerated() {
            for (position, id) in sequences[index].enumerated() { scalars[row * width + position] = Float(id) }
        }
        return Tensor(shape: [indices.count, width], scalars: scalars)
    }
}
