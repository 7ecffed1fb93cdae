import TestSupport
import Testing
@testable import VAETensor

@Suite("Gradient checks: every op against finite differences")
struct GradientTests {
    let a = smoothValues([3, 4], seed: 1)
    let b = smoothValues([3, 4], seed: 2)

    @Test func add() { checkGradients([a, b]) { $0[0] + $0[1] } }
    @Test func subtract() { checkGradients([a, b]) { $0[0] - $0[1] } }
    @Test func multiply() { checkGradients([a, b]) { $0[0] * $0[1] } }
    @Test func divide() { checkGradients([a, positive([3, 4], seed: 3)]) { $0[0] / $0[1] } }
    @Test func broadcastRow() { checkGradients([a, smoothValues([4], seed: 4)]) { $0[0] + $0[1] * $0[0] } }
    @Test func broadcastColumn() { checkGradients([a, smoothValues([3, 1], seed: 5)]) { $0[0] * $0[1] - $0[1] } }
    @Test func broadcastBoth() {
        checkGradients([smoothValues([3, 1, 2], seed: 6), smoothValues([4, 1], seed: 7)]) { $0[0] / ($0[1].squared() + 1) }
    }
    @Test func scalarOperators() { checkGradients([a]) { (2 - $0[0]) * 3 + $0[0] / 4 - 1 } }
    @Test func negate() { checkGradients([a]) { -$0[0] } }
    @Test func exp() { checkGradients([a]) { $0[0].exp() } }
    @Test func log() { checkGradients([positive([3, 4], seed: 8)]) { $0[0].log() } }
    @Test func sqrt() { checkGradients([positive([3, 4], seed: 9)]) { $0[0].sqrt() } }
    @Test func pow() { checkGradients([positive([3, 4], seed: 10)]) { $0[0].pow(2.5) } }
    @Test func squared() { checkGradients([a]) { $0[0].squared() } }
    @Test func relu() { checkGradients([a]) { $0[0].relu() } }

