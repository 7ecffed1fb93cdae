// The device side of the tensor core: where a tensor's elements live when not in host memory, and the primitive
// ops a device provides. `Tensor`'s ops run on the host (BLAS and CKernels) unless their inputs live on a device;
// then they call that device's ``TensorBackend`` and record pullbacks that keep gradients there, so the tape above
// is the same for both (docs/cuda.md).

/// Elements held by a device (a GPU), with their shape. A ``TensorBackend`` makes and reads them.
public protocol DeviceStorage: AnyObject {
    var backend: any TensorBackend { get }
    var shape: [Int] { get }
}

/// The unary elementwise ops with a kernel and a gradient kernel on a device; `parameter` is the slope
/// (leakyRelu) or exponent (pow).
public enum UnaryOp: String, CaseIterable, Sendable {
    case negate, exp, log, sqrt, square, pow, relu, leakyRelu, sigmoid, tanh, softplus
}

/// The broadcasting binary ops.
public enum BinaryOp: String, CaseIterable, Sendable { case add, subtract, multiply, divide }

/// x·s, x + s and s − x for a host scalar s.
public enum ScalarOp: String, CaseIterable, Sendable { case multiply, add, subtractFrom }

/// The primitive ops of one device, with `Tensor`'s semantics: broadcasting aligned on the last axis, gradients
/// summed back to each input's shape, reductions in a fixed order.
///
/// The ops do not throw: the first failure (memory, a launch) is kept in ``failure``, and every op after it does no
/// work and returns storage that reads back as NaN, so a step's loss is not finite and the caller reports
/// ``failure`` (as CUDA's own errors stick to a context).
public protocol TensorBackend: AnyObject {
    /// A name for messages ("NVIDIA H200 (sm_90)").
    var name: String { get }
    /// The first error since this backend was made, if any.
    var failure: (any Error)? { get }
    /// Bytes of memory the device could still hand out now, or nil where it does not say.
    var availableBytes: Int? { get }
    /// Notes that `op`, which has no device version yet, ran on the host with its inputs copied there and its
    /// result copied back (``Tensor``'s ops do this so that every model runs; the count says what to port next).
    func noteHostFallback(_ op: String)

    func upload(_ values: [Float], shape: [Int]) -> any DeviceStorage
    /// The constant `key` names: `make()`'s values copied to the device the first time `key` is asked for on this
    /// backend, and the same storage every time after (no op writes to its inputs, so it stays as made). `key` names
    /// every value the constant depends on (``Tensor/constant(_:beside:make:)``).
    func constant(_ key: String, make: () -> Tensor) -> any DeviceStorage
    /// `value` in every element of `shape`, set on the device (no copy from the host, which would wait for it).
    func filled(_ shape: [Int], with value: Float) -> any DeviceStorage
    func download(_ x: any DeviceStorage) -> [Float]
    /// The same elements under another shape of the same count, without a copy.
    func reshaped(_ x: any DeviceStorage, to shape: [Int]) -> any DeviceStorage
    /// Shape []: 0 when no element of any of `xs` is NaN or ±∞, 1 otherwise (computed there, not read back).
    func nonFiniteFlag(_ xs: [any DeviceStorage]) -> any DeviceStorage

    func unary(_ op: UnaryOp, _ x: any DeviceStorage, parameter: Float) -> any DeviceStorage
    /// g · f′(x) from the forward pass's input `x` and output `y`.
    func unaryGradient(_ op: UnaryOp, upstream g: any DeviceStorage, input x: any DeviceStorage,
                       output y: any DeviceStorage, parameter: Float) -> any DeviceStorage
    func scalar(_ op: ScalarOp, _ x: any DeviceStorage, _ s: Float) -> any DeviceStorage
    func binary(_ op: BinaryOp, _ a: any DeviceStorage, _ b: any DeviceStorage) -> any DeviceStorage
    /// The gradients of a ∘ b for the inputs `needing` says (nil for the others: a constant operand costs no
    /// launch), each summed back to its input's shape.
    func binaryGradients(_ op: BinaryOp, upstream g: any DeviceStorage, _ a: any DeviceStorage, _ b: any DeviceStorage,
                         needing: (a: Bool, b: Bool)) -> (a: (any DeviceStorage)?, b: (any DeviceStorage)?)
    /// `x` (whose shape broadcasts to `shape`) repeated to `shape`.
    func expand(_ x: any DeviceStorage, to shape: [Int]) -> any DeviceStorage
    /// a + b for equal shapes: the tape's sum of two contributions to one gradient.
    func add(_ a: any DeviceStorage, _ b: any DeviceStorage) -> any DeviceStorage

