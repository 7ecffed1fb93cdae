import Foundation
import TestSupport
import Testing
import VAETensor
@testable import VAENN

extension VAENNTests {
    @Suite("Linear: PyTorch initialisation and x·Wᵀ + b")
    struct LinearTests {
        @Test func initialisationBoundsAndSeeds() {
            let (inputSize, outputSize) = (50, 40)
            let bound = 1 / Double(inputSize).squareRoot()
            var random = RandomStream(seed: 7, name: "init")
            let layer = Linear(inputSize: inputSize, outputSize: outputSize, random: &random)
            #expect(layer.weight.shape == [outputSize, inputSize])
            #expect(layer.bias?.shape == [outputSize])
            #expect(layer.inputSize == inputSize && layer.outputSize == outputSize)
            let values = layer.weight.value.scalars + layer.bias!.value.scalars
            // Float rounding of the bound may put it one ulp above 1/√n.
            #expect(values.allSatisfy { abs(Double($0)) <= bound * (1 + 1e-6) })
            // Uniform on ±bound over 2040 draws: the extremes come within 1% of the bound (a miss has
            // probability ≈ 0.995^2040 ≈ 4e-5 per side) and the mean is within 5 standard errors of 0.
            #expect(Double(values.max()!) > 0.99 * bound)
            #expect(Double(values.min()!) < -0.99 * bound)
            let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
            let standardError = bound / 3.0.squareRoot() / Double(values.count).squareRoot()
            #expect(abs(mean) < 5 * standardError)

            var same = RandomStream(seed: 7, name: "init")
            let twin = Linear(inputSize: inputSize, outputSize: outputSize, random: &same)
            #expect(twin.weight.value.scalars == layer.weight.value.scalars)
            #expect(twin.bias!.value.scalars == layer.bias!.value.scalars)
            #expect(same == random, "both streams consumed the same number of draws")

            var other = RandomStream(seed: 8, name: "init")
            let different = Linear(inputSize: inputSize, outputSize: outputSize, random: &other)
            #expect(different.weight.value.scalars != layer.weight.value.scalars)
            let matching = zip(different.weight.value.scalars, layer.weight.value.scalars).filter { $0 == $1 }.count
            #expect(matching < 10, "different seeds give unrelated weights")
        }

        @Test func forwardMatchesHandLoops() {
            var random = RandomStream(seed: 9, name: "init")
            let layer = Linear(inputSize: 7, outputSize: 3, random: &random)
            let noBias = Linear(inputSize: 7, outputSize: 3, bias: false, random: &random)
            let input = smoothValues([5, 7], seed: 10)
            for (module, hasBias) in [(layer, true), (noBias, false)] {
                let output = module(input)
                #expect(output.shape == [5, 3])
                let w = module.weight.value.scalars, x = input.scalars
                var expected: [Double] = []
                for row in 0..<5 {
                    for out in 0..<3 {
                        var total = hasBias ? Double(module.bias!.value.scalars[out]) : 0
                        for k in 0..<7 { total += Double(x[row * 7 + k]) * Double(w[out * 7 + k]) }
                        expected.append(total)
                    }
                }
                // Seven Float32 products of size ≤ 1.2·0.38 summed: rounding ≈ 1e-7 each.
                expectClose(output.scalars, expected, absolute: 1e-5, "Linear(bias: \(hasBias))")
            }
        }

        /// loss = Σ (MLP(x) − t)² for a 3→4 (tanh) →2 MLP, re-implemented in Double from the parameter values.
        static func doubleLoss(_ p: [[Double]], input: Tensor, target: Tensor) -> Double {
            let (w1, b1, w2, b2) = (p[0], p[1], p[2], p[3])
            var loss = 0.0
            for row in 0..<input.shape[0] {
                let x = input.row(row).map(Double.init)
                var hidden = [Double](repeating: 0, count: 4)
                for j in 0..<4 {
                    var total = b1[j]
                    for k in 0..<3 { total += x[k] * w1[j * 3 + k] }
                    hidden[j] = Foundation.tanh(total)
                }
                for o in 0..<2 {
                    var total = b2[o]
                    for j in 0..<4 { total += hidden[j] * w2[o * 4 + j] }
                    let difference = total - Double(target.scalars[row * 2 + o])
                    loss += difference * difference
                }
            }
            return loss
        }

        @Test func valueWithGradientsMatchesFiniteDifferences() {
            var random = RandomStream(seed: 11, name: "init")
            let mlp = MLP(sizes: [3, 4, 2], activation: .tanh, random: &random)
            let input = smoothValues([6, 3], seed: 12)
            let target = smoothValues([6, 2], seed: 13)
            let (value, gradients) = mlp.valueWithGradients { (mlp(input) - target).squared().sum() }

            let values = mlp.parameters.map { $0.value.scalars.map(Double.init) }
            let exactLoss = LinearTests.doubleLoss(values, input: input, target: target)
            #expect(abs(Double(value.scalar) - exactLoss) <= 1e-5 * abs(exactLoss) + 1e-6)

            // Gradients come back in `parameters` order: W1 [4,3], b1 [4], W2 [2,4], b2 [2].
            #expect(gradients.map(\.shape) == [[4, 3], [4], [2, 4], [2]])
            #expect(gradients.map(\.shape) == mlp.parameters.map(\.shape))
            // Central differences of the Double loss with h = 1e-6: truncation h²·L‴ ≈ 1e-12 and rounding
            // 1e-16·|L|/h ≈ 1e-9, so `numeric` is exact to ~1e-8. The Float32 gradient carries ≈ 1e-6 relative
            // rounding on sums of order 10, so 1e-4 absolute + 1e-3 relative is 10× above the expected error
            // and far below the O(1) error of a wrong or misplaced derivative.
            let step = 1e-6
            for (index, parameterValues) in values.enumerated() {
                for position in parameterValues.indices {
                    var plus = values, minus = values
                    plus[index][position] += step
                    minus[index][position] -= step
                    let numeric = (LinearTests.doubleLoss(plus, input: input, target: target)
                                   - LinearTests.doubleLoss(minus, input: input, target: target)) / (2 * step)
                    let analytic = Double(gradients[index].scalars[position])
                    #expect(abs(analytic - numeric) <= 1e-4 + 1e-3 * abs(numeric),
                            "parameter \(index)[\(position)]: analytic \(analytic), numeric \(numeric)")
                }
            }
            // The parameters themselves are untouched and not left tracked.
            #expect(mlp.parameters.allSatisfy { $0.tensor.node == -1 })
        }

        @Test func parameterReadTwiceOnOneTapeAccumulates() {
            var random = RandomStream(seed: 14, name: "init")
            let layer = Linear(inputSize: 2, outputSize: 1, bias: false, random: &random)
            let input = Tensor(shape: [1, 2], scalars: [0.5, -2])
            // loss = (x·Wᵀ) + (x·Wᵀ): W read twice, gradient 2x.
            let (_, gradients) = layer.valueWithGradients { (layer(input) + layer(input)).sum() }
            expectClose(gradients[0].scalars, [1, -4], absolute: 1e-6)
        }
    }
}