    /// The SIMD kernels against the scalar definition on a length with a tail (37 = 2·16 + 5): max(x, 0) with
    /// −0 → +0 and NaN kept, and the gradient g where x > 0.
    @Test func reluKernelsMatchTheScalarDefinition() {
        var random = RandomStream(seed: 6, name: "relu")
        var values = random.normal(count: 37)
        values[3] = -0.0; values[20] = 0; values[36] = -0.0; values[7] = .nan
        let upstream = random.normal(count: 37)
        let forward = Kernels.relu(values), backward = Kernels.reluGradient(upstream, values)
        for index in values.indices {
            let expected = Swift.max(values[index], 0)
            #expect(forward[index].bitPattern == expected.bitPattern || (forward[index].isNaN && expected.isNaN), "x = \(values[index])")
            #expect(backward[index] == (values[index] > 0 ? upstream[index] : 0))
        }
    }
    @Test func leakyRelu() { checkGradients([a]) { $0[0].leakyRelu(slope: 0.2) } }
    @Test func sigmoid() { checkGradients([a * 3]) { $0[0].sigmoid() } }
    @Test func tanh() { checkGradients([a]) { $0[0].tanh() } }
    @Test func softplus() { checkGradients([a * 4]) { $0[0].softplus() } }
    @Test func binaryCrossEntropy() {
        checkGradients([a * 5, positive([3, 4], seed: 11) - 0.5]) { $0[0].binaryCrossEntropy(targets: $0[1]) }
    }
    @Test func sumAll() { checkGradients([a]) { $0[0].sum() } }
    @Test func meanAll() { checkGradients([a]) { $0[0].mean() } }
    @Test func sumAxes() {
        let cube = smoothValues([2, 3, 4], seed: 12)
        for axis in 0..<3 { checkGradients([cube]) { $0[0].sum(alongAxis: axis) } }
        checkGradients([cube]) { $0[0].sum(alongAxis: -1, keepingDimension: true) * $0[0] }
    }
    @Test func meanAxis() { checkGradients([a]) { $0[0].mean(alongAxis: 0) } }
    @Test func maxAxis() {
        let cube = smoothValues([2, 3, 4], seed: 13)
        for axis in 0..<3 { checkGradients([cube]) { $0[0].max(alongAxis: axis) } }
    }
    @Test func logSumExp() {
        let cube = smoothValues([2, 3, 4], seed: 14) * 3
        for axis in 0..<3 { checkGradients([cube]) { $0[0].logSumExp(alongAxis: axis) } }
    }
    @Test func matmul() {
        let left = smoothValues([3, 5], seed: 15), right = smoothValues([5, 2], seed: 16)
        checkGradients([left, right]) { $0[0].matmul($0[1]) }
        checkGradients([left, right.transposed()]) { $0[0].matmul($0[1], transposingOther: true) }
        checkGradients([left.transposed(), right]) { $0[0].matmul($0[1], transposingSelf: true) }
        checkGradients([left.transposed(), right.transposed()]) {
            $0[0].matmul($0[1], transposingSelf: true, transposingOther: true)
        }
    }
    @Test func linear() {
        let x = smoothValues([4, 3], seed: 25), w = smoothValues([5, 3], seed: 26), bias = smoothValues([5], seed: 27)
        checkGradients([x, w, bias]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { $0[0].linear(weight: $0[1], bias: nil) }
    }
    @Test func reshape() { checkGradients([a]) { $0[0].reshaped([2, -1]) * smoothValues([2, 6], seed: 17) } }
    @Test func transpose() {
        checkGradients([a]) { $0[0].transposed() }
        checkGradients([smoothValues([2, 3, 4], seed: 18)]) { $0[0].transposed([2, 0, 1]) }
    }
    @Test func slice() {
        checkGradients([smoothValues([2, 5, 3], seed: 19)]) { $0[0].slice(1..<4, alongAxis: 1) }
        checkGradients([a]) { $0[0].slice(0..<2) }
    }
    @Test func concatenate() {
        checkGradients([a, smoothValues([3, 2], seed: 20)]) { Tensor.concatenate([$0[0], $0[1]], alongAxis: 1) }
        checkGradients([a, smoothValues([1, 4], seed: 21)]) { Tensor.concatenate([$0[0], $0[1], $0[0]], alongAxis: 0) }
    }
    /// A split's parts used in other orders, one part unused (its gradient zeros), and the input used beside them.
    @Test func split() {
        checkGradients([smoothValues([2, 5, 3], seed: 22)]) {
            let parts = $0[0].split([1, 3, 1], alongAxis: 1)
            return parts[0] * parts[2] + parts[1].sum(alongAxis: 1, keepingDimension: true)
        }
        checkGradients([a]) { let parts = $0[0].split(into: 2, alongAxis: 1); return parts[1].exp() * 2 }
        checkGradients([a]) { let parts = $0[0].split([2, 1]); return Tensor.concatenate([parts[1], parts[0]]) * $0[0] }
    }

    /// The split's gradient is the slices' gradient bit for bit: one concatenation in place of a sum of
    /// zero-padded tensors.
    @Test func splitGradientIsTheSlicesGradient() {
        let x = smoothValues([4, 6], seed: 23), w = smoothValues([4, 2], seed: 24)
        func gradient(_ parts: (Tensor) -> [Tensor]) -> [Float] {
            let tape = GradientTape()
            return tape.recording {
                let tracked = tape.watch(x)
                let loss = parts(tracked).enumerated().map { ($0.element * w * Float($0.offset + 1)).tanh().sum() }.reduce(Tensor(0), +)
                return tape.gradients(of: loss, withRespectTo: [tracked])[0].scalars
            }
        }
        let split = gradient { $0.split(into: 3, alongAxis: 1) }
        let sliced = gradient { x in (0..<3).map { x.slice((2 * $0)..<(2 * $0 + 2), alongAxis: 1) } }
        #expect(split.map(\.bitPattern) == sliced.map(\.bitPattern))
        #expect(withoutGradients { x.split([1, 3]) }.map(\.shape) == [[1, 6], [3, 6]])
    }

    @Test func recurrentCells() {
        let (x, h, state) = (smoothValues([2, 12], seed: 25), smoothValues([2, 12], seed: 26), smoothValues([2, 3], seed: 27))
        checkGradients([x.slice(0..<9, alongAxis: 1), h.slice(3..<12, alongAxis: 1), state]) {
            .gruCell(inputGates: $0[0], hiddenGates: $0[1], hidden: $0[2])
        }
        checkGradients([x, h, state]) {
            let next = Tensor.lstmCell(inputGates: $0[0], hiddenGates: $0[1], cell: $0[2])
            return .concatenate([next.hidden, next.cell * 0.5])
        }
    }

    @Test func gather() {
        checkGradients([a]) { $0[0].gathering([2, 0, 2, 1]) }
        checkGradients([a]) { $0[0].gathering([3, 3, 0], alongAxis: 1) }
    }
    @Test func composite() {
        // A small VAE-like chain: linear, relu, logSumExp; exercises gradient accumulation across uses.
        let x = smoothValues([4, 3], seed: 22), w = smoothValues([5, 3], seed: 23), bias = smoothValues([5], seed: 24)
        checkGradients([x, w, bias]) { v in
            let hidden = (v[0].matmul(v[1], transposingOther: true) + v[2]).tanh()
            return hidden.logSumExp(alongAxis: 1) + hidden.sum(alongAxis: 1)
        }
    }
}

@Suite("Gradient checks: convolutions")
struct ConvolutionGradientTests {
    @Test func conv2dStrideAndPadding() {
        let input = smoothValues([2, 2, 5, 5], seed: 30), weight = smoothValues([3, 2, 3, 3], seed: 31), bias = smoothValues([3], seed: 32)
        for geometry in [ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1), ConvolutionGeometry(kernelSize: 3)] {
            checkGradients([input, weight, bias]) { $0[0].conv2d(weight: $0[1], bias: $0[2], geometry: geometry) }
        }
        checkGradients([input, smoothValues([3, 2, 2, 3], seed: 33)]) {
            $0[0].conv2d(weight: $0[1], bias: nil, geometry: ConvolutionGeometry(kernelHeight: 2, kernelWidth: 3, stride: 1, padding: 1))
        }
    }