    /// Σ of all elements, shape [].
    func sum(_ x: any DeviceStorage) -> any DeviceStorage
    /// Σ along `axis`, kept as a dimension of 1.
    func sum(_ x: any DeviceStorage, alongAxis axis: Int) -> any DeviceStorage

    /// log Σ exp along `axis`, kept as a dimension of 1.
    func logSumExp(_ x: any DeviceStorage, alongAxis axis: Int) -> any DeviceStorage
    /// g · softmax(x) along the axis of ``logSumExp(_:alongAxis:)``, from its input `x` and output `y` (kept shape).
    func logSumExpGradient(upstream g: any DeviceStorage, input x: any DeviceStorage, output y: any DeviceStorage,
                           alongAxis axis: Int) -> any DeviceStorage
    /// The maximum along `axis`, kept as a dimension of 1, and where it is (for the gradient; opaque storage).
    func maximum(_ x: any DeviceStorage, alongAxis axis: Int) -> (values: any DeviceStorage, winners: any DeviceStorage)
    /// The gradient of ``maximum(_:alongAxis:)``: g at each maximum's first entry, 0 elsewhere in `inputShape`.
    func maximumGradient(upstream g: any DeviceStorage, winners: any DeviceStorage, alongAxis axis: Int,
                         inputShape: [Int]) -> any DeviceStorage
    /// Entries `indices` along `axis` (`Tensor.gathering`), and the indices as they went to the device (opaque
    /// storage), which the gradient reads again: the indices go to the device once.
    func gather(_ x: any DeviceStorage, indices: [Int], alongAxis axis: Int) -> (values: any DeviceStorage, indices: any DeviceStorage)
    /// The gradient of ``gather(_:indices:alongAxis:)``: g added back to the entries it came from.
    func gatherGradient(upstream g: any DeviceStorage, indices: any DeviceStorage, alongAxis axis: Int, inputShape: [Int]) -> any DeviceStorage

    /// `x` with its axes reordered: output axis i is input axis `order[i]` (`Tensor.transposed`).
    func permuted(_ x: any DeviceStorage, order: [Int]) -> any DeviceStorage
    /// Entries `range` along `axis` (`Tensor.slice`).
    func sliced(_ x: any DeviceStorage, _ range: Range<Int>, alongAxis axis: Int) -> any DeviceStorage
    /// The gradient of ``sliced(_:_:alongAxis:)``: g where the slice was taken, 0 elsewhere in `inputShape`.
    func sliceGradient(upstream g: any DeviceStorage, _ range: Range<Int>, alongAxis axis: Int, inputShape: [Int]) -> any DeviceStorage
    /// The parts joined along `axis` (`Tensor.concatenate`); its gradient is a slice per part.
    func concatenated(_ parts: [any DeviceStorage], alongAxis axis: Int) -> any DeviceStorage

    /// op(a)·op(b) for matrices.
    func matmul(_ a: any DeviceStorage, transposingA: Bool, _ b: any DeviceStorage,
                transposingB: Bool) -> any DeviceStorage
    /// act(x·Wᵀ + bias) (W as [outputs, inputs]), act a leaky ReLU of `activationSlope` (0: ReLU; none when nil).
    func linear(_ x: any DeviceStorage, weight: any DeviceStorage, bias: (any DeviceStorage)?, activationSlope: Float?) -> any DeviceStorage
    /// The gradients of ``linear(_:weight:bias:activationSlope:)`` for x (only `needingInput`), W and the bias;
    /// `activation` is the op's output and slope when it applied one.
    func linearGradients(upstream g: any DeviceStorage, input x: any DeviceStorage, weight: any DeviceStorage,
                         needingInput: Bool, activation: (output: any DeviceStorage, slope: Float)?)
        -> (input: (any DeviceStorage)?, weight: any DeviceStorage, bias: any DeviceStorage)

