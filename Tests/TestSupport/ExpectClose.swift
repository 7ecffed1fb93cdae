import Testing

/// `|actual − expected| ≤ absolute + relative·|expected|` for every element.
public func expectClose(_ actual: [Float], _ expected: [Double], absolute: Double, relative: Double = 0,
                        _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count \(actual.count) vs \(expected.count)",
            sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        #expect(abs(Double(a) - e) <= absolute + relative * abs(e),
                "\(what)[\(index)]: got \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}
