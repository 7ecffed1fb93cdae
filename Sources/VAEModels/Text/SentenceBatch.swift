import VAENN
import VAETensor

/// What ``SentenceVAE`` reads of a batch of sentences, made on the host and placed beside the model in one copy:
/// the encoder's and the decoder's ids (time-major, padded), where each sentence ends (``SequenceLayout``), and for
/// the loss the positions of the real tokens, their targets and where each position's loss goes back. On a device
/// these were a copy each, made when each op read them (10 per training step, each waiting for the device's work).
struct SentenceBatch {
    let lengths: [Int]
    let steps: Int
    /// The sentences' ids for the encoder (nil when not encoding).
    let encoderIds: RowIndices?
    /// The decoder's inputs' ids (nil when not decoding).
    let decoderIds: RowIndices?
    let layout: SequenceLayout
    /// The rows of the real positions among `steps·batch` (padding left out), their target ids, and for each of
    /// `steps·batch` positions the row of its loss among the real ones' (the padding's: one past them, a zero).
    let valid: RowIndices?
    let targets: RowIndices?
    let places: RowIndices?

    var batch: Int { lengths.count }

    /// `sentences` (ids ending with `<eos>`), and `decoderInputs` (`<bos>` and each sentence but its last id, word
    /// dropout applied) when decoding, placed on `backend` (nil: the host).
    init(_ sentences: [[Int]], encoding: Bool, decoderInputs: [[Int]]?, vocabularySize: Int, on backend: (any TensorBackend)?) {
        lengths = sentences.map(\.count)
        steps = lengths.max() ?? 1
        let (batch, steps) = (sentences.count, steps)
        func timeMajor(_ rows: [[Int]]) -> [Int] {
            (0..<(steps * batch)).map { index in
                let (step, item) = (index / batch, index % batch)
                return step < rows[item].count ? rows[item][step] : SentenceVAE.padding
            }
        }
        var lists: [[Int]] = []
        let (flags, lastRows) = SequenceLayout.hostParts(lengths: lengths, steps: steps)
        lists.append(lastRows)
        if encoding { lists.append(timeMajor(sentences)) }
        if let decoderInputs {
            lists.append(timeMajor(decoderInputs))
            // The vocabulary projection, the costliest product, runs on the real positions only (padding is about
            // half of a batch's steps × rows); each position's loss then goes back to its place, padding's being 0.
            var valid: [Int] = [], places = [Int](repeating: 0, count: steps * batch)
            for index in 0..<(steps * batch) {
                let (step, item) = (index / batch, index % batch)
                if step < lengths[item] { places[index] = valid.count; valid.append(index) }
            }
            for index in 0..<(steps * batch) where index / batch >= lengths[index % batch] { places[index] = valid.count }
            let targets = valid.map { sentences[$0 % batch][$0 / batch] }
            precondition(targets.allSatisfy { (0..<vocabularySize).contains($0) }, "sentence-vae: token ids must be below the vocabulary's \(vocabularySize)")
            lists += [valid, targets, places]
        }
        let placed = PackedUpload(indices: lists, values: flags.map { [([steps * batch, 1], $0)] } ?? [], to: backend)
        layout = SequenceLayout(lengths: lengths, steps: steps, running: placed.values.first, lastRows: placed.indices[0])
        var rest = placed.indices.dropFirst()
        encoderIds = encoding ? rest.removeFirst() : nil
        decoderIds = decoderInputs != nil ? rest.removeFirst() : nil
        (valid, targets, places) = decoderInputs != nil ? (rest.removeFirst(), rest.removeFirst(), rest.removeFirst()) : (nil, nil, nil)
    }
}
