// Dynamic binarisation of images, where the batch lives.

extension Tensor {
    /// Each value as 1 where its draw is below it and 0 elsewhere: a Bernoulli draw with the value (a grey level in
    /// [0, 1]) as its probability, the dynamic binarisation of MNIST-like images. `draws`: the same shape, uniform
    /// in [0, 1). Not tracked (it makes an input). On a device, one kernel reading the draws there.
    public func binarized(by draws: Tensor) -> Tensor {
        precondition(shape == draws.shape, "binarized: needs a draw per value, got \(shape) and \(draws.shape)")
        if let backend = Tensor.backend(self, draws) {
            return Tensor(device: backend.binarized(moved(to: backend).storage, draws: draws.moved(to: backend).storage))
        }
        return Tensor(shape: shape, scalars: Kernels.zip(scalars, draws.scalars) { $1 < $0 ? 1 : 0 })
    }
}