    /// `Tensor.conv2d` (NCHW input, OIHW weight) with the activation of `activationSlope` (as in
    /// ``linear(_:weight:bias:activationSlope:)``), and what its gradients keep (the column matrix).
    func conv2d(_ x: any DeviceStorage, weight: any DeviceStorage, bias: (any DeviceStorage)?,
                geometry: ConvolutionGeometry, activationSlope: Float?) -> (output: any DeviceStorage, saved: any DeviceStorage)
    /// The gradients of ``conv2d(_:weight:bias:geometry:activationSlope:)`` for its input (of `inputShape`), weight
    /// and bias.
    func conv2dGradients(upstream g: any DeviceStorage, inputShape: [Int], weight: any DeviceStorage,
                         saved: any DeviceStorage, geometry: ConvolutionGeometry, activation: (output: any DeviceStorage, slope: Float)?)
        -> (input: any DeviceStorage, weight: any DeviceStorage, bias: any DeviceStorage)
    /// `Tensor.transposedConv2d` (IOHW weight) with the activation of `activationSlope`, and what its gradients keep
    /// (the input as columns).
    func transposedConv2d(_ x: any DeviceStorage, weight: any DeviceStorage, bias: (any DeviceStorage)?,
                          geometry: ConvolutionGeometry, outputPadding: Int, activationSlope: Float?)
        -> (output: any DeviceStorage, saved: any DeviceStorage)
    /// The gradients of ``transposedConv2d(_:weight:bias:geometry:outputPadding:activationSlope:)``.
    func transposedConv2dGradients(upstream g: any DeviceStorage, inputShape: [Int], weight: any DeviceStorage,
                                   saved: any DeviceStorage, geometry: ConvolutionGeometry,
                                   activation: (output: any DeviceStorage, slope: Float)?)
        -> (input: any DeviceStorage, weight: any DeviceStorage, bias: any DeviceStorage)

    /// Rows of `x` along its first axis at `count` positions held on the device (8-byte integers, as
    /// ``maximum(_:alongAxis:)``'s winners); ``gatherGradient(upstream:indices:alongAxis:inputShape:)`` takes them.
    func gather(_ x: any DeviceStorage, positions: any DeviceStorage, count: Int) -> any DeviceStorage
    /// `[count, classes]`: 1 at each row's position (held as in ``gather(_:positions:count:)``), 0 elsewhere.
    func oneHot(positions: any DeviceStorage, count: Int, classes: Int) -> any DeviceStorage

    /// Rows `[count, features]` with each row whose draw (`[count]`) is below ½ reversed within every line of
    /// `width` values (`Tensor.mirroringLines`).
    func mirroredLines(_ x: any DeviceStorage, draws: any DeviceStorage, width: Int) -> any DeviceStorage
    /// 1 where the draw (the same shape) is below the value, 0 elsewhere (`Tensor.binarized`).
    func binarized(_ x: any DeviceStorage, draws: any DeviceStorage) -> any DeviceStorage

    /// Each row of `[rows, length]` sorted ascending, ties by position (`Tensor.sortedWithinRows`), and where each
    /// entry came from (opaque storage, for the gradient).
    func sortRows(_ x: any DeviceStorage) -> (values: any DeviceStorage, order: any DeviceStorage)
    /// Its gradient: each sorted entry's g back at the position it came from, in `shape`.
    func sortRowsGradient(upstream g: any DeviceStorage, order: any DeviceStorage, shape: [Int]) -> any DeviceStorage

    /// Each pixel of NCHW images repeated `factor` × `factor` times (`Tensor.upsampledNearest`).
    func upsampledNearest(_ x: any DeviceStorage, factor: Int) -> any DeviceStorage
    /// Its gradient: each input pixel gets the sum of g over its block.
    func upsampledNearestGradient(upstream g: any DeviceStorage, factor: Int) -> any DeviceStorage

    /// `Tensor.batchNormalized`: the output and the batch's mean and biased variance per channel (shape [C]); given
    /// `running` averages, also those averages moved toward the batch's statistics, as ``movingAverage(_:toward:momentum:scale:)``
    /// would (the variance's scale `correction`), in the same pass.
    func batchNormalized(_ x: any DeviceStorage, weight: any DeviceStorage, bias: any DeviceStorage, epsilon: Float,
                         activationSlope: Float,
                         running: (mean: any DeviceStorage, variance: any DeviceStorage, momentum: Float, correction: Float)?)
        -> (output: any DeviceStorage, mean: any DeviceStorage, variance: any DeviceStorage,
            running: (mean: any DeviceStorage, variance: any DeviceStorage)?)
    /// The gradients of ``batchNormalized(_:weight:bias:epsilon:activationSlope:running:)`` for x (only `needingInput`),
    /// the weight and the bias, from its input, output and statistics.
    func batchNormalizedGradients(upstream g: any DeviceStorage, input x: any DeviceStorage, output y: any DeviceStorage,
                                  weight: any DeviceStorage, mean: any DeviceStorage, variance: any DeviceStorage,
                                  epsilon: Float, activationSlope: Float, needingInput: Bool)
        -> (input: (any DeviceStorage)?, weight: any DeviceStorage, bias: any DeviceStorage)

