import VAETensor

/// The kernels of `Tensor`'s unary ops and of their gradients.
extension UnaryOp {
    var forward: String {
        switch self {
        case .leakyRelu: return "vae_leaky_relu"
        case .sigmoid: return "vae_sigmoid_forward"
        case .softplus: return "vae_softplus_forward"
        default: return "vae_" + rawValue
        }
    }
    var backward: String { (self == .leakyRelu ? "vae_leaky_relu" : forward.replacingOccurrences(of: "_forward", with: "")) + "_gradient" }
}

/// The CUDA backend's ops on ``DeviceTensor``s: each launches the kernels ``CUDAOpTable`` names for the CPU op of
/// the same name (GEMMs through the device's cuBLAS), with the CPU backend's semantics — broadcasting aligned on the
/// last axis, reductions along one axis, a gradient summed back to its input's shape. What the tape will call
/// once tensors live on a device.
public struct DeviceOps {
    public let device: KernelDevice
    /// Threads per block of the elementwise kernels, and the most blocks a launch uses (their grid-stride loops
    /// cover any size). The block reductions always run 256 threads.
    public var blockSize: Int
    public var maximumBlocks: Int

    public init(device: KernelDevice, blockSize: Int = 256, maximumBlocks: Int = 4096) {
        self.device = device
        self.blockSize = blockSize
        self.maximumBlocks = maximumBlocks
    }

    func grid(_ count: Int) -> Int { max(1, min(maximumBlocks, (count + blockSize - 1) / blockSize)) }

    func make(_ shape: [Int]) throws -> DeviceTensor { try DeviceTensor(device: device, shape: shape) }
    /// `values` on the device as 8-byte integers (`long long` indices and labels), in a tensor of twice their count.
    func integers(_ values: [Int]) throws -> DeviceTensor {
        let tensor = try make([2 * values.count])
        try values.map(Int64.init).withUnsafeBytes { try device.copy($0, to: tensor.address) }
        return tensor
    }

    /// Throws, naming `op`, unless every tensor has the same shape (the elementwise kernels that take no strides).
    func requireSameShape(_ op: String, _ tensors: DeviceTensor...) throws { try requireSameShape(op, tensors) }

    func requireSameShape(_ op: String, _ tensors: [DeviceTensor]) throws {
        guard let first = tensors.first, tensors.allSatisfy({ $0.shape == first.shape }) else {
            throw CUDAError("\(op): shapes \(tensors.map(\.shape)) differ")
        }
    }

    /// One output of the inputs' common shape from an elementwise kernel that takes the count, the inputs and the
    /// output (`vae_cross_entropy`, the Gaussian draw and KL); throws, naming `op`, when the shapes differ.
    func elementwise(_ kernel: String, _ op: String, _ inputs: DeviceTensor...) throws -> DeviceTensor {
        try requireSameShape(op, inputs)
        let y = try make(inputs[0].shape)
        try device.launch(kernel, grid: grid(y.count), block: blockSize,
                          [.int64(y.count)] + inputs.map { .address($0.address) } + [.address(y.address)])
        return y
    }

    // MARK: elementwise

    public func unary(_ op: UnaryOp, _ x: DeviceTensor, parameter: Float = 0) throws -> DeviceTensor {
        let y = try make(x.shape)
        try device.launch(op.forward, grid: grid(x.count), block: blockSize, [.int64(x.count), .address(x.address), .address(y.address), .float(parameter)])
        return y
    }

    /// g · f′(x), from the forward pass's input `x` and output `y`.
    public func unaryGradient(_ op: UnaryOp, upstream g: DeviceTensor, input x: DeviceTensor, output y: DeviceTensor,
                              parameter: Float = 0) throws -> DeviceTensor {
        let dx = try make(x.shape)
        try device.launch(op.backward, grid: grid(x.count), block: blockSize,
                          [.int64(x.count), .address(g.address), .address(x.address), .address(y.address), .address(dx.address), .float(parameter)])
        return dx
    }

