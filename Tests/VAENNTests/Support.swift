import Testing
import VAETensor

/// Every test of this target sits under this suite, serialised: `GradientTape.current` is one process-wide
/// variable, so two tests recording tapes at once would see each other's records.
@Suite(.serialized) struct VAENNTests {}

/// Fixed pseudo-random values in ±(0.2…1.2) (distinct, away from 0) for inputs and gradients.
func smoothValues(_ shape: [Int], seed: UInt64) -> Tensor {
    var random = RandomStream(seed: seed, name: "values")
    let magnitudes = random.uniform(count: shape.reduce(1, *)).map { 0.2 + $0 }
    let signs = random.uniform(count: magnitudes.count)
    return Tensor(shape: shape, scalars: zip(magnitudes, signs).map { $1 < 0.5 ? -$0 : $0 })
}

/// `|actual − expected| ≤ absolute + relative·|expected|` for every element.
func expectClose(_ actual: [Float], _ expected: [Double], absolute: Double, relative: Double = 0,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count \(actual.count) vs \(expected.count)",
            sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        #expect(abs(Double(a) - e) <= absolute + relative * abs(e),
                "\(what)[\(index)]: got \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}
