import Testing
import VAECUDA
import VAEModels
@testable import VAETensor

// What a step hands the device: splits, the recurrent cells, repeated rows, constant operands and draws made there.
extension TensorOnDeviceTests {
    /// A split's parts on the device: the host's values and gradients (a part unused, parts reordered); along the
    /// first axis the parts are views (no launch) and the gradient one block copy.
    @Test func aSplitsGradientIsOneConcatenation() throws {
        let x = values([3, 10], seed: 30)
        expectAgreement("split along 1, a part unused", [x]) { let parts = $0[0].split([4, 1, 5], alongAxis: 1); return parts[0] * parts[2].slice(0..<4, alongAxis: 1) }
        expectAgreement("split along 0, reordered", [x]) { let parts = $0[0].split([1, 2]); return .concatenate([parts[1], parts[0]]) * $0[0] }

        let (counting, counted) = try countingBackend()
        let onDevice = x.moved(to: counted)
        let before = counting.launchesByKernel
        let tape = GradientTape()
        let gradient = tape.recording {
            let tracked = tape.watch(onDevice)
            let parts = tracked.split(into: 3)
            return tape.gradients(of: (parts[0] + parts[1] + parts[2]).sum(), withRespectTo: [tracked])[0]
        }
        #expect(gradient.backend === counted && gradient.scalars == [Float](repeating: 1, count: 30))
        let launches = counting.launches(since: before)
        // Two additions and their gradients' pass-through, the sum, its expansion and the seed; one block copy.
        #expect(launches["vae_copy_blocks"] == 1 && launches["vae_strided_scatter"] == nil, "\(launches)")
        #expect(launches["vae_strided_copy", default: 0] <= 1, "the parts are views: \(launches)")
    }

    /// The GRU and LSTM cells on the device: the host's values and gradients for both gate products and the state,
    /// with one kernel each way.
    @Test func theRecurrentCellsAreOneKernelEachWay() throws {
        let (x, h, state) = (values([3, 20], seed: 31, in: -2...2), values([3, 20], seed: 32, in: -2...2), values([3, 5], seed: 33))
        expectAgreement("gruCell", [x.slice(0..<15, alongAxis: 1), h.slice(5..<20, alongAxis: 1), state]) {
            .gruCell(inputGates: $0[0], hiddenGates: $0[1], hidden: $0[2])
        }
        expectAgreement("lstmCell", [x, h, state]) {
            let next = Tensor.lstmCell(inputGates: $0[0], hiddenGates: $0[1], cell: $0[2])
            return .concatenate([next.hidden, next.cell], alongAxis: 1)
        }
        expectAgreement("lstmCell, the cell state unused", [x, h, state]) { Tensor.lstmCell(inputGates: $0[0], hiddenGates: $0[1], cell: $0[2]).hidden }

        let (counting, counted) = try countingBackend()
        let inputs = [x, h, state].map { $0.moved(to: counted) }
        let before = counting.launchesByKernel
        let tape = GradientTape()
        let gradients = tape.recording {
            let tracked = inputs.map { tape.watch($0) }
            let next = Tensor.lstmCell(inputGates: tracked[0], hiddenGates: tracked[1], cell: tracked[2])
            let hidden = Tensor.gruCell(inputGates: tracked[0].slice(0..<15, alongAxis: 1), hiddenGates: tracked[1].slice(0..<15, alongAxis: 1),
                                        hidden: next.hidden + next.cell)
            return tape.gradients(of: hidden.sum(), withRespectTo: tracked)
        }
        #expect(gradients.allSatisfy { $0.backend === counted })
        let launches = counting.launches(since: before)
        for kernel in ["vae_gru_cell", "vae_gru_cell_gradient", "vae_lstm_cell", "vae_lstm_cell_gradient"] {
            #expect(launches[kernel] == 1, "\(kernel): \(launches[kernel] ?? 0) launches")
        }
        #expect(launches["vae_sigmoid_forward"] == nil && launches["vae_tanh"] == nil && launches["vae_multiply"] == nil, "\(launches)")
    }

    /// A recurrence's running-row mask is a constant operand: its gradient is not computed (before, a product with
    /// it launched a second product and a sum over the batch for a gradient nobody read).
    @Test func aConstantOperandCostsNoGradientLaunch() throws {
        let (counting, counted) = try countingBackend()
        let (x, mask) = (values([4, 6], seed: 34).moved(to: counted), Tensor(shape: [4, 1], scalars: [1, 1, 0, 1]).moved(to: counted))
        let before = counting.launchesByKernel
        let tape = GradientTape()
        let gradient = tape.recording {
            let tracked = tape.watch(x)
            return tape.gradients(of: (tracked * mask).sum(), withRespectTo: [tracked])[0]
        }
        #expect(gradient.scalars == (0..<24).map { $0 / 6 == 2 ? 0 : 1 })
        let launches = counting.launches(since: before)
        #expect(launches["vae_multiply"] == 2 && launches["vae_sum_axis"] == nil, "one product each way: \(launches)")
    }

