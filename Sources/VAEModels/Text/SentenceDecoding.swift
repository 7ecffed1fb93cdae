import Foundation
import VAENN
import VAETensor

/// How ``SentenceVAE`` turns a code into words: the most likely word at each step (`greedy`), a word drawn from the
/// softmax at each step (`sampled`), or beam search keeping the `width` most likely sentences so far (`beam`).
public enum SentenceDecoding: Sendable, Equatable {
    case greedy
    case sampled(seed: UInt64)
    case beam(width: Int)
}

extension SentenceVAE {
    /// Decodes codes `[batch, latent]` (nil: a language model, `batch` sentences) into ids without `<eos>`, each at most
    /// `maximumLength` ids.
    public func decode(_ latent: Tensor?, batch: Int, maximumLength: Int, decoding: SentenceDecoding) -> [[Int]] {
        switch decoding {
        case .greedy:
            return stepwise(latent, batch: batch, maximumLength: maximumLength) { logits in
                logits.indices.max { logits[$0] < logits[$1] }! - logits.startIndex
            }
        case .sampled(let seed):
            var random = RandomStream(seed: seed, name: "sentence-sampling")
            return stepwise(latent, batch: batch, maximumLength: maximumLength) { logits in
                let largest = logits.max()!
                let weights = logits.map { Foundation.exp(Double($0 - largest)) }
                var threshold = Double(random.uniform(count: 1)[0]) * weights.reduce(0, +)
                for (id, weight) in weights.enumerated() {
                    threshold -= weight
                    if threshold <= 0 { return id }
                }
                return weights.count - 1
            }
        case .beam(let width):
            return (0..<batch).map { item in
                beam(latent.map { $0.slice(item..<(item + 1)) }, width: max(1, width), maximumLength: maximumLength)
            }
        }
    }

    /// Greedy decoding (see ``decode(_:batch:maximumLength:decoding:)``).
    public func greedy(_ latent: Tensor?, batch: Int, maximumLength: Int) -> [[Int]] {
        decode(latent, batch: batch, maximumLength: maximumLength, decoding: .greedy)
    }

    /// One decoder step for `previous` ids from `state`: the logits `[rows, vocabulary]` and the next state.
    func step(_ previous: [Int], state: [RecurrentState]?) -> (logits: Tensor, state: [RecurrentState]) {
        let (outputs, finals) = decoder(embedding(previous), lengths: [Int](repeating: 1, count: previous.count), initial: state)
        return (output(outputs), finals)
    }

    /// Runs the decoder one step at a time for the whole batch, `choose` picking each row's next id from its logits
    /// (a slice of the step's logits: the id is the offset from its start).
    func stepwise(_ latent: Tensor?, batch: Int, maximumLength: Int,
                  choose: (ArraySlice<Float>) -> Int) -> [[Int]] {
        withoutGradients {
            var state = initialState(latent, batch: batch)
            var previous = [Int](repeating: Self.beginning, count: batch)
            var sentences = [[Int]](repeating: [], count: batch)
            var finished = [Bool](repeating: false, count: batch)
            for _ in 0..<maximumLength where !finished.allSatisfy({ $0 }) {
                let (logits, next) = step(previous, state: state)
                state = next
                let width = logits.shape[1]
                for item in 0..<batch where !finished[item] {
                    let chosen = choose(logits.scalars[(item * width)..<((item + 1) * width)])
                    previous[item] = chosen
                    if chosen == Self.end { finished[item] = true } else { sentences[item].append(chosen) }
                }
            }
            return sentences
        }
    }

    /// Beam search from one code `[1, latent]` (nil for a language model): the hypotheses are the rows of one
    /// decoder batch; a hypothesis that emits `<eos>` is finished; the best finished one by total log-probability
    /// wins (the best unfinished one when none finished within `maximumLength`).
    func beam(_ latent: Tensor?, width: Int, maximumLength: Int) -> [Int] {
        withoutGradients {
            var hypotheses: [(ids: [Int], score: Double)] = [([], 0)]
            var state = initialState(latent, batch: 1)
            var finished: [(ids: [Int], score: Double)] = []
            for _ in 0..<maximumLength {
                let previous = hypotheses.map { $0.ids.last ?? Self.beginning }
                let (logits, next) = step(previous, state: state)
                let vocabulary = logits.shape[1]
                var candidates: [(row: Int, id: Int, score: Double)] = []
                for (row, hypothesis) in hypotheses.enumerated() {
                    let scores = logits.scalars[(row * vocabulary)..<((row + 1) * vocabulary)].map(Double.init)
                    let largest = scores.max()!
                    let normaliser = largest + Foundation.log(scores.reduce(0) { $0 + Foundation.exp($1 - largest) })
                    let best = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(width)
                    candidates += best.map { (row, $0, hypothesis.score + scores[$0] - normaliser) }
                }
                candidates.sort { $0.score > $1.score }
                var kept: [(row: Int, id: Int, score: Double)] = []
                for candidate in candidates where kept.count < width {
                    if candidate.id == Self.end {
                        finished.append((hypotheses[candidate.row].ids, candidate.score))
                    } else {
                        kept.append(candidate)
                    }
                }
                // Stop once the best finished sentence beats every open hypothesis (scores only fall as words are added).
                if let best = finished.map(\.score).max(), kept.allSatisfy({ $0.score <= best }) || kept.isEmpty { break }
                hypotheses = kept.map { (hypotheses[$0.row].ids + [$0.id], $0.score) }
                state = next.map { layer in
                    RecurrentState(hidden: layer.hidden.gathering(kept.map(\.row)), cell: layer.cell?.gathering(kept.map(\.row)))
                }
            }
            return (finished.max { $0.score < $1.score } ?? hypotheses.max { $0.score < $1.score })?.ids ?? []
        }
    }
}
