import Foundation
import TestSupport
import Testing
@testable import VAETensor

/// The sixteen-lane exp and log1p against Foundation (in Double, rounded once to Float), in ulps of the result.
struct VectorMathTests {
    func ulps(_ value: Float, _ reference: Double) -> Double {
        let rounded = Float(reference)
        return abs(Double(value) - reference) / Double(rounded.ulp)
    }

    func worst(_ inputs: [Float], _ function: (SIMD16<Float>) -> SIMD16<Float>, _ reference: (Double) -> Double) -> Double {
        var worst = 0.0
        var index = 0
        while index + 16 <= inputs.count {
            var lanes = SIMD16<Float>()
            for lane in 0..<16 { lanes[lane] = inputs[index + lane] }
            let result = function(lanes)
            for lane in 0..<16 { worst = max(worst, ulps(result[lane], reference(Double(inputs[index + lane])))) }
            index += 16
        }
        return worst
    }

    @Test func expWithinTwoUlps() {
        let count = 1_000_000
        let inputs = (0..<count).map { Float(-87 + 175 * Double($0) / Double(count)) } + [0, -1e-8, 1e-8, 1, -1, 88, -87, 0.5, -0.5, 10, -10, 20, -20, 40, -40, 80]
        let error = worst(inputs, VectorMath.exp) { Foundation.exp($0) }
        #expect(error <= 2, "exp: worst \(error) ulp")
    }

    @Test func log1pWithinTwoUlps() {
        let count = 1_000_000
        var inputs = (0..<count).map { Float(Double($0) / Double(count)) }
        inputs += (0..<32).map { Float(Foundation.pow(2.0, -Double($0 * 4))) }
        let error = worst(inputs, VectorMath.log1p) { Foundation.log1p($0) }
        #expect(error <= 2, "log1p: worst \(error) ulp")
    }

    @Test func crossEntropyAgreesWithTheScalarFormula() {
        var random = RandomStream(seed: 3, name: "bce")
        let logits = random.uniform(shape: [7, 37], in: -30...30)
        let targets = random.uniform(shape: [7, 37])
        let fast = logits.binaryCrossEntropy(targets: targets)
        for (index, (x, t)) in zip(logits.scalars, targets.scalars).enumerated() {
            let exact = Swift.max(Double(x), 0) - Double(x) * Double(t) + Foundation.log1p(Foundation.exp(-abs(Double(x))))
            #expect(abs(Double(fast.scalars[index]) - exact) <= 4e-6 * max(1, abs(exact)), "at \(index): \(fast.scalars[index]) vs \(exact)")
        }
    }

    /// The fused row sums equal the two-op composition bit for bit (same lanes, same summation order).
    @Test func rowSumsEqualTheComposition() {
        var random = RandomStream(seed: 4, name: "bce")
        for width in [1, 15, 16, 37, 784] {
            let logits = random.uniform(shape: [5, width], in: -8...8)
            let targets = random.uniform(shape: [5, width])
            #expect(logits.binaryCrossEntropySums(targets: targets).scalars
                    == logits.binaryCrossEntropy(targets: targets).sum(alongAxis: -1).scalars)
        }
    }

    @Test func rowSumsGradient() {
        var random = RandomStream(seed: 5, name: "bce")
        let logits = random.uniform(shape: [3, 19], in: -5...5)
        let targets = random.uniform(shape: [3, 19])
        checkGradients([logits, targets]) { $0[0].binaryCrossEntropySums(targets: $0[1]) }
    }
}
