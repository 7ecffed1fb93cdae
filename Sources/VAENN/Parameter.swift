import VAETensor

/// A trainable tensor owned by a module. Reading ``tensor`` while a tape records watches it (once per tape),
/// so gradients with respect to it can be taken; optimisers update ``value`` in place.
///
/// The tracked copy lives on the tape, not here: threads that each record their own tape over the same
/// module (data-parallel training) read parameters concurrently without sharing any mutable state.
public final class Parameter {
    /// The current value, outside any tape. A value assigned from elsewhere is moved to ``placement``, so that
    /// state a model rewrites in a step (a codebook, running averages) stays on its device. Mutating it in place
    /// (an optimiser's update) changes the stored tensor itself: no copy, no move.
    public var value: Tensor {
        get { stored }
        set { stored = newValue.backend === placement ? newValue : newValue.moved(to: placement).detached }
        _modify { yield &stored }
    }
    private var stored: Tensor

    /// Where the value lives: nil for the host, or a device's backend (`Module.move(to:)` sets it). Always nil
    /// for state kept on the host (``isKeptOnHost``).
    public var placement: (any TensorBackend)? {
        didSet {
            if isKeptOnHost { placement = nil }
            stored = stored.moved(to: placement).detached
        }
    }

    /// False for state that is saved with the weights but not trained (PyTorch's buffers, e.g. BatchNorm's
    /// running statistics).
    public let isTrainable: Bool
    /// True for a buffer that no op on a device reads (a step counter): it stays on the host when its module moves,
    /// so updating it costs a device no launch.
    public let isKeptOnHost: Bool

    public init(_ value: Tensor, trainable: Bool = true, keptOnHost: Bool = false) {
        precondition(!(trainable && keptOnHost), "Parameter: a trained parameter moves with its module; only a buffer is kept on the host")
        stored = value.detached
        self.isTrainable = trainable
        self.isKeptOnHost = keptOnHost
    }

    public var shape: [Int] { value.shape }

    /// The value to compute with: tracked on the active tape, plain otherwise.
    public var tensor: Tensor {
        guard let tape = GradientTape.active else { return value }
        return tape.watch(value, owner: self)
    }
}
