import VAETensor

/// A trainable tensor owned by a module. Reading ``tensor`` while a tape records watches it (once per tape),
/// so gradients with respect to it can be taken; optimisers update ``value`` in place.
public final class Parameter {
    /// The current value, outside any tape.
    public var value: Tensor
    private var watched: Tensor?
    private weak var watchedBy: GradientTape?

    /// False for state that is saved with the weights but not trained (PyTorch's buffers, e.g. BatchNorm's
    /// running statistics).
    public let isTrainable: Bool

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value.detached
        self.isTrainable = trainable
    }

    public var shape: [Int] { value.shape }

    /// Drops the tracked copy, so that the next in-place update does not copy the buffer it shares.
    public func forgetTape() {
        watched = nil
        watchedBy = nil
    }

    /// The value to compute with: tracked on the active tape, plain otherwise.
    public var tensor: Tensor {
        guard let tape = GradientTape.active else { return value }
        if watchedBy === tape, let watched { return watched }
        let tracked = tape.watch(value)
        watched = tracked
        watchedBy = tape
        return tracked
    }
}
