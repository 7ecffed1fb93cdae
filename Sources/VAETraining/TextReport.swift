import Foundation
import VAEData
import VAEModels
import VAEPictures
import VAETensor

/// A text run's sentences for `report.html` and `vae plot`: greedy and sampled decodings of prior draws,
/// reconstructions of test sentences (the greedy decoding of each posterior mean), and homotopies between two
/// sentences (Bowman et al. 2016's Table 8: the greedy decoding of codes evenly spaced between their posterior means).
public struct TextReport {
    public let model: SentenceVAE
    public let vocabulary: Vocabulary
    public let seed: UInt64

    public init(model: SentenceVAE, vocabulary: Vocabulary, seed: UInt64) {
        (self.model, self.vocabulary, self.seed) = (model, vocabulary, seed)
    }

    func words(_ decoded: [[Int]]) -> [String] { decoded.map(vocabulary.sentence) }

    /// `count` sentences from prior draws ("sampling" stream); a language model decodes from its zero state.
    public func samples(count: Int, decoding: SentenceDecoding) -> [String] {
        var random = RandomStream(seed: seed, name: "sampling")
        let codes = model.latentSize > 0 ? model.samplePrior(count: count, random: &random) : nil
        return words(model.decode(codes, batch: count, maximumLength: model.maximumLength, decoding: decoding))
    }

    /// Each sentence's words and the greedy decoding of its posterior mean.
    public func reconstructions(_ sentences: [[Int]]) -> [(input: String, output: String)] {
        guard model.latentSize > 0, !sentences.isEmpty else { return [] }
        let means = withoutGradients { model.posterior(sentences).mean }
        let decoded = words(model.greedy(means, batch: sentences.count, maximumLength: model.maximumLength))
        return zip(sentences, decoded).map { (vocabulary.sentence($0.0), $0.1) }
    }

    /// The greedy decodings of `steps` codes from the posterior mean of `from` to that of `to` (both ids ending in
    /// `<eos>`), along a line or a great circle (`spherical`).
    public func interpolation(from: [Int], to: [Int], steps: Int, spherical: Bool) -> [String] {
        guard model.latentSize > 0 else { return [] }
        let means = withoutGradients { model.posterior([from, to]).mean }.scalars.map { Double($0) }
        let width = model.latentSize
        let path = LatentPath.points(from: Array(means[..<width]), to: Array(means[width...]), steps: steps, spherical: spherical)
        return words(model.greedy(Tensor(shape: [steps, width], scalars: path.joined().map(Float.init)), batch: steps,
                                  maximumLength: model.maximumLength))
    }

    /// The sections of `report.html`: samples (greedy and sampled), reconstructions of the first `count` test
    /// sentences, and the homotopy between the first two test sentences.
    public func sections(test: TextDataset, count: Int = 8) -> [ReportPage.TextSection] {
        var sections = [
            ReportPage.TextSection(id: "samples", title: "Samples", caption: model.latentSize > 0
                ? "Greedy decoding of \(count) codes drawn from the prior N(0, I)." : "Greedy decoding from the language model's zero state.",
                lines: samples(count: model.latentSize > 0 ? count : 1, decoding: .greedy)),
            ReportPage.TextSection(id: "sampled", title: "Sampled decoding", caption: "Words drawn from the softmax at each step, for the same prior draws.",
                                   lines: samples(count: count, decoding: .sampled(seed: seed))),
        ]
        let firsts = Array(test.sequences.prefix(count))
        let pairs = reconstructions(firsts)
        if !pairs.isEmpty {
            sections.append(ReportPage.TextSection(
                id: "reconstructions", title: "Reconstructions",
                caption: "Test sentences (>) and the greedy decoding of their posterior means (=).",
                lines: pairs.flatMap { ["> " + $0.input, "= " + $0.output] }))
        }
        if model.latentSize > 0, test.sequences.count >= 2 {
            sections.append(ReportPage.TextSection(
                id: "interpolation", title: "Interpolation",
                caption: "Greedy decodings of codes evenly spaced between the posterior means of the first two test sentences (Bowman et al. 2016, Table 8).",
                lines: interpolation(from: test.sequences[0], to: test.sequences[1], steps: 8, spherical: false)))
        }
        return sections
    }
}
