import Foundation
import VAETensor

/// A stack of recurrent layers over padded batches, with PyTorch's gate order, initialisation and parameter names
/// (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then `…_l1`), so weights interchange with
/// `torch.nn.GRU` / `torch.nn.LSTM` (`batch_first=False`, unidirectional). ``GRU`` and ``LSTM`` differ only in the
/// cell (``RecurrentCell``).
///
/// A sequence batch is time-major: row `t·batch + b` is item `b` at step `t`. Item `b` has `lengths[b]` steps: its
/// outputs after them are zero and its final state is the one at its last step, as a packed sequence gives. Per step
/// and layer the cost is one product for the hidden state over the whole batch and one cell op; the input products
/// of all steps are one product per layer.
public class RecurrentStack: Module {
    /// One layer's weights: `[gates·hidden, input]`, `[gates·hidden, hidden]` and two `[gates·hidden]` biases.
    public struct LayerWeights {
        public let inputWeight: Parameter
        public let hiddenWeight: Parameter
        public let inputBias: Parameter
        public let hiddenBias: Parameter
    }

    public let cell: RecurrentCell
    public let inputSize: Int
    public let hiddenSize: Int
    /// The layers, bottom first (not stored properties: named by ``additionalParameters``).
    public let layerWeights: [LayerWeights]

    /// Initialised as PyTorch: every weight and bias uniform in ±1/√hiddenSize.
    init(cell: RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int, random: inout RandomStream) {
        precondition(layers >= 1 && inputSize >= 1 && hiddenSize >= 1, "a recurrent stack needs sizes and layers of 1 or more")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let bound = 1 / Float(Foundation.sqrt(Double(hiddenSize)))
        let rows = cell.gates * hiddenSize
        layerWeights = (0..<layers).map { layer in
            LayerWeights(
                inputWeight: Parameter(random.uniform(shape: [rows, layer == 0 ? inputSize : hiddenSize], in: -bound...bound)),
                hiddenWeight: Parameter(random.uniform(shape: [rows, hiddenSize], in: -bound...bound)),
                inputBias: Parameter(random.uniform(shape: [rows], in: -bound...bound)),
                hiddenBias: Parameter(random.uniform(shape: [rows], in: -bound...bound)))
        }
        super.init()
    }

    public var layers: Int { layerWeights.count }

    override public var additionalParameters: [(name: String, parameter: Parameter)] {
        layerWeights.enumerated().flatMap { layer, weights in
            [("weight_ih_l\(layer)", weights.inputWeight), ("weight_hh_l\(layer)", weights.hiddenWeight),
             ("bias_ih_l\(layer)", weights.inputBias), ("bias_hh_l\(layer)", weights.hiddenBias)]
        }
    }

    /// Runs the stack over `input` (`[steps·batch, inputSize]`, time-major) for items of `lengths` (each 1…steps).
    /// `initial` gives each layer's starting state (zeros when nil). Returns the top layer's outputs
    /// `[steps·batch, hiddenSize]` and each layer's final state (none with `finalStates` false: a decoder that reads
    /// only the outputs saves gathering them).
    public func callAsFunction(_ input: Tensor, lengths: [Int], initial: [RecurrentState]? = nil, finalStates: Bool = true)
    -> (outputs: Tensor, final: [RecurrentState]) {
        let batch = lengths.count
        precondition(batch > 0 && input.shape.count == 2 && input.shape[0] % batch == 0,
                     "recurrent input must be [steps·batch, \(inputSize)] for \(batch) items, got \(input.shape)")
        return self(input, layout: SequenceLayout(lengths: lengths, steps: input.shape[0] / batch, on: input.backend), initial: initial,
                    finalStates: finalStates)
    }

    /// The same with the batch's ``SequenceLayout`` made beforehand (its mask and last rows placed with the step's
    /// other host-made values, in one copy to a device).
    public func callAsFunction(_ input: Tensor, layout: SequenceLayout, initial: [RecurrentState]? = nil, finalStates: Bool = true)
    -> (outputs: Tensor, final: [RecurrentState]) {
        let (lengths, steps, batch) = (layout.lengths, layout.steps, layout.lengths.count)
        precondition(batch > 0 && input.shape == [steps * batch, inputSize],
                     "recurrent input must be [steps·batch, \(inputSize)] = [\(steps * batch), \(inputSize)], got \(input.shape)")
        precondition(initial.map { $0.count == layers } ?? true, "one initial state per layer (\(layers))")
        // Rows never mix, so every row runs every step: a finished row's outputs are zeroed (by a mask of the
        // running rows, made once and moved once, at the steps where some row has finished) and its final state is
        // read at its last step (one gather), rather than its state carried through the steps after it.
        let ragged = layout.running != nil
        var masks = [Tensor?](repeating: nil, count: steps)
        if let running = layout.running {
            for step in 0..<steps where lengths.contains(where: { $0 <= step }) {
                masks[step] = running.slice((step * batch)..<((step + 1) * batch))
            }
        }
        let lastRows = layout.lastRows
        var sequence = input
        var finals: [RecurrentState] = []
        for (layer, weights) in layerWeights.enumerated() {
            // Each step's input gates: parts of one split, whose gradient is one concatenation.
            let inputGates = sequence.linear(weight: weights.inputWeight.tensor, bias: weights.inputBias.tensor)
                .split(into: steps)
            let (hiddenWeight, hiddenBias) = (weights.hiddenWeight.tensor, weights.hiddenBias.tensor)
            var state = initial?[layer] ?? cell.zeroState(batch: batch, hiddenSize: hiddenSize, on: input.backend)
            var outputs: [Tensor] = [], cells: [Tensor] = []
            for step in 0..<steps {
                state = cell.step((input: inputGates[step], hidden: state.hidden.linear(weight: hiddenWeight, bias: hiddenBias)), state: state)
                outputs.append(masks[step].map { state.hidden * $0 } ?? state.hidden)
                if ragged && finalStates, let cellState = state.cell { cells.append(cellState) }
            }
            sequence = Tensor.concatenate(outputs, alongAxis: 0)
            guard finalStates else { continue }
            finals.append(ragged ? RecurrentState(hidden: sequence.gathering(lastRows),
                                                  cell: cells.isEmpty ? nil : Tensor.concatenate(cells).gathering(lastRows)) : state)
        }
        return (sequence, finals)
    }
}