    @Test func transposedConv2d() {
        let input = smoothValues([2, 3, 3, 3], seed: 34), weight = smoothValues([3, 2, 3, 3], seed: 35), bias = smoothValues([2], seed: 36)
        checkGradients([input, weight, bias]) {
            $0[0].transposedConv2d(weight: $0[1], bias: $0[2], geometry: ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1),
                                   outputPadding: 1)
        }
        checkGradients([input, weight]) {
            $0[0].transposedConv2d(weight: $0[1], bias: nil, geometry: ConvolutionGeometry(kernelSize: 3, stride: 1, padding: 1))
        }
    }

    /// Kernel 4, stride 2, padding 1 (VQ-VAE's layers) with one image and one output channel.
    @Test func kernelFourConvolutionsWithOneImage() {
        let geometry = ConvolutionGeometry(kernelSize: 4, stride: 2, padding: 1)
        checkGradients([smoothValues([1, 2, 6, 6], seed: 38), smoothValues([1, 2, 4, 4], seed: 39), smoothValues([1], seed: 40)]) {
            $0[0].conv2d(weight: $0[1], bias: $0[2], geometry: geometry)
        }
        checkGradients([smoothValues([1, 2, 3, 3], seed: 41), smoothValues([2, 1, 4, 4], seed: 42), smoothValues([1], seed: 43)]) {
            $0[0].transposedConv2d(weight: $0[1], bias: $0[2], geometry: geometry)
        }
    }

    @Test func upsampleNearest() {
        checkGradients([smoothValues([1, 2, 2, 3], seed: 37)]) { $0[0].upsampledNearest(factor: 2) }
    }
}
