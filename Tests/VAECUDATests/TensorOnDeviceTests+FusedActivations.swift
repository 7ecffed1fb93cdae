import Testing
import VAECUDA
import VAENN
@testable import VAETensor

// The affine ops with a ReLU or leaky ReLU fused into them, and the layers that use it.
extension TensorOnDeviceTests {
    /// `linear`, `conv2d` and `transposedConv2d` with `activationSlope`: the host's values and gradients (the op,
    /// then `relu()` or `leakyRelu(slope:)`), with and without a bias, inputs of both signs.
    @Test func affineOpsWithTheirActivationMatchTheHost() {
        let (x, w, b) = (values([5, 6], seed: 40, in: -2...2), values([4, 6], seed: 41), values([4], seed: 42))
        let (image, kernel, channelBias) = (values([2, 3, 6, 6], seed: 43, in: -2...2), values([4, 3, 3, 3], seed: 44), values([4], seed: 45))
        let (small, upKernel) = (values([2, 4, 3, 3], seed: 46, in: -2...2), values([4, 3, 3, 3], seed: 47))
        let (down, up) = (ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1), ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1))
        for slope: Float in [0, 0.2] {
            expectAgreement("linear, slope \(slope)", [x, w, b]) { $0[0].linear(weight: $0[1], bias: $0[2], activationSlope: slope) }
            expectAgreement("linear without a bias, slope \(slope)", [x, w]) { $0[0].linear(weight: $0[1], bias: nil, activationSlope: slope) }
            expectAgreement("conv2d, slope \(slope)", [image, kernel, channelBias]) {
                $0[0].conv2d(weight: $0[1], bias: $0[2], geometry: down, activationSlope: slope)
            }
            expectAgreement("conv2d without a bias, slope \(slope)", [image, kernel]) {
                $0[0].conv2d(weight: $0[1], bias: nil, geometry: down, activationSlope: slope)
            }
            expectAgreement("transposedConv2d, slope \(slope)", [small, upKernel, channelBias.slice(0..<3)]) {
                $0[0].transposedConv2d(weight: $0[1], bias: $0[2], geometry: up, outputPadding: 1, activationSlope: slope)
            }
        }
    }

    /// A `Sequential` of Linear → ReLU → Linear and Conv2d → leaky ReLU → ConvTranspose2d → ReLU on the device: each
    /// activation rides its layer's bias launch forward and its channel sums backward (no activation kernels, no
    /// layout copies around the convolution's product), with the host's values and gradients.
    @Test func layersRunTheirActivationInTheirOwnLaunches() throws {
        var random = RandomStream(seed: 7, name: "fused-layers")
        let dense = Sequential([Linear(inputSize: 6, outputSize: 5, random: &random), ActivationLayer(.relu),
                                Linear(inputSize: 5, outputSize: 3, random: &random)])
        let convolutional = Sequential([Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, random: &random),
                                        ActivationLayer(.leakyRelu),
                                        ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1,
                                                        outputPadding: 1, random: &random),
                                        ActivationLayer(.relu)])
        let (x, image) = (values([4, 6], seed: 48, in: -2...2), values([2, 2, 6, 6], seed: 49, in: -2...2))
        func run(_ on: (any TensorBackend)?) -> [Tensor] {
            dense.move(to: on)
            convolutional.move(to: on)
            let tape = GradientTape()
            return tape.recording {
                let parameters = (dense.parameters + convolutional.parameters).map { tape.watch($0.tensor, owner: $0) }
                let loss = (dense(x.moved(to: on)) * values([4, 3], seed: 50).moved(to: on)).sum()
                    + (convolutional(image.moved(to: on)) * values([2, 2, 6, 6], seed: 51).moved(to: on)).sum()
                return [loss] + tape.gradients(of: loss, withRespectTo: parameters)
            }
        }
        let host = run(nil)
        let (counting, counted) = try countingBackend()
        let before = counting.launchesByKernel
        let device = run(counted)
        let launches = counting.launches(since: before)
        dense.move(to: nil)
        convolutional.move(to: nil)
        for (index, (d, h)) in zip(device, host).enumerated() {
            expectClose(d, h, index == 0 ? "loss" : "gradient \(index)", on: counted)
        }
        for kernel in ["vae_relu", "vae_relu_gradient", "vae_leaky_relu", "vae_leaky_relu_gradient"] {
            #expect(launches[kernel] == nil, "\(kernel): \(launches)")
        }
        // Two linear layers and the convolution: a bias launch each; the transposed convolution adds its bias in col2im.
        #expect(launches["vae_add_channel_bias"] == 3 && launches["vae_channel_sums"] == 4, "\(launches)")
        // The transposed convolution's input and its gradient as [C, N·P] and back, and the two sums' expansions:
        // none for the convolution, whose product and upstream gradient change layout in those two launches.
        #expect(launches["vae_strided_copy"] == 4, "\(launches)")
    }
}
