import Testing
@testable import VAETensor

@Suite struct TensorTests {
    @Test func broadcastingValues() {
        let matrix = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], scalars: [10, 20, 30])
        let column = Tensor(shape: [2, 1], scalars: [100, 200])
        #expect((matrix + row).scalars == [11, 22, 33, 14, 25, 36])
        #expect((matrix + column).scalars == [101, 102, 103, 204, 205, 206])
        #expect((row + column).shape == [2, 3])
    }

    @Test func matmulMatchesHandProduct() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(a.matmul(b).scalars == [58, 64, 139, 154])
        #expect(a.matmul(a, transposingOther: true).scalars == [14, 32, 32, 77])
        #expect(a.matmul(a, transposingSelf: true).shape == [3, 3])
    }

    @Test func linearEqualsMatmulPlusBias() {
        var random = RandomStream(seed: 5, name: "linear")
        let x = random.normal(shape: [7, 5]), w = random.normal(shape: [3, 5]), b = random.normal(shape: [3])
        let fused = x.linear(weight: w, bias: b).scalars
        let separate = (x.matmul(w, transposingOther: true) + b).scalars
        #expect(zip(fused, separate).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test func reductions() {
        let a = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(a.sum().scalar == 21)
        #expect(a.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(a.max(alongAxis: 1).scalars == [5, 6])
        #expect(a.mean(alongAxis: 1, keepingDimension: true).shape == [2, 1])
        let huge = Tensor(shape: [1, 2], scalars: [1000, 1000])
        #expect(abs(huge.logSumExp(alongAxis: 1).scalar - (1000 + 0.6931472)) < 1e-3)
    }

    @Test func stableFunctionsAtExtremes() {
        let extreme = Tensor(shape: [4], scalars: [-200, -30, 30, 200])
        #expect(extreme.softplus().isFinite)
        #expect(extreme.sigmoid().isFinite)
        let bce = extreme.binaryCrossEntropy(targets: Tensor(shape: [4], scalars: [0, 1, 0, 1]))
        #expect(bce.isFinite)
        #expect(abs(bce.scalars[2] - 30) < 1e-4)
    }

    @Test func shapeOps() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(a.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(a.slice(1..<3, alongAxis: 1).scalars == [2, 3, 5, 6])
        #expect(Tensor.concatenate([a, a], alongAxis: 1).scalars == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        #expect(a.gathering([1, 1, 0]).scalars == [4, 5, 6, 4, 5, 6, 1, 2, 3])
        #expect(a.reshaped([3, -1]).shape == [3, 2])
    }

    @Test func noGradientScopeRecordsNothing() {
        let tape = GradientTape()
        tape.recording {
            let x = tape.watch(Tensor(shape: [2], scalars: [1, 2]))
            let before = tape.nodeCount
            let y = withoutGradients { (x * x).sum() }
            #expect(tape.nodeCount == before)
            #expect(!y.isTracked)
        }
    }

    @Test func valuesFromAnotherTapeAreConstants() {
        let first = GradientTape()
        let old = first.recording { first.watch(Tensor(shape: [1], scalars: [3])) * 2 }
        let second = GradientTape()
        second.recording {
            let x = second.watch(Tensor(shape: [1], scalars: [5]))
            let loss = (x * old).sum()
            let gradient = second.gradients(of: loss, withRespectTo: [x])[0]
            #expect(gradient.scalars == [6])
        }
    }
}
