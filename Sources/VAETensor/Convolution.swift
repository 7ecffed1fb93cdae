import CKernels

// 2-D convolution and transposed convolution (NCHW, PyTorch weight layouts), through im2col + one sgemm per
// call over the whole batch. The column matrix is channel-major, `[channels·kh·kw, batch·positions]`: sgemm sees
// N = batch·outHeight·outWidth, which keeps BLAS efficient even for few channels; im2col/col2im copy whole output
// rows (ox runs) instead of 3-tap kernel rows; and the product `[outChannels, batch·positions]` reaches NCHW by
// moving contiguous planes, not by an element-wise transpose.

/// Geometry of a convolution: square stride, symmetric padding, dilation 1.
public struct ConvolutionGeometry: Equatable, Sendable {
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int

    public init(kernelSize: Int, stride: Int = 1, padding: Int = 0) {
        self.init(kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride, padding: padding)
    }

    public init(kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0) {
        precondition(kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0,
                     "convolution: kernel \(kernelHeight)×\(kernelWidth), stride \(stride), padding \(padding)")
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    /// Output size of a convolution over `size` input pixels along one axis.
    public func convolvedSize(_ size: Int, kernel: Int) -> Int { (size + 2 * padding - kernel) / stride + 1 }

    /// Output size of a transposed convolution over `size` input pixels along one axis.
    public func transposedSize(_ size: Int, kernel: Int, outputPadding: Int) -> Int {
        (size - 1) * stride - 2 * padding + kernel + outputPadding
    }

    /// The column matrix `[channels·kh·kw, batch·outHeight·outWidth]` of `input` (`[batch, channels, height, width]`):
    /// entry ((c, ky, kx), (n, oy, ox)) is input[n, c, oy·stride − padding + ky, ox·stride − padding + kx], 0 outside.
    func columns(_ input: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                 outHeight: Int, outWidth: Int) -> [Float] {
        let (kh, kw) = (kernelHeight, kernelWidth)
        let positions = outHeight * outWidth
        let count = channels * kh * kw * batch * positions
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = buffer.baseAddress!
            // Channels write disjoint rows, so they split over the library's threads (CKernels' loops).
            Parallel.forEachChunk(of: channels, minimumWork: kh * kw * batch * positions, grain: 1 << 16) { chunk in
                vae_im2col(chunk.lowerBound, chunk.upperBound, batch, channels, height, width, kh, kw, stride, padding,
                           outHeight, outWidth, input, output)
            }
            initialized = count
        }
    }

    /// The adjoint of ``columns``: sums column-matrix entries back into a `[batch, channels, height, width]` image,
    /// then adds `bias[c]` to channel c's planes when given (in the same parallel pass).
    func accumulateColumns(_ columns: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                           outHeight: Int, outWidth: Int, bias: [Float]? = nil) -> [Float] {
        let (kh, kw) = (kernelHeight, kernelWidth)
        let positions = outHeight * outWidth
        let count = batch * channels * height * width
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let image = buffer.baseAddress!
            func run(_ biases: UnsafePointer<Float>?) {
                // Channels write disjoint planes, so they split over the library's threads.
                Parallel.forEachChunk(of: channels, minimumWork: kh * kw * batch * positions, grain: 1 << 16) { chunk in
                    vae_col2im(chunk.lowerBound, chunk.upperBound, batch, channels, height, width, kh, kw, stride, padding,
                               outHeight, outWidth, columns, biases, image)
                }
            }
            if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
            initialized = count
        }
    }
}

