import Foundation
import VAENN
import VAETensor

/// Updates parameters from their gradients. State (moments, step count) is exposed as named tensors so
/// checkpoints restore it exactly.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Number of updates applied so far.
    var step: Int { get }
    /// Applies one update; `gradients[i]` belongs to `parameters[i]`.
    func update(_ parameters: [Parameter], gradients: [Tensor])
    /// Applies one update whose gradient is the sum of `parts` (a data-parallel batch's shards: `parts[s][i]`
    /// belongs to `parameters[i]`), added in part order. The default adds them, then calls
    /// ``update(_:gradients:)``; an optimiser may fuse the sum into its update (one pass over memory fewer).
    func update(_ parameters: [Parameter], summing parts: [[Tensor]])
    /// Per-parameter state slots, e.g. `["exp_avg", "exp_avg_sq"]` for Adam.
    var slotNames: [String] { get }
    /// State for `slot` of parameter `index` (nil before the first update).
    func state(slot: String, parameter index: Int) -> Tensor?
    /// Restores state saved by ``state(slot:parameter:)`` and the step count.
    func restore(step: Int, slots: [String: [Tensor]]) throws
}

extension Optimizer {
    public func update(_ parameters: [Parameter], summing parts: [[Tensor]]) {
        update(parameters, gradients: sumOfParts(parts))
    }
}

/// `parts[0] + parts[1] + …` per parameter, added in part order (the first part's buffers are reused when unique).
public func sumOfParts(_ parts: [[Tensor]]) -> [Tensor] {
    precondition(!parts.isEmpty, "sumOfParts: no parts")
    var sums = parts[0]
    for part in parts.dropFirst() {
        for index in sums.indices { sums[index].addInPlace(part[index]) }
    }
    return sums
}

/// A restored optimiser state that does not fit the model.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// Shared storage for optimisers with per-parameter moment buffers.
public class MomentOptimizer {
    public var learningRate: Float
    public internal(set) var step = 0
    var moments: [String: [MomentBuffer]] = [:]
    public let slotNames: [String]

    init(learningRate: Float, slotNames: [String]) {
        self.learningRate = learningRate
        self.slotNames = slotNames
    }

    /// Allocates zero moments on first use.
    func prepare(_ parameters: [Parameter]) {
        for slot in slotNames where moments[slot]?.count != parameters.count {
            moments[slot] = parameters.map { MomentBuffer([Float](repeating: 0, count: $0.value.count)) }
        }
    }

    /// Calls `body(weights, gradient, moment)` for each parameter in turn with its values, its gradient and its
    /// state in `slot` (all of one length; weights and moment mutable): the loop of a one-slot element-wise update.
    /// A parameter on a device is updated there by `rule` (the same arithmetic as `body`).
    func updateEach(_ parameters: [Parameter], gradients: [Tensor], slot: String, onDevice rule: OneSlotUpdate,
                    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>,
                             UnsafeMutableBufferPointer<Float>) -> Void) {
        for (index, parameter) in parameters.enumerated() {
            if let weights = parameter.value.deviceStorage, let gradient = gradients[index].deviceStorage,
               gradient.backend === weights.backend {
                weights.backend.update(rule, weights: weights, gradient: gradient,
                                       state: moments[slot]![index].storage(on: weights.backend))
                continue
            }
            gradients[index].scalars.withUnsafeBufferPointer { gradient in
                moments[slot]![index].values.withUnsafeMutableBufferPointer { moment in
                    parameter.value.withUnsafeMutableScalars { weights in body(weights, gradient, moment) }
                }
            }
        }
    }

    public func state(slot: String, parameter index: Int) -> Tensor? {
        moments[slot]?[index].tensor
    }

    public func restore(step: Int, slots: [String: [Tensor]]) throws {
        for slot in slotNames {
            guard let tensors = slots[slot] else {
                throw OptimizerStateError(description: "optimizer state: missing slot '\(slot)'")
            }
            moments[slot] = tensors.map { MomentBuffer($0.scalars) }
        }
        self.step = step
    }
}

/// One parameter's moment values. A class, so that an update can hold several buffers mutably at once.
final class MomentBuffer {
    var values: [Float]
    /// The values on a device, once its parameter lives there (`values` is then empty).
    var storage: (any DeviceStorage)?
    init(_ values: [Float]) { self.values = values }

    var tensor: Tensor { storage.map { Tensor(device: $0) } ?? Tensor(shape: [values.count], scalars: values) }

    /// The values on `backend`, moved there on first use.
    func storage(on backend: any TensorBackend) -> any DeviceStorage {
        if let storage, storage.backend === backend { return storage }
        let moved = tensor.moved(to: backend).deviceStorage!
        (storage, values) = (moved, [])
        return moved
    }
}

/// Rescales gradients so their global L2 norm is at most `maxNorm` (PyTorch's `clip_grad_norm_`).
/// Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [Tensor], maxNorm: Float) -> Float {
    // On a device: the squares summed there (in Float) and one value read back; the scaling stays there.
    if let backend = gradients.first?.backend, gradients.allSatisfy({ $0.backend === backend }) {
        let norm = withoutGradients { gradients.dropFirst().reduce(gradients[0].squared().sum()) { $0 + $1.squared().sum() } }
            .scalar.squareRoot()
        if maxNorm > 0 && norm > maxNorm {
            let scale = maxNorm / (norm + 1e-6)
            gradients = withoutGradients { gradients.map { $0 * scale } }
        }
        return norm
    }
    var total: Double = 0
    for gradient in gradients {
        for value in gradient.scalars { total += Double(value) * Double(value) }
    }
    let norm = Float(total.squareRoot())
    if maxNorm > 0 && norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for index in gradients.indices {
            gradients[index].withUnsafeMutableScalars { buffer in
                for position in buffer.indices { buffer[position] *= scale }
            }
        }
    }
    return norm
}
