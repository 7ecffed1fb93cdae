import Foundation
import VAENN
import CKernels
import VAETensor

/// Adam (Kingma & Ba 2015) with PyTorch's defaults and update order. `decoupledWeightDecay` gives AdamW
/// (Loshchilov & Hutter 2019): the decay shrinks weights directly instead of joining the gradient.
public final class Adam: MomentOptimizer, Optimizer {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public let decoupledWeightDecay: Bool

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        super.init(learningRate: learningRate, slotNames: ["exp_avg", "exp_avg_sq"])
    }

    /// AdamW with PyTorch's default decay of 0.01.
    public static func adamW(learningRate: Float = 1e-3, weightDecay: Float = 1e-2) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func update(_ parameters: [Parameter], gradients: [Tensor]) {
        update(parameters, summing: [gradients])
    }

    /// One or two parts are added inside the update's pass (g = part 0 + part 1, the same float sum as adding
    /// them first); more are added first.
    public func update(_ parameters: [Parameter], summing parts: [[Tensor]]) {
        guard parts.count <= 2 else {
            update(parameters, summing: [sumOfParts(parts)])
            return
        }
        let gradients = parts[0]
        let secondPart = parts.count == 2 ? parts[1] : nil
        prepare(parameters)
        step += 1
        let correction1 = 1 - Foundation.pow(beta1, Float(step))
        let correction2 = 1 - Foundation.pow(beta2, Float(step))
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        let coupledDecay = decoupledWeightDecay ? 0 : weightDecay
        let shrink = decoupledWeightDecay ? 1 - learningRate * weightDecay : 1
        let update = AdamStep(beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                              rootCorrection2: rootCorrection2, coupledDecay: coupledDecay, shrink: shrink)
        // Parameters on a device: one call per device with all of them.
        var onDevices: [(backend: any TensorBackend, buffers: [AdamBuffers])] = []
        for (index, parameter) in parameters.enumerated() {
            if let weights = parameter.value.deviceStorage {
                let gradient = gradients[index].deviceStorage, addend = secondPart?[index].deviceStorage
                precondition(gradient?.backend === weights.backend && (secondPart == nil || addend?.backend === weights.backend),
                             "Adam: the gradient of a parameter on \(weights.backend.name) is not there")
                let buffers = AdamBuffers(weights: weights, gradient: gradient!, addend: addend,
                                          first: moments["exp_avg"]![index].storage(on: weights.backend),
                                          second: moments["exp_avg_sq"]![index].storage(on: weights.backend))
                if let at = onDevices.firstIndex(where: { $0.backend === weights.backend }) {
                    onDevices[at].buffers.append(buffers)
                } else {
                    onDevices.append((weights.backend, [buffers]))
                }
                continue
            }
            // An empty array stands in for "no second part": its base address is not read.
            (secondPart?[index].scalars ?? []).withUnsafeBufferPointer { secondPartBuffer in
            gradients[index].scalars.withUnsafeBufferPointer { gradientBuffer in
                moments["exp_avg"]![index].values.withUnsafeMutableBufferPointer { firstBuffer in
                    moments["exp_avg_sq"]![index].values.withUnsafeMutableBufferPointer { secondBuffer in
                        parameter.value.withUnsafeMutableScalars { weightBuffer in
                            let (first, second, weights) = (firstBuffer.baseAddress!, secondBuffer.baseAddress!, weightBuffer.baseAddress!)
                            let gradient = gradientBuffer.baseAddress!
                            let addend = secondPart != nil ? secondPartBuffer.baseAddress : nil
                            // Large tensors in a chunk per thread (the update is memory-bound); each element's
                            // arithmetic is the same for any split.
                            Parallel.forEachChunk(of: weightBuffer.count, grain: 1 << 15) { chunk in
                                let at = chunk.lowerBound
                                vae_adam_update(chunk.count, weights + at, gradient + at, addend.map { $0 + at },
                                                first + at, second + at, update.beta1, update.beta2, update.epsilon,
                                                update.stepSize, update.rootCorrection2, update.coupledDecay, update.shrink)
                            }
                        }
                    }
                }
            }
            }
        }
        for (backend, buffers) in onDevices { backend.adamUpdate(buffers, update) }
    }
}