    /// −log softmax(row)[target] per row of `[rows, classes]` logits (0 for a negative target), and the softmax
    /// and the targets its gradient needs (`Tensor.softmaxCrossEntropy`): the targets go to the device once.
    func softmaxCrossEntropy(_ logits: any DeviceStorage, targets: [Int])
        -> (losses: any DeviceStorage, softmax: any DeviceStorage, labels: any DeviceStorage)
    /// The same with the targets already on the device (8-byte integers, as ``gather(_:positions:count:)`` reads).
    func softmaxCrossEntropy(_ logits: any DeviceStorage, labels: any DeviceStorage) -> (losses: any DeviceStorage, softmax: any DeviceStorage)
    /// g_row · (softmax − one-hot(target)), 0 in rows of a negative target; `labels`: the targets as the forward
    /// op put them on the device (opaque storage).
    func softmaxCrossEntropyGradient(upstream g: any DeviceStorage, softmax: any DeviceStorage, labels: any DeviceStorage) -> any DeviceStorage

    /// x·(1 − momentum) + (new·momentum)·scale (`Tensor.movingAverage`).
    func movingAverage(_ x: any DeviceStorage, toward new: any DeviceStorage, momentum: Float, scale: Float) -> any DeviceStorage

    /// μ + exp(½·log σ²)·ε for equal shapes (`Tensor.reparameterizedSample`): a Gaussian draw in one pass.
    func reparameterizedSample(mean: any DeviceStorage, logVariance: any DeviceStorage, noise: any DeviceStorage) -> any DeviceStorage
    /// The log-variance's gradient of ``reparameterizedSample(mean:logVariance:noise:)``: g·ε·exp(½·log σ²)·½ (the
    /// mean's is g itself).
    func reparameterizedSampleGradient(upstream g: any DeviceStorage, logVariance: any DeviceStorage,
                                       noise: any DeviceStorage) -> any DeviceStorage
    /// ½(μ² + exp(log σ²) − log σ² − 1) for equal shapes (`Tensor.standardNormalKL`).
    func standardNormalKL(mean: any DeviceStorage, logVariance: any DeviceStorage) -> any DeviceStorage
    /// Its gradients for the mean (g·μ) and the log-variance (½g·(exp(log σ²) − 1)), in one pass.
    func standardNormalKLGradients(upstream g: any DeviceStorage, mean: any DeviceStorage, logVariance: any DeviceStorage)
        -> (mean: any DeviceStorage, logVariance: any DeviceStorage)

    /// Σ over the last axis of factor·((x − μ)²·scale + logVariance + log 2π) for equal shapes, one value per row
    /// (`Tensor.gaussianLogDensity` with a constant log-variance: scale e^(−log σ²), factor −½, or ½ negated).
    func gaussianRowLogDensity(_ x: any DeviceStorage, mean: any DeviceStorage, scale: Float, logVariance: Float,
                               factor: Float) -> any DeviceStorage
    /// Its gradient for the mean, g_row·(x − μ)·slope with slope = −2·factor·scale (the value's is its negation).
    func gaussianRowLogDensityGradient(upstream g: any DeviceStorage, _ x: any DeviceStorage, mean: any DeviceStorage,
                                       slope: Float) -> any DeviceStorage
    /// The same with a log-variance v per element, all three of one shape: Σ over the last axis of
    /// factor·((x − μ)²·e^(−v) + v + log 2π) (a posterior's log-density).
    func gaussianRowLogDensity(_ x: any DeviceStorage, mean: any DeviceStorage, logVariances: any DeviceStorage,
                               factor: Float) -> any DeviceStorage
    /// Its gradients for x, μ and v from g (one value per row).
    func gaussianRowLogDensityGradients(upstream g: any DeviceStorage, _ x: any DeviceStorage, mean: any DeviceStorage,
                                        logVariances: any DeviceStorage, factor: Float)
        -> (value: any DeviceStorage, mean: any DeviceStorage, logVariance: any DeviceStorage)

    /// One GRU step (`Tensor.gruCell`): h' from the gate products `[batch, 3·hidden]` and h `[batch, hidden]`.
    func gruCell(inputGates: any DeviceStorage, hiddenGates: any DeviceStorage, hidden: any DeviceStorage) -> any DeviceStorage
    /// Its gradients for both gate products and h, in one pass (the gates recomputed from its inputs).
    func gruCellGradients(upstream g: any DeviceStorage, inputGates: any DeviceStorage, hiddenGates: any DeviceStorage,
                          hidden: any DeviceStorage) -> (inputGates: any DeviceStorage, hiddenGates: any DeviceStorage, hidden: any DeviceStorage)
    /// One LSTM step (`Tensor.lstmCell`): h' and c' as `[2, batch, hidden]`, from the gate products `[batch,
    /// 4·hidden]` and c `[batch, hidden]`.
    func lstmCell(inputGates: any DeviceStorage, hiddenGates: any DeviceStorage, cell: any DeviceStorage) -> any DeviceStorage
    /// Its gradients from g `[2, batch, hidden]` (h′'s then c′'s): the gates' (the same for both gate products) and
    /// c's, in one pass.
    func lstmCellGradients(upstream g: any DeviceStorage, inputGates: any DeviceStorage, hiddenGates: any DeviceStorage,
                           cell: any DeviceStorage) -> (gates: any DeviceStorage, cell: any DeviceStorage)

