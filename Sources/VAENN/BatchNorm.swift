import VAETensor

/// Batch normalisation (Ioffe & Szegedy 2015) over `[batch, channels]` (1-D) or `[batch, channels, height, width]`
/// (2-D) inputs, as PyTorch's `BatchNorm1d`/`BatchNorm2d`: in training, normalises with the batch's mean and
/// biased variance and updates running averages (momentum 0.1, unbiased variance); in evaluation, uses the
/// running averages. Training uses one op with a hand-derived gradient (checked against finite differences in the
/// tests); evaluation is built from differentiable primitives.
public final class BatchNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    /// Saved with the weights (PyTorch's buffer names), not trained. The running averages move with the module;
    /// the step count stays on the host (nothing on a device reads it).
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let numBatchesTracked: Parameter
    public let epsilon: Float
    public let momentum: Float

    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Parameter(.ones([channels]))
        bias = Parameter(.zeros([channels]))
        runningMean = Parameter(.zeros([channels]), trainable: false)
        runningVar = Parameter(.ones([channels]), trainable: false)
        numBatchesTracked = Parameter(.zeros([]), trainable: false, keptOnHost: true)
        self.epsilon = epsilon
        self.momentum = momentum
        super.init()
    }

    public var channels: Int { weight.shape[0] }

    public func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, activationSlope: 1) }

    /// Normalises `input`, then applies a leaky ReLU with `activationSlope` (1: none, 0: ReLU): in training one
    /// fused op (`Tensor.batchNormalized(weight:bias:epsilon:activationSlope:)`), so a BatchNorm followed by its
    /// activation makes one pass over the activations instead of two.
    public func callAsFunction(_ input: Tensor, activationSlope: Float) -> Tensor {
        precondition((input.rank == 2 || input.rank == 4) && input.shape[1] == channels,
                     "BatchNorm(\(channels)): expected [batch, \(channels)] or [batch, \(channels), h, w], got \(input.shape)")
        if isTraining {
            // The running averages move toward the batch's statistics in the same op (one launch on a device).
            let (output, mean, variance) = input.batchNormalized(
                weight: weight.tensor, bias: bias.tensor, epsilon: epsilon, activationSlope: activationSlope,
                movingAverages: (runningMean.value, runningVar.value), momentum: momentum)
            withoutGradients {
                (runningMean.value, runningVar.value) = (mean, variance)
                numBatchesTracked.value = numBatchesTracked.value + 1
            }
            return output
        }
        // View as [batch, channels, positions] so both ranks share one code path.
        let positions = input.rank == 4 ? input.shape[2] * input.shape[3] : 1
        let grouped = input.reshaped([input.shape[0], channels, positions])
        let statisticShape = [1, channels, 1]
        // Where the running averages live (a device's, after `move(to:)`), with no gradient (they are buffers).
        let (mean, scale) = withoutGradients {
            (runningMean.value.reshaped(statisticShape), Tensor(1) / (runningVar.value + epsilon).sqrt().reshaped(statisticShape))
        }
        let normalized = (grouped - mean) * scale
        let output = (normalized * weight.tensor.reshaped(statisticShape) + bias.tensor.reshaped(statisticShape))
            .reshaped(input.shape)
        return activationSlope == 1 ? output : output.leakyRelu(slope: activationSlope)
    }
}