    /// Each row repeated (an image's importance samples): the host's gather of those rows, values and gradients; on
    /// the device a broadcasting copy and a sum back, with nothing copied there.
    @Test func repeatingEachRowCopiesNoIndices() throws {
        expectAgreement("repeatingEachRow of rows", [values([3, 4], seed: 35)]) { $0[0].repeatingEachRow(3) }
        expectAgreement("repeatingEachRow of images", [values([2, 1, 2, 3], seed: 36)]) { $0[0].repeatingEachRow(2) }
        let x = values([3, 4], seed: 35)
        #expect(x.repeatingEachRow(2).scalars == x.gathering([0, 0, 1, 1, 2, 2]).scalars)

        let (counting, counted) = try countingBackend()
        let onDevice = x.moved(to: counted)
        let (copies, before) = (counting.copiesToDevice, counting.launchesByKernel)
        let tape = GradientTape()
        let gradient = tape.recording {
            let tracked = tape.watch(onDevice)
            return tape.gradients(of: tracked.repeatingEachRow(5).sum(), withRespectTo: [tracked])[0]
        }
        #expect(gradient.scalars == [Float](repeating: 5, count: 12) && counting.copiesToDevice == copies)
        #expect(counting.launches(since: before)["vae_gather"] == nil)
    }

    /// Uniform draws made on the device are the host's, bit for bit, and move the stream alike (the Gumbel-softmax's
    /// noise is drawn there rather than copied there).
    @Test func uniformDrawsOnTheDeviceAreTheHosts() {
        var (host, device) = (RandomStream(seed: 3, name: "uniform"), RandomStream(seed: 3, name: "uniform"))
        let (a, b) = (host.uniform(shape: [5, 7], on: nil), device.uniform(shape: [5, 7], on: backend))
        #expect(b.backend === backend && a.scalars == b.scalars && host == device)
    }

    func countingBackend() throws -> (CachingDevice, CUDABackend) { try emulatedCachingBackend() }
}

