import Testing
import VAETensor

/// Finite-difference check of reverse-mode gradients of `function` with respect to each of `inputs`; each input
/// must also receive some non-zero gradient.
///
/// The op under test runs in Float32; the probe is L = Σ f(x)·w with fixed random weights w (every output element
/// matters), accumulated in Double. Central differences with h = 1e-2 have truncation error O(h²·f‴) ≈ 1e-4 for
/// inputs of order 1, and Float32 rounding of f adds ≈ 1e-7·|L|/h ≈ 1e-4; a tolerance of 2e-3 absolute plus 1e-2
/// relative is an order of magnitude above that and far below the O(1) error of a wrong derivative.
public func checkGradients(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation,
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
        #expect(analytic[inputIndex].shape == input.shape, sourceLocation: sourceLocation)
        var anyNonZero = false
        for position in 0..<input.count {
            var plus = inputs, minus = inputs
            var plusScalars = plus[inputIndex].scalars, minusScalars = minus[inputIndex].scalars
            plusScalars[position] += step
            minusScalars[position] -= step
            plus[inputIndex] = Tensor(shape: input.shape, scalars: plusScalars)
            minus[inputIndex] = Tensor(shape: input.shape, scalars: minusScalars)
            let numeric = (probe(plus) - probe(minus)) / (2 * Double(step))
            let exact = Double(analytic[inputIndex].scalars[position])
            if exact != 0 { anyNonZero = true }
            let tolerance = 2e-3 + 1e-2 * max(abs(numeric), abs(exact))
            #expect(abs(numeric - exact) <= tolerance,
                    "input \(inputIndex)[\(position)]: analytic \(exact), numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
        #expect(anyNonZero, "input \(inputIndex) received no gradient", sourceLocation: sourceLocation)
    }
}