    /// The binary cross-entropy with logits per element (`Tensor.binaryCrossEntropy`).
    func binaryCrossEntropy(logits: any DeviceStorage, targets: any DeviceStorage) -> any DeviceStorage
    /// The binary cross-entropy with logits summed over the last axis, and the sigmoids its gradient needs.
    func binaryCrossEntropySums(logits: any DeviceStorage, targets: any DeviceStorage)
        -> (sums: any DeviceStorage, sigmoids: any DeviceStorage)
    /// g · (sigmoid(x) − t), with g one value per row (of the sums) or per element.
    func binaryCrossEntropyGradient(upstream g: any DeviceStorage, sigmoids: any DeviceStorage,
                                    targets: any DeviceStorage) -> any DeviceStorage

    /// Values `first ..< first + count(shape)` of a Philox draw (``RandomStream``'s: block `counter + value / 4`,
    /// word `value % 4`), uniform in (0, 1) or, with `normal`, standard normal by Box–Muller.
    func random(shape: [Int], first: Int, counter: UInt64, seed: UInt64, stream: UInt64, normal: Bool) -> any DeviceStorage

    /// One Adam step in place on each parameter's weights and moments (a step's parameters in a few launches).
    func adamUpdate(_ parameters: [AdamBuffers], _ step: AdamStep)
    /// One step of a one-slot optimiser in place on `weights` and its `state` (SGD's momentum buffer, Adagrad's sum
    /// of squares), from `gradient`.
    func update(_ rule: OneSlotUpdate, weights: any DeviceStorage, gradient: any DeviceStorage, state: any DeviceStorage)
}

/// One parameter's storage for ``TensorBackend/adamUpdate(_:_:)``: its weights and Adam's two moments, updated in
/// place, from `gradient` (+ `addend`, a second part of it, when given).
public struct AdamBuffers {
    public var weights, gradient: any DeviceStorage
    public var addend: (any DeviceStorage)?
    public var first, second: any DeviceStorage
    public init(weights: any DeviceStorage, gradient: any DeviceStorage, addend: (any DeviceStorage)?,
                first: any DeviceStorage, second: any DeviceStorage) {
        (self.weights, self.gradient, self.addend, self.first, self.second) = (weights, gradient, addend, first, second)
    }
}

/// The update of an optimiser with one state tensor per parameter, as VAEOptimizers' `SGD` and `Adagrad` write it
/// (PyTorch's order of operations).
public enum OneSlotUpdate: Sendable {
    /// b ← μ·b + (g + λ·w); w ← w − lr·b (with μ = 0: w ← w − lr·(g + λ·w), b untouched).
    case sgd(learningRate: Float, momentum: Float, weightDecay: Float)
    /// s ← s + g²; w ← w − lr·g/(√s + ε), g including λ·w.
    case adagrad(learningRate: Float, epsilon: Float, weightDecay: Float)
}

/// One Adam step's constants, as PyTorch orders the update (VAEOptimizers' `Adam`; the loop of each element is
/// CKernels' `vae_adam_update` on the host and the kernel of the same name on a device).
public struct AdamStep: Sendable {
    public var beta1, beta2, epsilon, stepSize, rootCorrection2, coupledDecay, shrink: Float
    public init(beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, rootCorrection2: Float,
                coupledDecay: Float, shrink: Float) {
        (self.beta1, self.beta2, self.epsilon, self.stepSize) = (beta1, beta2, epsilon, stepSize)
        (self.rootCorrection2, self.coupledDecay, self.shrink) = (rootCorrection2, coupledDecay, shrink)
    }
}

extension TensorBackend {
    /// True when no element of any of `xs` is NaN or ±∞ (one value comes back to the host for them all). A failed
    /// backend reads back NaN, which is not 0: not finite.
    public func allFinite(_ xs: [any DeviceStorage]) -> Bool { download(nonFiniteFlag(xs))[0] == 0 }
}
