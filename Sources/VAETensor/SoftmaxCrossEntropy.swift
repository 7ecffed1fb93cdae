import CKernels
import Foundation

extension Tensor {
    /// ``softmaxCrossEntropy(targets:)`` with the targets where they are: on a device (a ``PackedUpload``'s part),
    /// read there with no copy; there they must already be below the class count (the host's are checked).
    public func softmaxCrossEntropy(targets: RowIndices) -> Tensor {
        guard case .device(let labels) = targets.storage, let backend = Tensor.backend(self) else {
            return softmaxCrossEntropy(targets: targets.values)
        }
        precondition(shape.count == 2 && targets.count == shape[0], "softmaxCrossEntropy: [rows, classes] logits and one target per row")
        let (losses, softmax) = backend.softmaxCrossEntropy(storage, labels: labels)
        return Tensor.record(Tensor(device: losses), inputs: [self]) { g in
            [.device(backend.softmaxCrossEntropyGradient(upstream: g.device, softmax: softmax, labels: labels))]
        }
    }

    /// −log softmax(row)[target] for each row of `[rows, classes]` logits: `[rows]`, 0 where the target is
    /// negative (padding). One pass forward (the maximum subtracted, sums in Double) and the gradient
    /// upstream·(softmax − one-hot) without building a one-hot matrix: a language model's loss over a vocabulary.
    public func softmaxCrossEntropy(targets: [Int]) -> Tensor {
        precondition(shape.count == 2 && targets.count == shape[0], "softmaxCrossEntropy: [rows, classes] logits and one target per row")
        let (rows, classes) = (shape[0], shape[1])
        precondition(targets.allSatisfy { $0 < classes }, "softmaxCrossEntropy: targets must be below \(classes)")
        if let backend = Tensor.backend(self) {
            let (losses, softmax, labels) = backend.softmaxCrossEntropy(storage, targets: targets)
            return Tensor.record(Tensor(device: losses), inputs: [self]) { g in
                [.device(backend.softmaxCrossEntropyGradient(upstream: g.device, softmax: softmax, labels: labels))]
            }
        }
        var losses = [Float](repeating: 0, count: rows)
        var logNormalisers = [Float](repeating: 0, count: rows)
        // Each row's log Σ exp over the classes in C (VectorMath's exp, sixteen lanes), as the gradient's softmax.
        scalars.withUnsafeBufferPointer { logits in
            for row in 0..<rows where targets[row] >= 0 {
                let normaliser = vae_log_sum_exp(classes, logits.baseAddress! + row * classes)
                logNormalisers[row] = normaliser
                losses[row] = normaliser - logits[row * classes + targets[row]]
            }
        }
        let input = scalars
        return Tensor.record(shape: [rows], scalars: losses, inputs: [self]) { upstream in
            var gradient = [Float](repeating: 0, count: input.count)
            input.withUnsafeBufferPointer { logits in
                gradient.withUnsafeMutableBufferPointer { out in
                    for row in 0..<rows where targets[row] >= 0 && upstream[row] != 0 {
                        let base = row * classes
                        vae_softmax_scaled(classes, logits.baseAddress! + base, logNormalisers[row], upstream[row],
                                           out.baseAddress! + base)
                        out[base + targets[row]] -= upstream[row]
                    }
                }
            }
            return [gradient]
        }
    }
}