/// Where the items of a padded, time-major batch end (``RecurrentStack``): the mask of the items still running at
/// each step and the row of each item's last step, where its final state is read.
public struct SequenceLayout {
    /// Each item's steps, 1…``steps``.
    public let lengths: [Int]
    public let steps: Int
    /// `[steps·batch, 1]`: 1 where the item is still running, 0 after its end; nil when no item ends early.
    public let running: Tensor?
    /// Row `(length − 1)·batch + item` of each item.
    public let lastRows: RowIndices

    /// The values the layout holds, made on the host: the running flags (nil when no item ends early) and the last
    /// rows, to place with ``init(lengths:steps:running:lastRows:)``.
    public static func hostParts(lengths: [Int], steps: Int) -> (runningFlags: [Float]?, lastRows: [Int]) {
        precondition(!lengths.isEmpty && lengths.allSatisfy { (1...steps).contains($0) }, "recurrent lengths must be 1…\(steps), got \(lengths)")
        let batch = lengths.count
        let flags = lengths.contains { $0 < steps } ? (0..<steps).flatMap { step in lengths.map { $0 > step ? Float(1) : 0 } } : nil
        return (flags, lengths.enumerated().map { item, length in (length - 1) * batch + item })
    }

    /// A layout from its parts, placed where the batch is.
    public init(lengths: [Int], steps: Int, running: Tensor?, lastRows: RowIndices) {
        precondition(running.map { $0.shape == [steps * lengths.count, 1] } ?? true && lastRows.count == lengths.count,
                     "SequenceLayout: parts do not fit \(lengths.count) items of \(steps) steps")
        (self.lengths, self.steps, self.running, self.lastRows) = (lengths, steps, running, lastRows)
    }

    /// The layout of items of `lengths`, made on the host and placed on `backend` in one copy; none when every item
    /// runs every step (the stack then reads neither the mask nor the last rows).
    public init(lengths: [Int], steps: Int, on backend: (any TensorBackend)?) {
        let (flags, lastRows) = Self.hostParts(lengths: lengths, steps: steps)
        guard let flags else {
            self.init(lengths: lengths, steps: steps, running: nil, lastRows: RowIndices(lastRows))
            return
        }
        let placed = PackedUpload(indices: [lastRows], values: [([steps * lengths.count, 1], flags)], to: backend)
        self.init(lengths: lengths, steps: steps, running: placed.values[0], lastRows: placed.indices[0])
    }
}

/// A recurrent layer's state for a batch: the hidden state `[batch, hidden]`, and an LSTM's cell state.
public struct RecurrentState {
    public var hidden: Tensor
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}

/// The two cells, in PyTorch's formulation and gate order.
public enum RecurrentCell: String, CaseIterable, Sendable {
    /// r, z, n: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n), h' = (1 − z) ⊙ n + z ⊙ h, where
    /// x_· and h_· are the input and hidden products with their biases (Cho et al. 2014).
    case gru
    /// i, f, g, o: c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c') (Hochreiter & Schmidhuber 1997).
    case lstm

    public var gates: Int { self == .gru ? 3 : 4 }

    /// Zeros, made on `backend` (nil: the host) rather than copied there.
    func zeroState(batch: Int, hiddenSize: Int, on backend: (any TensorBackend)?) -> RecurrentState {
        let zeros = backend.map { Tensor(device: $0.filled([batch, hiddenSize], with: 0)) } ?? .zeros([batch, hiddenSize])
        return RecurrentState(hidden: zeros, cell: self == .lstm ? zeros : nil)
    }

    /// One step from the input's and the state's gate products (`Tensor.gruCell`, `Tensor.lstmCell`).
    func step(_ gates: (input: Tensor, hidden: Tensor), state: RecurrentState) -> RecurrentState {
        switch self {
        case .gru:
            return RecurrentState(hidden: .gruCell(inputGates: gates.input, hiddenGates: gates.hidden, hidden: state.hidden))
        case .lstm:
            let next = Tensor.lstmCell(inputGates: gates.input, hiddenGates: gates.hidden, cell: state.cell!)
            return RecurrentState(hidden: next.hidden, cell: next.cell)
        }
    }
}

/// A stack of GRU layers (PyTorch's `nn.GRU`).
public final class GRU: RecurrentStack {
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, random: inout RandomStream) {
        super.init(cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, random: &random)
    }
}

/// A stack of LSTM layers (PyTorch's `nn.LSTM`).
public final class LSTM: RecurrentStack {
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, random: inout RandomStream) {
        super.init(cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, random: &random)
    }
}
