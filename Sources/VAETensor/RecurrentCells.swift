// A recurrent layer's cell update for one time step as one op (PyTorch's GRU and LSTM formulations and gate
// orders): on the host the same `Tensor` arithmetic as written out (the same values, bit for bit); on a device one
// kernel forward and one backward instead of a launch per operator and per gate (docs/cuda.md).

extension Tensor {
    /// One GRU step: h' = n + z ⊙ (h − n) with r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n), from
    /// the input's and the hidden state's gate products `[batch, 3·hidden]` (x_· and h_·, biases included, in the
    /// order r, z, n) and the state h `[batch, hidden]` (Cho et al. 2014).
    public static func gruCell(inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor) -> Tensor {
        requireGates("gruCell", 3, inputGates, hiddenGates, state: hidden)
        if let backend = backend(inputGates, hiddenGates, hidden) {
            let (x, h, state) = (inputGates.moved(to: backend), hiddenGates.moved(to: backend), hidden.moved(to: backend))
            let needs = [x.isTracked, h.isTracked, state.isTracked]
            let (xs, hs, ss) = (x.storage, h.storage, state.storage)
            return record(Tensor(device: backend.gruCell(inputGates: xs, hiddenGates: hs, hidden: ss)), inputs: [x, h, state]) { g in
                let gradients = backend.gruCellGradients(upstream: g.device, inputGates: xs, hiddenGates: hs, hidden: ss)
                return zip([gradients.inputGates, gradients.hiddenGates, gradients.hidden], needs).map { $1 ? .device($0) : nil }
            }
        }
        let (x, h) = (inputGates.split(into: 3, alongAxis: 1), hiddenGates.split(into: 3, alongAxis: 1))
        let reset = (x[0] + h[0]).sigmoid()
        let update = (x[1] + h[1]).sigmoid()
        let candidate = (x[2] + reset * h[2]).tanh()
        return candidate + update * (hidden - candidate)
    }

    /// One LSTM step: c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g) and h' = σ(o) ⊙ tanh(c'), with the gates i, f, g, o the sums of
    /// the input's and the hidden state's gate products `[batch, 4·hidden]` (biases included, in that order), and
    /// the cell state c `[batch, hidden]` (Hochreiter & Schmidhuber 1997).
    public static func lstmCell(inputGates: Tensor, hiddenGates: Tensor, cell: Tensor) -> (hidden: Tensor, cell: Tensor) {
        requireGates("lstmCell", 4, inputGates, hiddenGates, state: cell)
        if let backend = backend(inputGates, hiddenGates, cell) {
            let (x, h, state) = (inputGates.moved(to: backend), hiddenGates.moved(to: backend), cell.moved(to: backend))
            let needs = [x.isTracked, h.isTracked, state.isTracked]
            let (xs, hs, cs) = (x.storage, h.storage, state.storage)
            // h' and c' as one [2, batch, hidden] result, then two parts of a split (views on the device).
            let both = record(Tensor(device: backend.lstmCell(inputGates: xs, hiddenGates: hs, cell: cs)), inputs: [x, h, state]) { g in
                let gradients = backend.lstmCellGradients(upstream: g.device, inputGates: xs, hiddenGates: hs, cell: cs)
                return zip([gradients.gates, gradients.gates, gradients.cell], needs).map { $1 ? .device($0) : nil }
            }
            let parts = both.split(into: 2).map { $0.reshaped(cell.shape) }
            return (parts[0], parts[1])
        }
        let sum = (inputGates + hiddenGates).split(into: 4, alongAxis: 1)
        let (input, forget) = (sum[0].sigmoid(), sum[1].sigmoid())
        let (candidate, output) = (sum[2].tanh(), sum[3].sigmoid())
        let next = forget * cell + input * candidate
        return (output * next.tanh(), next)
    }

    static func requireGates(_ op: String, _ gates: Int, _ inputGates: Tensor, _ hiddenGates: Tensor, state: Tensor) {
        precondition(state.rank == 2 && inputGates.shape == [state.shape[0], gates * state.shape[1]] && hiddenGates.shape == inputGates.shape,
                     "\(op): gate products must both be [batch, \(gates)·hidden] for a state [batch, hidden], got \(inputGates.shape), \(hiddenGates.shape) and \(state.shape)")
    }
}
