import Testing
import VAECUDA
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

    func countingBackend() throws -> (CachingDevice, CUDABackend) {
        let counting = CachingDevice(EmulatedDevice(try KernelEmulator.shared.get()))
        return (counting, CUDABackend(ops: DeviceOps(device: counting, blockSize: 64, maximumBlocks: 2)))
    }
}

extension CachingDevice {
    /// Launches by kernel since `before` (an earlier ``launchesByKernel``), without the kernels not launched since.
    func launches(since before: [String: Int]) -> [String: Int] {
        launchesByKernel.merging(before.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
    }
}
