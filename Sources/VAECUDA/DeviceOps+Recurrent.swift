import VAETensor

// The recurrent cells, one kernel each way (`Tensor.gruCell`, `Tensor.lstmCell`).
extension DeviceOps {
    /// h' of a GRU step from the gate products x and h (`[rows, 3·hidden]`) and the state (`[rows, hidden]`).
    public func gruCell(inputGates x: DeviceTensor, hiddenGates h: DeviceTensor, hidden state: DeviceTensor) throws -> DeviceTensor {
        try requireGates("gruCell", 3, x, h, state)
        let y = try make(state.shape)
        try device.launch("vae_gru_cell", grid: grid(y.count), block: blockSize,
                          [.int64(y.count), .int64(state.shape[1]), .address(x.address), .address(h.address),
                           .address(state.address), .address(y.address)])
        return y
    }

    /// The GRU step's gradients for x, h and the state.
    public func gruCellGradients(upstream g: DeviceTensor, inputGates x: DeviceTensor, hiddenGates h: DeviceTensor,
                                 hidden state: DeviceTensor) throws -> (inputGates: DeviceTensor, hiddenGates: DeviceTensor, hidden: DeviceTensor) {
        try requireGates("gruCellGradients", 3, x, h, state)
        try requireSameShape("gruCellGradients", g, state)
        let (dx, dh, dstate) = (try make(x.shape), try make(h.shape), try make(state.shape))
        try device.launch("vae_gru_cell_gradient", grid: grid(g.count), block: blockSize,
                          [.int64(g.count), .int64(state.shape[1]), .address(g.address), .address(x.address), .address(h.address),
                           .address(state.address), .address(dx.address), .address(dh.address), .address(dstate.address)])
        return (dx, dh, dstate)
    }

    /// h' and c' of an LSTM step (`[2, rows, hidden]`) from the gate products (`[rows, 4·hidden]`) and c.
    public func lstmCell(inputGates x: DeviceTensor, hiddenGates h: DeviceTensor, cell: DeviceTensor) throws -> DeviceTensor {
        try requireGates("lstmCell", 4, x, h, cell)
        let y = try make([2] + cell.shape)
        try device.launch("vae_lstm_cell", grid: grid(cell.count), block: blockSize,
                          [.int64(cell.count), .int64(cell.shape[1]), .address(x.address), .address(h.address),
                           .address(cell.address), .address(y.address)])
        return y
    }

    /// The LSTM step's gradients from g = [dh', dc']: the gates' (for both gate products) and c's.
    public func lstmCellGradients(upstream g: DeviceTensor, inputGates x: DeviceTensor, hiddenGates h: DeviceTensor,
                                  cell: DeviceTensor) throws -> (gates: DeviceTensor, cell: DeviceTensor) {
        try requireGates("lstmCellGradients", 4, x, h, cell)
        guard g.shape == [2] + cell.shape else { throw CUDAError("lstmCellGradients: upstream \(g.shape), expected \([2] + cell.shape)") }
        let (dgates, dcell) = (try make(x.shape), try make(cell.shape))
        try device.launch("vae_lstm_cell_gradient", grid: grid(cell.count), block: blockSize,
                          [.int64(cell.count), .int64(cell.shape[1]), .address(g.address), .address(x.address), .address(h.address),
                           .address(cell.address), .address(dgates.address), .address(dcell.address)])
        return (dgates, dcell)
    }

    /// Throws, naming `op`, unless x and h are both `[rows, gates·hidden]` for a state `[rows, hidden]`.
    func requireGates(_ op: String, _ gates: Int, _ x: DeviceTensor, _ h: DeviceTensor, _ state: DeviceTensor) throws {
        guard state.shape.count == 2, x.shape == [state.shape[0], gates * state.shape[1]], h.shape == x.shape else {
            throw CUDAError("\(op): gate products \(x.shape) and \(h.shape) for a state \(state.shape), expected [rows, \(gates)·hidden] each")
        }
    }
}