extension Tensor {
    /// 2-D convolution of `self` (`[batch, inChannels, height, width]`) with `weight`
    /// (`[outChannels, inChannels, kh, kw]`, PyTorch's OIHW) plus `bias` (`[outChannels]`): through im2col + GEMM
    /// (`columnConv2d(weight:bias:geometry:)`), or by direct loops for stride-1 layers with few output channels
    /// (`directConv2d(weight:bias:geometry:)`). With `activationSlope`, a leaky ReLU of that slope (0: ReLU) follows
    /// in the same op on a device (one launch for the bias and the activation, one for both gradients); on the host
    /// it is the `relu()` or `leakyRelu(slope:)` op after the convolution, with the same values.
    public func conv2d(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry, activationSlope: Float? = nil) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[1] == shape[1] &&
                     weight.shape[2] == geometry.kernelHeight && weight.shape[3] == geometry.kernelWidth,
                     "conv2d: input \(shape) does not fit weight \(weight.shape) and kernel \(geometry.kernelHeight)×\(geometry.kernelWidth)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "conv2d: bias \(bias!.shape) for weight \(weight.shape)")
        precondition(geometry.convolvedSize(shape[2], kernel: geometry.kernelHeight) > 0 &&
                     geometry.convolvedSize(shape[3], kernel: geometry.kernelWidth) > 0,
                     "conv2d: input \(shape[2])×\(shape[3]) is smaller than the kernel")
        if let backend = Tensor.backend(self, weight, bias) {
            return convolutionOnDevice(weight: weight, bias: bias, geometry: geometry, transposed: false, outputPadding: 0,
                                       activationSlope: activationSlope, backend)
        }
        let output = Tensor.convolvesDirectly(outChannels: weight.shape[0], geometry: geometry)
            ? directConv2d(weight: weight, bias: bias, geometry: geometry) : columnConv2d(weight: weight, bias: bias, geometry: geometry)
        return output.rectified(slope: activationSlope)
    }

    /// Convolution through the column matrix. Forward: C = columns(x) (`[in·kh·kw, batch·positions]`);
    /// Y = W·C as `[out, batch·positions]`, moved to NCHW plane by plane, plus b. Derivatives (G the upstream
    /// gradient as `[out, batch·positions]`): dW = G·Cᵀ, db = Σ rows of G, dx = columns-adjoint(Wᵀ·G).
    func columnConv2d(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry) -> Tensor {
        let (batch, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let outChannels = weight.shape[0]
        let outHeight = geometry.convolvedSize(height, kernel: geometry.kernelHeight)
        let outWidth = geometry.convolvedSize(width, kernel: geometry.kernelWidth)
        let plane = outHeight * outWidth
        let positions = batch * plane
        let patchSize = channels * geometry.kernelHeight * geometry.kernelWidth
        let columns = scalars.withUnsafeBufferPointer {
            geometry.columns($0.baseAddress!, batch: batch, channels: channels, height: height, width: width,
                             outHeight: outHeight, outWidth: outWidth)
        }
        let weights = weight.scalars
        let product = Tensor.gemm(weights, false, columns, false, m: outChannels, n: positions, k: patchSize)
        let output = Tensor.swapLeadingAxes(product, outChannels, batch, block: plane, adding: bias?.scalars)
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias?.isTracked ?? false)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.record(shape: [batch, outChannels, outHeight, outWidth], scalars: output, inputs: inputs) { upstream in
            let gradientRows = Tensor.swapLeadingAxes(upstream, batch, outChannels, block: plane)
            var gradients: [[Float]?] = [nil, nil]
            if needInput {
                let columnGradient = Tensor.gemm(weights, true, gradientRows, false, m: patchSize, n: positions, k: outChannels)
                gradients[0] = columnGradient.withUnsafeBufferPointer {
                    geometry.accumulateColumns($0.baseAddress!, batch: batch, channels: channels, height: height,
                                               width: width, outHeight: outHeight, outWidth: outWidth)
                }
            }
            if needWeight {
                gradients[1] = Tensor.gemm(gradientRows, false, columns, true, m: outChannels, n: patchSize, k: positions)
            }
            if bias != nil {
                gradients.append(needBias ? Tensor.channelSums(upstream, batch: batch, channels: outChannels, plane: plane) : nil)
            }
            return gradients
        }
    }

    /// Transposed 2-D convolution (the adjoint of ``conv2d(weight:bias:geometry:activationSlope:)`` with respect to its input):
    /// `self` is `[batch, inChannels, height, width]`, `weight` is `[inChannels, outChannels, kh, kw]` (PyTorch's
    /// layout for ConvTranspose2d). Output size: (height − 1)·stride − 2·padding + kh + outputPadding.
    ///
    /// Forward: X = x as `[in, batch·positions]`; C = Wᵀ·X (`[out·kh·kw, batch·positions]`); y = columns-adjoint(C) + b.
    /// Derivatives: D = columns(G); dx = W·D back to NCHW, dW = X·Dᵀ, db = channel sums of G. `activationSlope` as in
    /// ``conv2d(weight:bias:geometry:activationSlope:)``.
    public func transposedConv2d(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                 outputPadding: Int = 0, activationSlope: Float? = nil) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[0] == shape[1] &&
                     weight.shape[2] == geometry.kernelHeight && weight.shape[3] == geometry.kernelWidth,
                     "transposedConv2d: input \(shape) does not fit weight \(weight.shape)")
        precondition(outputPadding >= 0 && outputPadding < geometry.stride,
                     "transposedConv2d: output padding \(outputPadding) must be smaller than the stride \(geometry.stride)")
        let (batch, inChannels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let outChannels = weight.shape[1]
        let outHeight = geometry.transposedSize(height, kernel: geometry.kernelHeight, outputPadding: outputPadding)
        let outWidth = geometry.transposedSize(width, kernel: geometry.kernelWidth, outputPadding: outputPadding)
        precondition(outHeight > 0 && outWidth > 0, "transposedConv2d: empty output for input \(shape)")
        if let backend = Tensor.backend(self, weight, bias) {
            return convolutionOnDevice(weight: weight, bias: bias, geometry: geometry, transposed: true,
                                       outputPadding: outputPadding, activationSlope: activationSlope, backend)
        }
        let plane = height * width
        let positions = batch * plane
        let patchSize = outChannels * geometry.kernelHeight * geometry.kernelWidth
        let inputColumns = Tensor.swapLeadingAxes(scalars, batch, inChannels, block: plane)
        let weights = weight.scalars
        let columns = Tensor.gemm(weights, true, inputColumns, false, m: patchSize, n: positions, k: inChannels)
        let output = columns.withUnsafeBufferPointer {
            geometry.accumulateColumns($0.baseAddress!, batch: batch, channels: outChannels, height: outHeight,
                                       width: outWidth, outHeight: height, outWidth: width, bias: bias?.scalars)
        }
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias?.isTracked ?? false)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        let result = Tensor.record(shape: [batch, outChannels, outHeight, outWidth], scalars: output, inputs: inputs) { upstream in
            let gradientColumns = upstream.withUnsafeBufferPointer {
                geometry.columns($0.baseAddress!, batch: batch, channels: outChannels, height: outHeight, width: outWidth,
                                 outHeight: height, outWidth: width)
            }
            var gradients: [[Float]?] = [nil, nil]
            if needInput {
                let rows = Tensor.gemm(weights, false, gradientColumns, false, m: inChannels, n: positions, k: patchSize)
                gradients[0] = Tensor.swapLeadingAxes(rows, inChannels, batch, block: plane)
            }
            if needWeight {
                gradients[1] = Tensor.gemm(inputColumns, false, gradientColumns, true, m: inChannels, n: patchSize, k: positions)
            }
            if bias != nil {
                gradients.append(needBias ? Tensor.channelSums(upstream, batch: batch, channels: outChannels,
                                                               plane: outHeight * outWidth) : nil)
            }
            return gradients
        }
        return result.rectified(slope: activationSlope)
    }

    /// `[a, b, block]` → `[b, a, block]`: moves contiguous blocks (an NCHW image's planes), one copy per block,
    /// adding `bias[i]` to the blocks of index i along the first axis when given. Split over the library's threads
    /// by output rows j.
    static func swapLeadingAxes(_ values: [Float], _ a: Int, _ b: Int, block: Int, adding bias: [Float]? = nil) -> [Float] {
        if (a == 1 || b == 1) && bias == nil { return values }
        return [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                let (target, source) = (output.baseAddress!, input.baseAddress!)
                Parallel.forEachChunk(of: b, minimumWork: a * block, grain: 1 << 16) { chunk in
                    for j in chunk {
                        for i in 0..<a {
                            let (to, from) = (target + (j * a + i) * block, source + (i * b + j) * block)
                            if let bias {
                                let shift = bias[i]
                                for index in 0..<block { to[index] = from[index] + shift }
                            } else {
                                to.initialize(from: from, count: block)
                            }
                        }
                    }
                }
            }
            initialized = values.count
        }
    }

    /// Nearest-neighbour upsampling of `[batch, channels, height, width]` by an integer `factor`; the gradient
    /// sums each factor×factor block.
    public func upsampledNearest(factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1, "upsampledNearest: needs NCHW input and factor ≥ 1")
        if let backend = Tensor.backend(self) { return upsampledNearestOnDevice(factor: factor, backend) }
        let (planes, height, width) = (shape[0] * shape[1], shape[2], shape[3])
        let (outHeight, outWidth) = (height * factor, width * factor)
        var output = [Float](repeating: 0, count: planes * outHeight * outWidth)
        let input = scalars   // once: on a device, each read of `scalars` is a copy
        for p in 0..<planes {
            for y in 0..<outHeight {
                for x in 0..<outWidth {
                    output[(p * outHeight + y) * outWidth + x] = input[(p * height + y / factor) * width + x / factor]
                }
            }
        }
        return Tensor.record(shape: [shape[0], shape[1], outHeight, outWidth], scalars: output, inputs: [self]) { upstream in
            var gradient = [Float](repeating: 0, count: planes * height * width)
            for p in 0..<planes {
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        gradient[(p * height + y / factor) * width + x / factor] += upstream[(p * outHeight + y) * outWidth + x]
                    }
                }
            }
            return [gradient]
        }
    }

    static func columnSums(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: columns)
        values.withUnsafeBufferPointer { source in
            sums.withUnsafeMutableBufferPointer { target in
                for row in 0..<rows { for column in 0..<columns { target[column] += source[row * columns + column] } }
            }
        }
        return sums
    }

    /// Σ over batch and plane per channel of `[batch, channels, plane]`, each channel's planes added in batch order
    /// (split over the library's threads by channel: the same numbers for any thread count).
    static func channelSums(_ values: [Float], batch: Int, channels: Int, plane: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: channels)
        values.withUnsafeBufferPointer { source in
            sums.withUnsafeMutableBufferPointer { target in
                let (from, to) = (source.baseAddress!, target.baseAddress!)
                Parallel.forEachChunk(of: channels, minimumWork: batch * plane, grain: 1 << 16) { chunk in
                    for c in chunk {
                        var total: Float = 0
                        for n in 0..<batch {
                            total += Kernels.sum(UnsafeBufferPointer(start: from + (n * channels + c) * plane, count: plane))
                        }
                        to[c] = total
                    }
                }
            }
        }
        return sums
    }
}
