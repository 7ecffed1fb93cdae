import VAECUDA
import VAETensor

// The affine ops with a fused ReLU or leaky ReLU, through DeviceOps (the launches a training step makes: the bias
// and the activation in one, both gradients' channel sums in one), against the host's op followed by `relu()` or
// `leakyRelu(slope:)`, with their gradients from the tape.
extension KernelChecks {
    mutating func fusedActivations() throws {
        // Sums per channel in a block's tree over 8 images of 7×7: 392 values per channel, each thread stepping 5
        // planes and 11 positions (vae_channel_walk), through a ReLU's gradient, the gradient written as laid out.
        let (g, y) = (values(1176, seed: 78), values(1176, seed: 79))
        let masked = zip(g, y).map { $1 > 0 ? $0 : 0 }
        var expectedSums = [Float](repeating: 0, count: 3)
        for (index, value) in masked.enumerated() { expectedSums[(index / 49) % 3] += value }
        let (out, sums) = (try buffer(count: 1176), try buffer(count: 3))
        try device.launch("vae_channel_sums", grid: 2, block: CUDAKernelSource.reductionThreads,
                          [.int64(8), .int64(3), .int64(49), try buffer(g), try buffer(y), .float(0), out, .int32(0), .int32(1), sums])
        record("vae_channel_sums (a block per channel of 392 values, through a ReLU's gradient)",
               try read(sums, 3) + read(out, 1176), expectedSums + masked, tolerance: 1e-5)

        let ops = DeviceOps(device: device)
        func tensor(_ shape: [Int], seed: UInt64) -> Tensor { Tensor(shape: shape, scalars: values(shape.reduce(1, *), seed: seed)) }
        func placed(_ tensors: [Tensor]) throws -> [DeviceTensor] {
            try tensors.map { try DeviceTensor(device: device, shape: $0.shape, values: $0.scalars) }
        }
        for slope: Float in [0, 0.01] {
            let name = slope == 0 ? "ReLU" : "leaky ReLU"
            func activated(_ y: Tensor) -> Tensor { slope == 0 ? y.relu() : y.leakyRelu(slope: slope) }

            // 1100 rows: more than one thread sums (DeviceOps.channelSumsInOneThread), so a block per channel.
            let linear = [tensor([1100, 7], seed: 60), tensor([5, 7], seed: 61), tensor([5], seed: 62)]
            let linearUpstream = tensor([1100, 5], seed: 63)
            let hostLinear: ([Tensor]) -> Tensor = { activated($0[0].linear(weight: $0[1], bias: $0[2])) }
            let l = try placed(linear + [linearUpstream])
            let y = try ops.linear(l[0], weight: l[1], bias: l[2], activationSlope: slope)
            record("linear + \(name) (GEMM, vae_add_channel_bias)", try y.values(), hostLinear(linear).scalars, tolerance: 1e-5)
            let dLinear = try ops.linearGradients(upstream: l[3], input: l[0], weight: l[1], activation: (y, slope))
            record("linear + \(name) gradients (vae_channel_sums, GEMMs)",
                   try dLinear.input!.values() + dLinear.weight.values() + dLinear.bias.values(),
                   gradients(linear, upstream: linearUpstream, hostLinear).flatMap(\.scalars), tolerance: 1e-5)

            // A 3×3 convolution, stride 1: 2 × 12 × 12 = 288 positions per channel, summed by a thread each.
            let same = ConvolutionGeometry(kernelSize: 3, stride: 1, padding: 1)
            let conv = [tensor([2, 3, 12, 12], seed: 64), tensor([4, 3, 3, 3], seed: 65), tensor([4], seed: 66)]
            let convUpstream = tensor([2, 4, 12, 12], seed: 67)
            let hostConv: ([Tensor]) -> Tensor = { activated($0[0].conv2d(weight: $0[1], bias: $0[2], geometry: same)) }
            let c = try placed(conv + [convUpstream])
            let convolved = try ops.conv2d(c[0], weight: c[1], bias: c[2], same, activationSlope: slope)
            record("conv2d + \(name) (im2col, GEMM, vae_add_channel_bias)", try convolved.output.values(), hostConv(conv).scalars, tolerance: 1e-5)
            let dConv = try ops.conv2dGradients(upstream: c[3], inputShape: conv[0].shape, weight: c[1], columns: convolved.columns, same,
                                                activation: (convolved.output, slope))
            record("conv2d + \(name) gradients (vae_channel_sums, GEMMs, col2im)",
                   try dConv.input.values() + dConv.weight.values() + dConv.bias.values(),
                   gradients(conv, upstream: convUpstream, hostConv).flatMap(\.scalars), tolerance: 1e-5)

            // A transposed 3×3 convolution, stride 2, output padding 1: [2, 4, 5, 5] → [2, 3, 10, 10].
            let up = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
            let transposed = [tensor([2, 4, 5, 5], seed: 68), tensor([4, 3, 3, 3], seed: 69), tensor([3], seed: 70)]
            let transposedUpstream = tensor([2, 3, 10, 10], seed: 71)
            let hostTransposed: ([Tensor]) -> Tensor = {
                activated($0[0].transposedConv2d(weight: $0[1], bias: $0[2], geometry: up, outputPadding: 1))
            }
            let t = try placed(transposed + [transposedUpstream])
            let upsampled = try ops.transposedConv2d(t[0], weight: t[1], bias: t[2], up, outputPadding: 1, activationSlope: slope)
            record("transposedConv2d + \(name) (GEMM, vae_col2im)", try upsampled.output.values(), hostTransposed(transposed).scalars, tolerance: 1e-5)
            let dTransposed = try ops.transposedConv2dGradients(upstream: t[3], inputShape: transposed[0].shape, weight: t[1],
                                                                inputColumns: upsampled.inputColumns, up, activation: (upsampled.output, slope))
            record("transposedConv2d + \(name) gradients (vae_channel_sums, im2col, GEMMs)",
                   try dTransposed.input.values() + dTransposed.weight.values() + dTransposed.bias.values(),
                   gradients(transposed, upstream: transposedUpstream, hostTransposed).flatMap(\.scalars), tolerance: 1e-5)
        }
    }
}
