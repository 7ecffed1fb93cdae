import VAETensor

/// Bowman et al. 2016's word dropout: each decoder input token is replaced by `<unk>` with probability `rate`, so
/// the decoder leans on z for what it cannot read from the previous words. `<bos>` and padding are never replaced
/// (nor `<eos>`, which is never an input).
public struct WordDropout: Sendable {
    public var rate: Double
    public var protected: Set<Int>
    public var unknown: Int

    /// Ids 0…3 are `<pad>`, `<unk>`, `<bos>`, `<eos>` (VAEData's `Vocabulary`).
    public init(rate: Double, unknown: Int = 1, protected: Set<Int> = [0, 2, 3]) {
        self.rate = rate
        self.unknown = unknown
        self.protected = protected
    }

    /// `inputs` with tokens replaced, one uniform draw per token from `random` (none when the rate is 0).
    public func apply(_ inputs: [[Int]], random: inout RandomStream) -> [[Int]] {
        guard rate > 0 else { return inputs }
        return inputs.map { row in
            let draws = random.uniform(shape: [row.count], in: 0...1).scalars
            return zip(row, draws).map { token, draw in protected.contains(token) || Double(draw) >= rate ? token : unknown }
        }
    }
}
