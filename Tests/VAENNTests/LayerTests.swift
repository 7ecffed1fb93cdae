import Foundation
import TestSupport
import Testing
@testable import VAENN
import VAETensor

/// Finite differences of L = Σ layer(x)·w over every parameter of `module`, in Float32 with step 1e-2 and the
/// probe summed in Double (the tolerance argument of Tests/VAETensorTests/GradientCheck.swift applies: truncation
/// and rounding both ≈ 1e-4, tolerance 2e-3 + 1e-2 relative).
func checkModuleGradients(_ module: Module, input: Tensor, _ forward: (Tensor) -> Tensor,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    var random = RandomStream(seed: 77, name: "probe")
    let weights = random.uniform(shape: withoutGradients { forward(input) }.shape, in: -1...1)
    let (_, gradients) = module.valueWithGradients { (forward(input) * weights).sum() }
    func probe() -> Double {
        let output = withoutGradients { forward(input) }
        return zip(output.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let step: Float = 1e-2
    for (index, parameter) in module.parameters.enumerated() {
        let original = parameter.value
        for position in 0..<original.count {
            var values = original.scalars
            values[position] += step
            parameter.value = Tensor(shape: original.shape, scalars: values)
            let plus = probe()
            values[position] -= 2 * step
            parameter.value = Tensor(shape: original.shape, scalars: values)
            let minus = probe()
            parameter.value = original
            let numeric = (plus - minus) / (2 * Double(step))
            let analytic = Double(gradients[index].scalars[position])
            #expect(abs(numeric - analytic) <= 2e-3 + 1e-2 * max(abs(numeric), abs(analytic)),
                    "parameter \(index)[\(position)]: analytic \(analytic), numeric \(numeric)", sourceLocation: sourceLocation)
        }
    }
}

extension VAENNTests {
    @Suite struct LayerTests {
        @Test func batchNormTrainingNormalisesAndTracksStatistics() {
            let norm = BatchNorm(channels: 3)
            var random = RandomStream(seed: 1, name: "x")
            let x = random.normal(shape: [8, 3, 4, 4]) * 2 + 5
            let y = norm(x)
            // Per channel over (batch, h, w): mean 0, biased variance 1 (up to ε).
            for c in 0..<3 {
                var values: [Double] = []
                for n in 0..<8 { for i in 0..<16 { values.append(Double(y.scalars[(n * 3 + c) * 16 + i])) } }
                let mean = values.reduce(0, +) / Double(values.count)
                let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
                #expect(abs(mean) < 1e-4)
                #expect(abs(variance - 1) < 1e-3)
            }
            // Running statistics: 0.9·initial + 0.1·batch (unbiased variance), as PyTorch.
            for c in 0..<3 {
                var values: [Double] = []
                for n in 0..<8 { for i in 0..<16 { values.append(Double(x.scalars[(n * 3 + c) * 16 + i])) } }
                let mean = values.reduce(0, +) / 128
                let unbiased = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 127
                #expect(abs(Double(norm.runningMean.value.scalars[c]) - 0.1 * mean) < 1e-4)
                #expect(abs(Double(norm.runningVar.value.scalars[c]) - (0.9 + 0.1 * unbiased)) < 1e-3)
            }
            #expect(norm.numBatchesTracked.value.scalar == 1)
        }

        @Test func batchNormEvaluationUsesRunningStatistics() {
            let norm = BatchNorm(channels: 2)
            norm.runningMean.value = Tensor(shape: [2], scalars: [1, -1])
            norm.runningVar.value = Tensor(shape: [2], scalars: [4, 0.25])
            norm.setTraining(false)
            let x = Tensor(shape: [1, 2], scalars: [3, 0])
            let y = norm(x).scalars
            #expect(abs(y[0] - 2 / Float(sqrt(4 + 1e-5))) < 1e-5)
            #expect(abs(y[1] - 1 / Float(sqrt(0.25 + 1e-5))) < 1e-4)
            #expect(norm.runningMean.value.scalars == [1, -1])
        }

        @Test func batchNormGradients() {
            let norm = BatchNorm(channels: 2)
            norm.weight.value = smoothValues([2], seed: 3)
            norm.bias.value = smoothValues([2], seed: 4)
            checkModuleGradients(norm, input: smoothValues([3, 2, 2, 2], seed: 5)) { norm($0) }
            checkModuleGradients(norm, input: smoothValues([5, 2], seed: 6)) { norm($0) }
        }

        /// A BatchNorm followed by a (leaky) ReLU layer runs as one fused op in a Sequential: the same values and the
        /// same gradients (input, weight, bias) as the two layers one after the other. Planes of 25 and 36 pixels
        /// cover sixteen-lane blocks and a tail. (The kink makes finite differences unreliable, so the fused
        /// gradient is compared with the composition, whose parts are each finite-difference checked.)
        @Test func batchNormFusedWithActivation() {
            for activation in [Activation.leakyRelu, .relu] {
                let norm = BatchNorm(channels: 3)
                norm.weight.value = smoothValues([3], seed: 11)
                norm.bias.value = smoothValues([3], seed: 12)
                let fused = Sequential([norm, ActivationLayer(activation)])
                for shape in [[2, 3, 5, 5], [3, 3, 6, 6], [7, 3]] {
                    let x = smoothValues(shape, seed: 13)
                    let weights = smoothValues(shape, seed: 14)
                    func valueAndGradients(_ forward: (Tensor) -> Tensor) -> (Tensor, [Tensor]) {
                        let tape = GradientTape()
                        return tape.recording {
                            let input = tape.watch(x)
                            let output = forward(input)
                            let gradients = tape.gradients(of: (output * weights).sum(),
                                                           withRespectTo: [input, norm.weight.tensor, norm.bias.tensor])
                            return (output, gradients)
                        }
                    }
                    let (separate, separateGradients) = valueAndGradients { activation(norm($0)) }
                    let (together, togetherGradients) = valueAndGradients { fused($0) }
                    #expect(zip(separate.scalars, together.scalars).allSatisfy { abs($0 - $1) <= 1e-6 })
                    #expect(together.scalars.contains { $0 < 0 } == (activation == .leakyRelu))
                    for (a, b) in zip(separateGradients, togetherGradients) {
                        #expect(a.scalars.contains { $0 != 0 })
                        #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($0)) })
                    }
                }
            }
        }

        /// The batch-normalisation op's own gradient (input, weight and bias) against finite differences.
        @Test func batchNormOpGradients() {
            for shape in [[2, 3, 5, 5], [6, 2]] {
                let channels = shape[1]
                checkGradients([smoothValues(shape, seed: 15), smoothValues([channels], seed: 16),
                                smoothValues([channels], seed: 17)]) {
                    $0[0].batchNormalized(weight: $0[1], bias: $0[2], epsilon: 1e-5).output
                }
            }
        }

        /// The running averages' update: its gradients against finite differences, and its values as PyTorch
        /// updates running_mean and running_var (momentum 0.1, the variance with Bessel's correction n/(n − 1)).
        @Test func movingAverageGradientsAndValues() {
            checkGradients([smoothValues([7], seed: 18), smoothValues([7], seed: 19)]) {
                $0[0].movingAverage(toward: $0[1], momentum: 0.1, scale: 1.25)
            }
            let norm = BatchNorm(channels: 2)
            let input = smoothValues([4, 2], seed: 20)
            _ = norm(input)
            let columns = (0..<2).map { c in (0..<4).map { Double(input.scalars[$0 * 2 + c]) } }
            for (c, column) in columns.enumerated() {
                let mean = column.reduce(0, +) / 4
                let unbiased = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3
                #expect(abs(Double(norm.runningMean.value.scalars[c]) - 0.1 * mean) < 1e-6)
                #expect(abs(Double(norm.runningVar.value.scalars[c]) - (0.9 + 0.1 * unbiased)) < 1e-6)
            }
            #expect(norm.numBatchesTracked.value.scalar == 1)
        }

        @Test func buffersAreSavedButNotTrained() {
            let norm = BatchNorm(channels: 4)
            #expect(norm.namedParameters.map(\.name) == ["weight", "bias"])
            #expect(norm.namedStates.map(\.name) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
            #expect(norm.stateDictionary.count == 5)
        }

        @Test func convolutionLayersMatchPyTorchLayoutsAndGradients() {
            var random = RandomStream(seed: 7, name: "init")
            let conv = Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, random: &random)
            let up = ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1,
                                     outputPadding: 1, random: &random)
            #expect(conv.weight.shape == [3, 2, 3, 3])
            #expect(up.weight.shape == [3, 2, 3, 3])
            let bound = 1 / Float(sqrt(18.0))
            #expect(conv.weight.value.scalars.allSatisfy { abs($0) <= bound })
            let model = Sequential([conv, ActivationLayer(.tanh), up])
            #expect(model.namedParameters.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"])
            let x = smoothValues([2, 2, 4, 4], seed: 8)
            #expect(model(x).shape == [2, 2, 4, 4])
            checkModuleGradients(model, input: x) { model($0) }
        }

        @Test func reshapeUpsampleAndDropout() {
            let flatten = Reshape([-1])
            #expect(flatten(Tensor.zeros([2, 3, 4, 5])).shape == [2, 60])
            #expect(Upsample(factor: 3)(Tensor.zeros([1, 1, 2, 2])).shape == [1, 1, 6, 6])
            let dropout = Dropout(probability: 0.25, random: RandomStream(seed: 9, name: "dropout"))
            let ones = Tensor.ones([10_000])
            let dropped = dropout(ones).scalars
            let zeros = dropped.filter { $0 == 0 }.count
            // Binomial(10 000, 0.25): standard deviation ≈ 43, so ±200 is over 4.5σ.
            #expect(abs(zeros - 2500) < 200)
            #expect(dropped.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
            dropout.setTraining(false)
            #expect(dropout(ones).scalars == ones.scalars)
        }
    }
}