    /// x · s, x + s, s − x.
    public func scaled(_ x: DeviceTensor, by s: Float) throws -> DeviceTensor { try scalarOp("vae_multiply_scalar", x, s) }
    public func shifted(_ x: DeviceTensor, by s: Float) throws -> DeviceTensor { try scalarOp("vae_add_scalar", x, s) }
    public func subtracted(from s: Float, _ x: DeviceTensor) throws -> DeviceTensor { try scalarOp("vae_subtract_from_scalar", x, s) }

    func scalarOp(_ kernel: String, _ x: DeviceTensor, _ s: Float) throws -> DeviceTensor {
        let y = try make(x.shape)
        try device.launch(kernel, grid: grid(x.count), block: blockSize, [.int64(x.count), .address(x.address), .address(y.address), .float(s)])
        return y
    }

    /// A tensor of `shape` filled with `value`.
    public func filled(_ shape: [Int], with value: Float) throws -> DeviceTensor {
        let y = try make(shape)
        try device.launch("vae_fill", grid: grid(y.count), block: blockSize, [.int64(y.count), .address(y.address), .float(value)])
        return y
    }

    /// y += x (same shape): a tape's gradient accumulation.
    public func add(_ x: DeviceTensor, into y: DeviceTensor) throws {
        precondition(x.shape == y.shape, "add(_:into:): \(x.shape) vs \(y.shape)")
        try device.launch("vae_add_in_place", grid: grid(y.count), block: blockSize, [.int64(y.count), .address(y.address), .address(x.address)])
    }

    // MARK: broadcasting

    /// VaeBroadcast for an output shape and the two inputs' shapes.
    static func broadcastBytes(_ output: [Int], _ a: [Int], _ b: [Int]) -> KernelArgument {
        precondition(output.count <= 8, "broadcasting: rank \(output.count) is over the kernels' 8")
        return .packed([output, Broadcasting.strides(of: a, as: output), Broadcasting.strides(of: b, as: output)], rank: Int32(output.count))
    }

    public func binary(_ op: BinaryOp, _ a: DeviceTensor, _ b: DeviceTensor) throws -> DeviceTensor {
        guard let shape = Broadcasting.resultShape(a.shape, b.shape) else { throw CUDAError("\(op.rawValue): shapes \(a.shape) and \(b.shape) do not broadcast") }
        let y = try make(shape)
        try device.launch("vae_" + op.rawValue, grid: grid(y.count), block: blockSize,
                          [.int64(y.count), Self.broadcastBytes(shape, a.shape, b.shape), .address(a.address), .address(b.address), .address(y.address)])
        return y
    }

    /// The gradients of a ∘ b for the inputs `needing` says (nil for the others), from the output's gradient `g`:
    /// each summed back to its input's shape.
    public func binaryGradients(_ op: BinaryOp, upstream g: DeviceTensor, _ a: DeviceTensor, _ b: DeviceTensor,
                                needing: (a: Bool, b: Bool) = (true, true)) throws -> (a: DeviceTensor?, b: DeviceTensor?) {
        let shape = g.shape
        func perElement(_ kernel: String, _ left: DeviceTensor, _ right: DeviceTensor, leftShape: [Int], rightShape: [Int]) throws -> DeviceTensor {
            let y = try make(shape)
            try device.launch(kernel, grid: grid(y.count), block: blockSize,
                              [.int64(y.count), Self.broadcastBytes(shape, leftShape, rightShape), .address(left.address), .address(right.address), .address(y.address)])
            return y
        }
        func forA() throws -> DeviceTensor {
            switch op {
            case .add, .subtract: return g
            case .multiply: return try perElement("vae_multiply", g, b, leftShape: shape, rightShape: b.shape)
            case .divide: return try perElement("vae_divide", g, b, leftShape: shape, rightShape: b.shape)
            }
        }
        func forB() throws -> DeviceTensor {
            switch op {
            case .add: return g
            case .subtract: return try scaled(g, by: -1)
            case .multiply: return try perElement("vae_multiply", g, a, leftShape: shape, rightShape: a.shape)
            case .divide:
                let forB = try make(shape)
                try device.launch("vae_divide_denominator_gradient", grid: grid(shape.reduce(1, *)), block: blockSize,
                                  [.int64(forB.count), Self.broadcastBytes(shape, a.shape, b.shape), .address(g.address),
                                   .address(a.address), .address(b.address), .address(forB.address)])
                return forB
            }
        }
        return (needing.a ? try reduce(try forA(), to: a.shape) : nil, needing.b ? try reduce(try forB(), to: b.shape) : nil)
    }

