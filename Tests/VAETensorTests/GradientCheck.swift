import Testing
@testable import VAETensor

/// Finite-difference check of reverse-mode gradients.
///
/// The op under test runs in Float32; the probe is L = Σ f(x)·w with fixed random weights w (so every output
/// element matters), summed in Double. Central differences with step h = 1e-2 have truncation error
/// O(h²·f‴) ≈ 1e-4 for inputs of order 1, and Float32 rounding of f contributes ≈ 1e-7·|L|/h ≈ 1e-4;
/// so a tolerance of 2e-3 absolute plus 1e-2 relative is an order of magnitude above the expected error
/// while still catching a wrong derivative (errors of order 1).
func checkGradients(_ inputs: [Tensor], file: String = #filePath, line: Int = #line,
                    _ function: ([Tensor]) -> Tensor) {
    var random = RandomStream(seed: 99, name: "probe")
    let sample = withoutGradients { function(inputs) }
    let weights = random.uniform(shape: sample.shape, in: -1...1)

    func probe(_ values: [Tensor]) -> Double {
        let output = withoutGradients { function(values) }
        return zip(output.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    let tape = GradientTape()
    let (output, tracked) = tape.recording { () -> (Tensor, [Tensor]) in
        let tracked = inputs.map { tape.watch($0) }
        return ((function(tracked) * weights).sum(), tracked)
    }
    let analytic = tape.gradients(of: output, withRespectTo: tracked)

    let step: Float = 1e-2
    for (inputIndex, input) in inputs.enumerated() {
        #expect(analytic[inputIndex].shape == input.shape)
        for position in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[inputIndex].scalars[position] += step
            minus[inputIndex].scalars[position] -= step
            let numeric = (probe(plus) - probe(minus)) / (2 * Double(step))
            let exact = Double(analytic[inputIndex].scalars[position])
            let tolerance = 2e-3 + 1e-2 * max(abs(numeric), abs(exact))
            #expect(abs(numeric - exact) <= tolerance,
                    "input \(inputIndex)[\(position)]: analytic \(exact), numeric \(numeric)",
                    sourceLocation: SourceLocation(fileID: file, filePath: file, line: line, column: 1))
        }
    }
}

/// Random values in ±(0.2…1.2): away from the kinks of relu/max at 0 and distinct, so finite differences
/// never straddle a non-differentiable point.
func smooth(_ shape: [Int], seed: UInt64) -> Tensor {
    var random = RandomStream(seed: seed, name: "values")
    let magnitudes = random.uniform(count: shape.reduce(1, *)).map { 0.2 + $0 }
    let signs = random.uniform(count: magnitudes.count)
    return Tensor(shape: shape, scalars: zip(magnitudes, signs).map { $1 < 0.5 ? -$0 : $0 })
}

func positive(_ shape: [Int], seed: UInt64) -> Tensor {
    var random = RandomStream(seed: seed, name: "positive")
    return Tensor(shape: shape, scalars: random.uniform(count: shape.reduce(1, *)).map { 0.5 + $0 })
}