extension CachingDevice {
    /// Launches by kernel since `before` (an earlier ``launchesByKernel``), without the kernels not launched since.
    func launches(since before: [String: Int]) -> [String: Int] {
        launchesByKernel.merging(before.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
    }
}

extension TensorOnDeviceTests {
    /// A constant the host makes goes to the device once per key and is reused after, with the host's values; on
    /// the host it is what `make` returns. The diagonal masks are such constants.
    @Test func aConstantIsCopiedToTheDeviceOncePerKey() throws {
        let (counting, counted) = try countingBackend()
        let x = values([3, 3], seed: 40).moved(to: counted)
        let copies = counting.copiesToDevice
        var made = 0
        func mask(_ key: String) -> Tensor {
            Tensor.constant(key, beside: x) { made += 1; return Tensor(shape: [3, 3], scalars: (0..<9).map(Float.init)) }
        }
        let first = x * mask("a")
        let second = x * mask("a")
        #expect(counting.copiesToDevice - copies == 1 && made == 1)
        #expect(first.scalars == second.scalars && first.scalars == (values([3, 3], seed: 40) * Tensor(shape: [3, 3], scalars: (0..<9).map(Float.init))).scalars)
        _ = mask("b")
        #expect(counting.copiesToDevice - copies == 2 && made == 2, "another key is another constant")
        #expect(Tensor.constant("a", beside: values([1], seed: 1)) { Tensor(7) }.scalar == 7, "on the host: make's value")

        let identity = Tensor.identity(3, beside: x), offDiagonal = Tensor.offDiagonal(3, beside: x)
        #expect(identity.backend === counted && identity.scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(offDiagonal.scalars == [0, 1, 1, 1, 0, 1, 1, 1, 0])
        let before = counting.copiesToDevice
        _ = (Tensor.identity(3, beside: x), Tensor.offDiagonal(3, beside: x))
        #expect(counting.copiesToDevice == before)
    }
}

extension TensorOnDeviceTests {
    /// Sorting rows on the device: the host's values and gradients (ties, a row of one, lengths not a power of
    /// two), with no copy either way; the sliced Wasserstein distance then runs there whole.
    @Test func rowsAreSortedOnTheDevice() throws {
        var tied = values([4, 13], seed: 41).scalars
        for i in stride(from: 0, to: tied.count, by: 3) { tied[i] = -0.25 }
        expectAgreement("sortedWithinRows with ties", [Tensor(shape: [4, 13], scalars: tied)], { $0[0].sortedWithinRows() * $0[0] }, tolerance: 0)
        expectAgreement("sortedWithinRows of one column", [values([5, 1], seed: 42)], { $0[0].sortedWithinRows().exp() }, tolerance: 0)
        expectAgreement("sortedWithinRows of 300", [values([2, 300], seed: 43)], { $0[0].sortedWithinRows().squared() }, tolerance: 0)
        #expect(Tensor(shape: [1, 4], scalars: [3, -1, 3, 0]).sortedWithinRows().scalars == [-1, 0, 3, 3])

        let (counting, counted) = try countingBackend()
        let (a, b) = (values([16, 3], seed: 44).moved(to: counted), values([16, 3], seed: 45).moved(to: counted))
        let (copiesTo, copiesBack) = (counting.copiesToDevice, counting.copiesToHost)
        var random = RandomStream(seed: 9, name: "directions")
        let distance = SlicedWasserstein(projections: 7, power: 2)(a, b, random: &random)
        #expect(distance.backend === counted && counting.copiesToDevice == copiesTo && counting.copiesToHost == copiesBack)
        var hostRandom = RandomStream(seed: 9, name: "directions")
        let onHost = SlicedWasserstein(projections: 7, power: 2)(values([16, 3], seed: 44), values([16, 3], seed: 45), random: &hostRandom)
        #expect(abs(distance.scalar - onHost.scalar) <= 1e-5 * abs(onHost.scalar) && hostRandom == random, "\(distance.scalar) vs \(onHost.scalar)")
    }
}

extension TensorOnDeviceTests {
    /// The positions of row maxima stay on the device: read back they are the host's (first on ties); rows gathered
    /// by them and one-hot rows made from them are the host's, the gathered rows' gradient too, with no copy to
    /// the device.
    @Test func rowIndicesStayOnTheDevice() throws {
        var scalars = values([6, 5], seed: 46).scalars
        (scalars[7], scalars[9]) = (1, 1)   // a tie in row 1 (the values are in ±0.5): the first maximum wins
        let scores = Tensor(shape: [6, 5], scalars: scalars)
        let table = values([5, 3], seed: 47)
        let host = scores.positionsOfRowMaxima()
        func firstMaximum(_ row: Int) -> Int {
            let entries = Array(scalars[(row * 5)..<(row * 5 + 5)])
            return entries.firstIndex(of: entries.max()!)!
        }
        #expect(host.values == (0..<6).map(firstMaximum) && host.values[1] == 2)

        let (counting, counted) = try countingBackend()
        let (onDeviceScores, onDeviceTable) = (scores.moved(to: counted), table.moved(to: counted))
        let copies = counting.copiesToDevice
        let positions = onDeviceScores.positionsOfRowMaxima()
        #expect(positions.backend === counted && positions.count == 6)
        let tape = GradientTape()
        let (gathered, gradient) = tape.recording {
            let watched = tape.watch(onDeviceTable)
            let rows = watched.gathering(positions)
            return (rows, tape.gradients(of: (rows * rows).sum(), withRespectTo: [watched])[0])
        }
        let oneHot = Tensor.oneHot(positions, classes: 5)
        #expect(counting.copiesToDevice == copies, "\(counting.copiesToDevice - copies) copies to the device")
        #expect(positions.values == host.values)
        #expect(gathered.scalars == table.gathering(host.values).scalars)
        let hostTape = GradientTape()
        let hostGradient = hostTape.recording {
            let watched = hostTape.watch(table)
            let rows = watched.gathering(host)
            return hostTape.gradients(of: (rows * rows).sum(), withRespectTo: [watched])[0]
        }
        #expect(gradient.scalars == hostGradient.scalars)
        #expect(oneHot.scalars == Tensor.oneHot(host, classes: 5).scalars)
    }
}

extension TensorOnDeviceTests {
    /// Mirrored image lines on the device are the host's, with the draws made there (nothing copied to it).
    @Test func linesAreMirroredOnTheDevice() throws {
        let images = values([5, 12], seed: 48)
        var (hostDraws, deviceDraws) = (RandomStream(seed: 4, name: "flip"), RandomStream(seed: 4, name: "flip"))
        let onHost = images.mirroringLines(width: 4, where: hostDraws.uniform(shape: [5], on: nil))
        let (counting, counted) = try countingBackend()
        let onDevice = images.moved(to: counted)
        let copies = counting.copiesToDevice
        let mirrored = onDevice.mirroringLines(width: 4, where: deviceDraws.uniform(shape: [5], on: counted))
        #expect(counting.copiesToDevice == copies && mirrored.backend === counted)
        #expect(mirrored.scalars == onHost.scalars && hostDraws == deviceDraws)
        #expect(onHost.scalars != images.scalars, "some row was mirrored")
        let row = Tensor(shape: [1, 6], scalars: [1, 2, 3, 4, 5, 6])
        #expect(row.mirroringLines(width: 3, where: Tensor(shape: [1], scalars: [0.2])).scalars == [3, 2, 1, 6, 5, 4])
        #expect(row.mirroringLines(width: 3, where: Tensor(shape: [1], scalars: [0.5])).scalars == [1, 2, 3, 4, 5, 6])
    }
}

extension TensorOnDeviceTests {
    /// Binarised values on the device are the host's, with the draws made there (nothing copied to it); a draw
    /// equal to its value gives 0, as on the host.
    @Test func valuesAreBinarisedOnTheDevice() throws {
        let grey = values([6, 20], seed: 49, in: 0...1)
        var (hostDraws, deviceDraws) = (RandomStream(seed: 5, name: "binarize"), RandomStream(seed: 5, name: "binarize"))
        let onHost = grey.binarized(by: hostDraws.uniform(shape: [6, 20], on: nil))
        let (counting, counted) = try countingBackend()
        let onDevice = grey.moved(to: counted)
        let copies = counting.copiesToDevice
        let binary = onDevice.binarized(by: deviceDraws.uniform(shape: [6, 20], on: counted))
        #expect(counting.copiesToDevice == copies && binary.backend === counted)
        #expect(binary.scalars == onHost.scalars && hostDraws == deviceDraws)
        #expect(Set(onHost.scalars) == [0, 1])
        let edges = Tensor(shape: [4], scalars: [0, 1, 0.5, 0.5]).binarized(by: Tensor(shape: [4], scalars: [0, 0.999, 0.5, 0.49]))
        #expect(edges.scalars == [0, 1, 0, 1])
    }
}

extension TensorOnDeviceTests {
    /// A step's host-made index lists and float arrays go to the device in one copy: the indices read back as given
    /// (negative and beyond 32 bits too), the arrays in their shapes, and gathers and the softmax cross-entropy read
    /// the parts there, with the values of the host's lists.
    @Test func aPackedUploadIsOneCopy() throws {
        let lists = [[3, 0, 2], [], [-1, 1 << 40, 7], [4]]
        let arrays: [(shape: [Int], scalars: [Float])] = [([2, 2], [1, -2, 0.5, .infinity]), ([3], [0, 0, 1])]
        let (counting, counted) = try countingBackend()
        let copies = counting.copiesToDevice
        let packed = PackedUpload(indices: lists, values: arrays, to: counted)
        #expect(counting.copiesToDevice == copies + 1)
        #expect(packed.indices.map(\.values) == lists && packed.indices.allSatisfy { $0.backend === counted })
        #expect(packed.values.map(\.shape) == [[2, 2], [3]] && packed.values.map(\.scalars) == arrays.map(\.scalars))
        let host = PackedUpload(indices: lists, values: arrays, to: nil)
        #expect(host.indices.map(\.values) == lists && host.indices.allSatisfy { $0.backend == nil })

        let logits = values([3, 5], seed: 70).moved(to: counted)
        let table = values([5, 2], seed: 71).moved(to: counted)
        let before = counting.copiesToDevice
        let losses = logits.softmaxCrossEntropy(targets: packed.indices[0])
        let rows = table.gathering(packed.indices[0])
        #expect(counting.copiesToDevice == before, "reading the parts copied to the device")
        #expect(losses.scalars == logits.softmaxCrossEntropy(targets: lists[0]).scalars)
        #expect(rows.scalars == table.gathering(lists[0]).scalars)
        let tape = GradientTape()
        let gradient = tape.recording {
            let watched = tape.watch(logits)
            return tape.gradients(of: watched.softmaxCrossEntropy(targets: packed.indices[0]).sum(), withRespectTo: [watched])[0]
        }
        let expected = tape.recording {
            let watched = tape.watch(logits)
            return tape.gradients(of: watched.softmaxCrossEntropy(targets: lists[0]).sum(), withRespectTo: [watched])[0]
        }
        #expect(gradient.scalars == expected.scalars)
    }
}