    /// `x` summed over the axes along which `shape` was broadcast to `x.shape` (one pass per such axis).
    public func reduce(_ x: DeviceTensor, to shape: [Int]) throws -> DeviceTensor {
        let padded = [Int](repeating: 1, count: x.shape.count - shape.count) + shape
        var current = x
        for axis in 0..<x.shape.count where padded[axis] == 1 && current.shape[axis] != 1 {
            current = try sum(current, alongAxis: axis, keepingDimension: true)
        }
        guard current.shape != shape else { return current }
        let reshaped = try make(shape)
        try device.launch("vae_copy_block", grid: grid(current.count), block: blockSize,
                          [.int64(1), .int64(current.count), .address(current.address), .int64(current.count), .int64(0),
                           .address(reshaped.address), .int64(current.count), .int64(0)])
        return reshaped
    }

    // MARK: reductions

    public func sum(_ x: DeviceTensor, alongAxis axis: Int, keepingDimension: Bool = false) throws -> DeviceTensor {
        let (outer, length, inner) = (x.shape[..<axis].reduce(1, *), x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
        var shape = x.shape
        if keepingDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
        let y = try make(shape)
        try device.launch("vae_sum_axis", grid: grid(outer * inner), block: blockSize,
                          [.int64(outer), .int64(length), .int64(inner), .address(x.address), .address(y.address)])
        return y
    }

    /// (outer, length, inner) of `shape` around `axis`: the arguments of the axis kernels.
    static func split(_ shape: [Int], _ axis: Int) -> [KernelArgument] {
        [.int64(shape[..<axis].reduce(1, *)), .int64(shape[axis]), .int64(shape[(axis + 1)...].reduce(1, *))]
    }

    /// log Σ exp along `axis` (kept as a dimension of 1), shifted by the maximum.
    public func logSumExp(_ x: DeviceTensor, alongAxis axis: Int) throws -> DeviceTensor {
        var shape = x.shape
        shape[axis] = 1
        let y = try make(shape)
        try device.launch("vae_log_sum_exp_axis", grid: grid(y.count), block: blockSize, Self.split(x.shape, axis) + [.address(x.address), .address(y.address)])
        return y
    }

    /// g · exp(x − y) along the axis: the gradient of ``logSumExp(_:alongAxis:)`` from its input x and output y.
    public func logSumExpGradient(upstream g: DeviceTensor, input x: DeviceTensor, output y: DeviceTensor, alongAxis axis: Int) throws -> DeviceTensor {
        let dx = try make(x.shape)
        try device.launch("vae_softmax_axis_gradient", grid: grid(dx.count), block: blockSize,
                          Self.split(x.shape, axis) + [.address(g.address), .address(x.address), .address(y.address), .address(dx.address)])
        return dx
    }

    /// The maximum along `axis` (kept as a dimension of 1) and where it is: the index of its first maximal entry,
    /// one 8-byte integer per output element, held in a tensor of twice the output's count (`vae_max_axis`).
    public func maximum(_ x: DeviceTensor, alongAxis axis: Int) throws -> (values: DeviceTensor, winners: DeviceTensor) {
        var shape = x.shape
        shape[axis] = 1
        let y = try make(shape), winners = try make([2 * y.count])
        try device.launch("vae_max_axis", grid: grid(y.count), block: blockSize,
                          Self.split(x.shape, axis) + [.address(x.address), .address(y.address), .address(winners.address)])
        return (y, winners)
    }

    /// The gradient of ``maximum(_:alongAxis:)``: g at each maximum's first entry, 0 elsewhere in `inputShape`.
    public func maximumGradient(upstream g: DeviceTensor, winners: DeviceTensor, alongAxis axis: Int, inputShape: [Int]) throws -> DeviceTensor {
        let dx = try filled(inputShape, with: 0)
        try device.launch("vae_max_axis_gradient", grid: grid(g.count), block: blockSize,
                          Self.split(inputShape, axis) + [.address(g.address), .address(winners.address), .address(dx.address)])
        return dx
    }

    /// Entries `indices` along `axis` (repeats allowed).
    public func gather(_ x: DeviceTensor, indices: [Int], alongAxis axis: Int) throws -> (values: DeviceTensor, indices: DeviceTensor) {
        var shape = x.shape
        shape[axis] = indices.count
        let (y, onDevice) = (try make(shape), try integers(indices))
        try device.launch("vae_gather", grid: grid(y.count), block: blockSize,
                          Self.split(x.shape, axis) + [.int64(indices.count), .address(onDevice.address), .address(x.address), .address(y.address)])
        return (y, onDevice)
    }

    /// The gradient of ``gather(_:indices:alongAxis:)``: each entry of the input gets the sum of g where it was taken.
    /// `indices`: as ``gather(_:indices:alongAxis:)`` put them on the device.
    public func gatherGradient(upstream g: DeviceTensor, indices: DeviceTensor, alongAxis axis: Int, inputShape: [Int]) throws -> DeviceTensor {
        let dx = try make(inputShape)
        try device.launch("vae_gather_gradient", grid: grid(dx.count), block: blockSize,
                          Self.split(inputShape, axis) + [.int64(indices.count / 2), .address(indices.address), .address(g.address), .address(dx.address)])
        return dx
    }

    /// Σ x in a fixed tree: one 256-thread block for up to ``sumInOneBlock`` elements (a loss over a batch), else
    /// blocks of 256 threads, then one block over their partial sums.
    public func sum(_ x: DeviceTensor) throws -> DeviceTensor {
        let total = try make([])
        guard x.count > Self.sumInOneBlock else {
            try device.launch("vae_sum_all", grid: 1, block: CUDAKernelSource.reductionThreads, [.int64(x.count), .address(x.address), .address(total.address)])
            return total
        }
        let blocks = max(1, min(256, (x.count + 255) / 256))
        let partial = try make([blocks])
        try device.launch("vae_sum_all", grid: blocks, block: CUDAKernelSource.reductionThreads, [.int64(x.count), .address(x.address), .address(partial.address)])
        try device.launch("vae_sum_all", grid: 1, block: CUDAKernelSource.reductionThreads, [.int64(blocks), .address(partial.address), .address(total.address)])
        return total
    }

    /// The most elements ``sum(_:)`` adds in one launch: 64 per thread of one block.
    public static let sumInOneBlock = 64 * CUDAKernelSource.reductionThreads

    // MARK: matrices

    /// `a`·`b` for matrices, each optionally transposed as stored: cuBLAS's SGEMM.
    public func matmul(_ a: DeviceTensor, _ b: DeviceTensor, transposingA: Bool = false, transposingB: Bool = false) throws -> DeviceTensor {
        let (m, k) = transposingA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposingB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == k2 else { throw CUDAError("matmul: \(a.shape) by \(b.shape) (transposed: \(transposingA), \(transposingB)) do not fit") }
        let c = try make([m, n])
        try device.gemm(m: m, n: n, k: k, a: a.address, transposingA: transposingA, b: b.address, transposingB: transposingB, c: c.address)
        return c
    }

    /// act(x·Wᵀ + bias) for x [rows, in], W [out, in] (PyTorch's layout), as `Tensor.linear`; act a leaky ReLU of
    /// `activationSlope` (0: ReLU) fused into the bias's launch, none when nil.
    public func linear(_ x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor?, activationSlope: Float? = nil) throws -> DeviceTensor {
        let y = try matmul(x, weight, transposingB: true)
        if bias != nil || activationSlope != nil {
            try addChannelBias(to: y, from: y, channelMajor: false, bias: bias, activationSlope: activationSlope)
        }
        return y
    }

    /// `y` (NCHW, or [rows, features] as a plane of 1) = act(x + bias per channel), x laid out as y or `channelMajor`
    /// ([C, N·P]): one `vae_add_channel_bias`.
    func addChannelBias(to y: DeviceTensor, from x: DeviceTensor, channelMajor: Bool, bias: DeviceTensor?, activationSlope: Float?) throws {
        let (batch, channels) = (y.shape[0], y.shape[1])
        try device.launch("vae_add_channel_bias", grid: grid(y.count), block: blockSize,
                          [.int64(batch), .int64(channels), .int64(y.count / max(1, batch * channels)), .address(x.address),
                           .int32(channelMajor ? 1 : 0), .address(bias?.address ?? .null), .float(activationSlope ?? 1), .address(y.address)])
    }

    /// The gradient reaching an op's output through its fused activation (`activation`: that output and the slope),
    /// its sums per channel (a bias's gradient) and, where it differs from g, the gradient itself, written as g is
    /// laid out or as [C, N·P] (`channelMajor`): one `vae_channel_sums`, a thread per channel for up to
    /// ``channelSumsInOneThread`` values per channel (a linear layer's batch), else a block per channel.
    func channelSums(_ g: DeviceTensor, activation: (output: DeviceTensor, slope: Float)?, channelMajor: Bool = false) throws
        -> (gradient: DeviceTensor, sums: DeviceTensor) {
        let (batch, channels) = (g.shape[0], g.shape[1])
        let plane = g.count / max(1, batch * channels)
        let out = activation != nil || channelMajor ? try make(channelMajor ? [channels, batch * plane] : g.shape) : nil
        let sums = try make([channels])
        let tree = batch * plane > Self.channelSumsInOneThread
        try device.launch("vae_channel_sums", grid: tree ? max(1, min(channels, maximumBlocks)) : grid(channels),
                          block: tree ? CUDAKernelSource.reductionThreads : blockSize,
                          [.int64(batch), .int64(channels), .int64(plane), .address(g.address), .address(activation?.output.address ?? .null),
                           .float(activation?.slope ?? 1), .address(out?.address ?? .null), .int32(channelMajor ? 1 : 0),
                           .int32(tree ? 1 : 0), .address(sums.address)])
        return (out ?? g, sums)
    }

    /// The most values per channel that one thread of `vae_channel_sums` adds (in order); more go to a block's tree.
    public static let channelSumsInOneThread = 1024

    /// The gradients of `linear` for x, W and the bias from the output's gradient g (through the fused activation:
    /// the output `activation.output` and its slope). The input's gradient only `needingInput` (a first layer's
    /// input, the data, needs none: one GEMM fewer).
    public func linearGradients(upstream g: DeviceTensor, input x: DeviceTensor, weight: DeviceTensor, needingInput: Bool = true,
                                activation: (output: DeviceTensor, slope: Float)? = nil) throws
        -> (input: DeviceTensor?, weight: DeviceTensor, bias: DeviceTensor) {
        let (gradient, bias) = try channelSums(g, activation: activation)
        return (needingInput ? try matmul(gradient, weight) : nil, try matmul(gradient, x, transposingA: true), bias)
    }

    // MARK: convolution

    /// im2col's and col2im's geometry arguments for input `shape` ([N, C, H, W]).
    func geometry(_ shape: [Int], _ convolution: ConvolutionGeometry) -> (arguments: [KernelArgument], outHeight: Int, outWidth: Int) {
        let outHeight = convolution.convolvedSize(shape[2], kernel: convolution.kernelHeight)
        let outWidth = convolution.convolvedSize(shape[3], kernel: convolution.kernelWidth)
        return ([.int64(shape[0]), .int64(shape[1]), .int64(shape[2]), .int64(shape[3]), .int64(convolution.kernelHeight),
                 .int64(convolution.kernelWidth), .int64(convolution.stride), .int64(convolution.padding), .int64(outHeight), .int64(outWidth)],
                outHeight, outWidth)
    }

    /// `Tensor.conv2d` for x [N, C, H, W] and an OIHW weight: im2col, one GEMM, then the product's [O, N·P] laid out
    /// as [N, O, P] (P the output's positions) with the bias per channel and the activation of `activationSlope`
    /// (none when nil) in one launch. Also returns the column matrix, which the weight's gradient reads.
    public func conv2d(_ x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor?, _ convolution: ConvolutionGeometry,
                       activationSlope: Float? = nil) throws -> (output: DeviceTensor, columns: DeviceTensor) {
        let (batch, outChannels) = (x.shape[0], weight.shape[0])
        let patch = weight.shape[1] * convolution.kernelHeight * convolution.kernelWidth
        let (arguments, outHeight, outWidth) = geometry(x.shape, convolution)
        let positions = outHeight * outWidth
        let columns = try make([patch, batch * positions])
        try device.launch("vae_im2col", grid: grid(columns.count), block: blockSize, arguments + [.address(x.address), .address(columns.address)])
        let product = try make([outChannels, batch * positions])
        try device.gemm(m: outChannels, n: batch * positions, k: patch, a: weight.address, transposingA: false, b: columns.address,
                        transposingB: false, c: product.address)
        let output = try make([batch, outChannels, outHeight, outWidth])
        try addChannelBias(to: output, from: product, channelMajor: true, bias: bias, activationSlope: activationSlope)
        return (output, columns)
    }

    /// The gradients of ``conv2d(_:weight:bias:_:activationSlope:)`` for x, the weight and the bias from the output's
    /// gradient g (through the fused activation: the output and its slope): g as [O, N·P] and the bias's sums per
    /// channel in one launch; the weight's G·columnsᵀ; the input's col2im(Wᵀ·G).
    public func conv2dGradients(upstream g: DeviceTensor, inputShape: [Int], weight: DeviceTensor, columns: DeviceTensor,
                                _ convolution: ConvolutionGeometry, activation: (output: DeviceTensor, slope: Float)? = nil) throws
        -> (input: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor) {
        let (batch, outChannels, positions) = (g.shape[0], g.shape[1], g.shape[2] * g.shape[3])
        let patch = columns.shape[0]
        let (matrix, sums) = try channelSums(g, activation: activation, channelMajor: true)
        let dWeight = try make(weight.shape)
        try device.gemm(m: outChannels, n: patch, k: batch * positions, a: matrix.address, transposingA: false, b: columns.address,
                        transposingB: true, c: dWeight.address)
        let dColumns = try make([patch, batch * positions])
        try device.gemm(m: patch, n: batch * positions, k: outChannels, a: weight.address, transposingA: true, b: matrix.address,
                        transposingB: false, c: dColumns.address)
        let dx = try make(inputShape)
        try device.launch("vae_col2im", grid: grid(dx.count), block: blockSize,
                          geometry(inputShape, convolution).arguments + [.address(dColumns.address), .address(.null), .float(1), .address(dx.address)])
        return (dx, dWeight, sums)
    }

    /// `[a, b, block]` → `[b, a, block]` (an NCHW batch's planes as `[C, N, …]` and back).
    func swappingLeadingAxes(_ x: DeviceTensor, _ a: Int, _ b: Int, block: Int, shape: [Int]) throws -> DeviceTensor {
        let y = try make(shape)
        try device.launch("vae_strided_copy", grid: grid(y.count), block: blockSize,
                          [.int64(y.count), .packed([[b, a, block], [block, b * block, 1]], then: [0], rank: 3),
                           .address(x.address), .address(y.address)])
        return y
    }

    /// `Tensor.transposedConv2d` for x [N, I, H, W] and an [I, O, kh, kw] weight: x as [I, N·P], the columns Wᵀ·x,
    /// col2im into the output with the bias and the activation of `activationSlope` (none when nil). Also returns x
    /// as [I, N·P], which the weight's gradient reads.
    public func transposedConv2d(_ x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor?, _ convolution: ConvolutionGeometry,
                                 outputPadding: Int, activationSlope: Float? = nil) throws -> (output: DeviceTensor, inputColumns: DeviceTensor) {
        let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let outChannels = weight.shape[1]
        let outHeight = convolution.transposedSize(height, kernel: convolution.kernelHeight, outputPadding: outputPadding)
        let outWidth = convolution.transposedSize(width, kernel: convolution.kernelWidth, outputPadding: outputPadding)
        let (plane, patch) = (height * width, outChannels * convolution.kernelHeight * convolution.kernelWidth)
        let inputColumns = try swappingLeadingAxes(x, batch, inChannels, block: plane, shape: [inChannels, batch * plane])
        let columns = try make([patch, batch * plane])
        try device.gemm(m: patch, n: batch * plane, k: inChannels, a: weight.address, transposingA: true, b: inputColumns.address,
                        transposingB: false, c: columns.address)
        let output = try make([batch, outChannels, outHeight, outWidth])
        try device.launch("vae_col2im", grid: grid(output.count), block: blockSize,
                          geometry(output.shape, convolution).arguments + [.address(columns.address), .address(bias?.address ?? .null),
                                                                           .float(activationSlope ?? 1), .address(output.address)])
        return (output, inputColumns)
    }

    /// The gradients of ``transposedConv2d(_:weight:bias:_:outputPadding:activationSlope:)`` for x, the weight and
    /// the bias (through the fused activation: the output and its slope): the gradient at the activation's input and
    /// the bias's sums per channel in one launch; its columns; the input's W·columns back to NCHW; the weight's
    /// x·columnsᵀ.
    public func transposedConv2dGradients(upstream g: DeviceTensor, inputShape: [Int], weight: DeviceTensor, inputColumns: DeviceTensor,
                                          _ convolution: ConvolutionGeometry, activation: (output: DeviceTensor, slope: Float)? = nil) throws
        -> (input: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor) {
        let (batch, inChannels, plane) = (inputShape[0], inputShape[1], inputShape[2] * inputShape[3])
        let patch = weight.count / weight.shape[0]
        let (gradient, sums) = try channelSums(g, activation: activation)
        let columns = try make([patch, batch * plane])
        try device.launch("vae_im2col", grid: grid(columns.count), block: blockSize,
                          geometry(g.shape, convolution).arguments + [.address(gradient.address), .address(columns.address)])
        let rows = try make([inChannels, batch * plane])
        try device.gemm(m: inChannels, n: batch * plane, k: patch, a: weight.address, transposingA: false, b: columns.address,
                        transposingB: false, c: rows.address)
        let dx = try swappingLeadingAxes(rows, inChannels, batch, block: plane, shape: inputShape)
        let dWeight = try make(weight.shape)
        try device.gemm(m: inChannels, n: patch, k: batch * plane, a: inputColumns.address, transposingA: false, b: columns.address,
                        transposingB: true, c: dWeight.address)
        return (dx, dWeight, sums)
    }

    // MARK: random numbers

    /// Values `first ..< first + count` of a Philox draw of `RandomStream` (seed, stream, counter at its start).
    public func random(shape: [Int], first: Int, counter: UInt64, seed: UInt64, stream: UInt64, normal: Bool) throws -> DeviceTensor {
        let y = try make(shape)
        try device.launch("vae_random", grid: grid(y.count), block: blockSize,
                          [.int64(y.count), .int64(first), .uint64(counter), .uint64(seed), .uint64(stream), .int32(normal ? 1 : 0), .address(y.address)])
        return y
    }

    // MARK: optimisers

    /// One Adam step in place on each parameter (`Adam.update` of VAEOptimizers, the same arithmetic as CKernels'
    /// loop), 8 parameters per launch.
    public func adamUpdate(_ parameters: [(weights: DeviceTensor, gradient: DeviceTensor, addend: DeviceTensor?,
                                           first: DeviceTensor, second: DeviceTensor)], _ step: AdamStep) throws {
        for start in stride(from: 0, to: parameters.count, by: 8) {
            let group = parameters[start..<min(start + 8, parameters.count)]
            func addresses(_ address: (DeviceTensor, DeviceTensor, DeviceTensor?, DeviceTensor, DeviceTensor) -> DeviceAddress?) -> [Int] {
                group.map { Int(bitPattern: UInt(address($0.weights, $0.gradient, $0.addend, $0.first, $0.second)?.rawValue ?? 0)) }
            }
            let buffers = KernelArgument.packed(
                [group.map(\.weights.count), addresses { w, _, _, _, _ in w.address }, addresses { _, g, _, _, _ in g.address },
                 addresses { _, _, a, _, _ in a?.address }, addresses { _, _, _, m, _ in m.address }, addresses { _, _, _, _, v in v.address }],
                rank: Int32(group.count))
            try device.launch("vae_adam_update", grid: grid(group.map(\.weights.count).max()!), block: blockSize,
                              [buffers, .float(step.beta1), .float(step.beta2), .float(step.epsilon), .float(step.stepSize),
                               .float(step.rootCorrection2), .float(step.coupledDecay), .float(step.shrink)])
        }
    }

    /// One SGD or Adagrad step in place on `weights` and `state` (`vae_sgd_update`, `vae_adagrad_update`).
    public func update(_ rule: OneSlotUpdate, weights: DeviceTensor, gradient: DeviceTensor, state: DeviceTensor) throws {
        switch rule {
        case .sgd(let learningRate, let momentum, let decay):
            try device.launch("vae_sgd_update", grid: grid(weights.count), block: blockSize,
                              [.int64(weights.count), .address(weights.address), .address(gradient.address),
                               .address(momentum == 0 ? .null : state.address), .float(learningRate), .float(momentum), .float(decay)])
        case .adagrad(let learningRate, let epsilon, let decay):
            try device.launch("vae_adagrad_update", grid: grid(weights.count), block: blockSize,
                              [.int64(weights.count), .address(weights.address), .address(gradient.address), .address(state.address),
                               .float(learningRate), .float(epsilon), .float(decay)])
        }
    }

    /// A flag (shape []) that is 0 when no element of any of `tensors` is NaN or ±∞ and 1 otherwise, set on the
    /// device, 8 tensors per launch; nothing is read back.
    public func nonFiniteFlag(_ tensors: [DeviceTensor]) throws -> DeviceTensor {
        let flag = try filled([], with: 0)
        for start in stride(from: 0, to: tensors.count, by: 8) {
            let group = tensors[start..<min(start + 8, tensors.count)].filter { $0.count > 0 }
            guard let largest = group.map(\.count).max() else { continue }
            let buffers = KernelArgument.packed([group.map(\.count), group.map { Int(bitPattern: UInt($0.address.rawValue)) }],
                                                rank: Int32(group.count))
            try device.launch("vae_flag_nonfinite", grid: grid(largest), block: blockSize, [buffers, .address(flag.address)])
        }
        return flag
    }

    /// True when no element of any of `tensors` is NaN or ±∞: ``nonFiniteFlag(_:)``, read back.
    public func allFinite(_ tensors: [DeviceTensor]) throws -> Bool { try nonFiniteFlag(tensors).values()[0] == 0 }
}
