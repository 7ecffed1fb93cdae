// 2-D convolution and transposed convolution (NCHW, PyTorch weight layouts), through im2col + one sgemm per
// call over the whole batch: the patch matrix has one row per output position, so sgemm sees
// M = batch·outHeight·outWidth, which keeps BLAS efficient even for few channels.

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

    /// The patch matrix `[batch·outHeight·outWidth, channels·kh·kw]` of `input` (`[batch, channels, height, width]`).
    func patches(_ input: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                 outHeight: Int, outWidth: Int) -> [Float] {
        let (kh, kw) = (kernelHeight, kernelWidth)
        let columns = channels * kh * kw
        let rows = batch * outHeight * outWidth
        return [Float](unsafeUninitializedCapacity: rows * columns) { buffer, initialized in
            let output = buffer.baseAddress!
            for n in 0..<batch {
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        let row = output + ((n * outHeight + oy) * outWidth + ox) * columns
                        for c in 0..<channels {
                            let plane = input + (n * channels + c) * height * width
                            for ky in 0..<kh {
                                let y = oy * stride - padding + ky
                                let target = row + (c * kh + ky) * kw
                                if y < 0 || y >= height {
                                    for kx in 0..<kw { target[kx] = 0 }
                                    continue
                                }
                                // Valid taps are a contiguous range: copy it, zero the rest (no branch per tap).
                                let x0 = ox * stride - padding
                                let first = Swift.max(0, -x0), last = Swift.min(kw, width - x0)
                                for kx in 0..<Swift.min(first, kw) { target[kx] = 0 }
                                if first < last {
                                    let source = plane + y * width + x0
                                    for kx in first..<last { target[kx] = source[kx] }
                                }
                                for kx in Swift.max(last, first)..<kw { target[kx] = 0 }
                            }
                        }
                    }
                }
            }
            initialized = rows * columns
        }
    }

    /// The adjoint of ``patches``: sums patch-matrix entries back into a `[batch, channels, height, width]` image.
    func accumulatePatches(_ patches: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                           outHeight: Int, outWidth: Int) -> [Float] {
        let (kh, kw) = (kernelHeight, kernelWidth)
        let columns = channels * kh * kw
        var image = [Float](repeating: 0, count: batch * channels * height * width)
        image.withUnsafeMutableBufferPointer { buffer in
            let output = buffer.baseAddress!
            for n in 0..<batch {
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        let row = patches + ((n * outHeight + oy) * outWidth + ox) * columns
                        for c in 0..<channels {
                            let plane = output + (n * channels + c) * height * width
                            for ky in 0..<kh {
                                let y = oy * stride - padding + ky
                                if y < 0 || y >= height { continue }
                                let source = row + (c * kh + ky) * kw
                                let x0 = ox * stride - padding
                                let first = Swift.max(0, -x0), last = Swift.min(kw, width - x0)
                                if first < last {
                                    let target = plane + y * width + x0
                                    for kx in first..<last { target[kx] += source[kx] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return image
    }
}

extension Tensor {
    /// 2-D convolution of `self` (`[batch, inChannels, height, width]`) with `weight`
    /// (`[outChannels, inChannels, kh, kw]`, PyTorch's OIHW) plus `bias` (`[outChannels]`).
    ///
    /// Forward: P = patches(x); Y = P·Wᵀ + b as `[batch·positions, out]`, then to NCHW.
    /// Derivatives (G the upstream gradient as `[batch·positions, out]`): dW = Gᵀ·P, db = Σ rows of G,
    /// dx = patches-adjoint(G·W).
    public func conv2d(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[1] == shape[1] &&
                     weight.shape[2] == geometry.kernelHeight && weight.shape[3] == geometry.kernelWidth,
                     "conv2d: input \(shape) does not fit weight \(weight.shape) and kernel \(geometry.kernelHeight)×\(geometry.kernelWidth)")
        let (batch, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let outChannels = weight.shape[0]
        let outHeight = geometry.convolvedSize(height, kernel: geometry.kernelHeight)
        let outWidth = geometry.convolvedSize(width, kernel: geometry.kernelWidth)
        precondition(outHeight > 0 && outWidth > 0, "conv2d: input \(height)×\(width) is smaller than the kernel")
        let positions = batch * outHeight * outWidth
        let patchSize = channels * geometry.kernelHeight * geometry.kernelWidth
        let patches = scalars.withUnsafeBufferPointer {
            geometry.patches($0.baseAddress!, batch: batch, channels: channels, height: height, width: width,
                             outHeight: outHeight, outWidth: outWidth)
        }
        let patchTensor = Tensor(shape: [positions, patchSize], scalars: patches)
        let flatWeight = Tensor(shape: [outChannels, patchSize], scalars: weight.scalars)
        let rows = withoutGradients { patchTensor.linear(weight: flatWeight, bias: bias?.detached) }.scalars
        let output = Tensor.permute(rows, shape: [batch, outHeight * outWidth, outChannels], order: [0, 2, 1])
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias?.isTracked ?? false)
        let weights = weight.scalars
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.record(shape: [batch, outChannels, outHeight, outWidth], scalars: output, inputs: inputs) { upstream in
            let gradientRows = Tensor.permute(upstream, shape: [batch, outChannels, outHeight * outWidth], order: [0, 2, 1])
            var gradients: [[Float]?] = [nil, nil]
            if needInput {
                let patchGradient = Tensor.gemm(gradientRows, false, weights, false, m: positions, n: patchSize, k: outChannels)
                gradients[0] = patchGradient.withUnsafeBufferPointer {
                    geometry.accumulatePatches($0.baseAddress!, batch: batch, channels: channels, height: height,
                                               width: width, outHeight: outHeight, outWidth: outWidth)
                }
            }
            if needWeight {
                gradients[1] = Tensor.gemm(gradientRows, true, patches, false, m: outChannels, n: patchSize, k: positions)
            }
            if bias != nil {
                gradients.append(needBias ? Tensor.columnSums(gradientRows, rows: positions, columns: outChannels) : nil)
            }
            return gradients
        }
    }

    /// Transposed 2-D convolution (the adjoint of ``conv2d(weight:bias:geometry:)`` with respect to its input):
    /// `self` is `[batch, inChannels, height, width]`, `weight` is `[inChannels, outChannels, kh, kw]` (PyTorch's
    /// layout for ConvTranspose2d). Output size: (height − 1)·stride − 2·padding + kh + outputPadding.
    public func transposedConv2d(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                 outputPadding: Int = 0) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[0] == shape[1] &&
                     weight.shape[2] == geometry.kernelHeight && weight.shape[3] == geometry.kernelWidth,
                     "transposedConv2d: input \(shape) does not fit weight \(weight.shape)")
        precondition(outputPadding >= 0 && outputPadding < geometry.stride,
                     "transposedConv2d: output padding \(outputPadding) must be smaller than the stride \(geometry.stride)")
        let (batch, inChannels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let outChannels = weight.shape[1]
        let outHeight = (height - 1) * geometry.stride - 2 * geometry.padding + geometry.kernelHeight + outputPadding
        let outWidth = (width - 1) * geometry.stride - 2 * geometry.padding + geometry.kernelWidth + outputPadding
        precondition(outHeight > 0 && outWidth > 0, "transposedConv2d: empty output for input \(shape)")
        let positions = batch * height * width
        let patchSize = outChannels * geometry.kernelHeight * geometry.kernelWidth
        let inputRows = Tensor.permute(scalars, shape: [batch, inChannels, height * width], order: [0, 2, 1])
        let weights = weight.scalars
        let patches = Tensor.gemm(inputRows, false, weights, false, m: positions, n: patchSize, k: inChannels)
        var output = patches.withUnsafeBufferPointer {
            geometry.accumulatePatches($0.baseAddress!, batch: batch, channels: outChannels, height: outHeight,
                                       width: outWidth, outHeight: height, outWidth: width)
        }
        if let bias { Tensor.addChannelBias(&output, bias.scalars, batch: batch, channels: outChannels, plane: outHeight * outWidth) }
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias?.isTracked ?? false)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.record(shape: [batch, outChannels, outHeight, outWidth], scalars: output, inputs: inputs) { upstream in
            let gradientPatches = upstream.withUnsafeBufferPointer {
                geometry.patches($0.baseAddress!, batch: batch, channels: outChannels, height: outHeight, width: outWidth,
                                 outHeight: height, outWidth: width)
            }
            var gradients: [[Float]?] = [nil, nil]
            if needInput {
                let rows = Tensor.gemm(gradientPatches, false, weights, true, m: positions, n: inChannels, k: patchSize)
                gradients[0] = Tensor.permute(rows, shape: [batch, height * width, inChannels], order: [0, 2, 1])
            }
            if needWeight {
                gradients[1] = Tensor.gemm(inputRows, true, gradientPatches, false, m: inChannels, n: patchSize, k: positions)
            }
            if bias != nil {
                gradients.append(needBias ? Tensor.channelSums(upstream, batch: batch, channels: outChannels,
                                                               plane: outHeight * outWidth) : nil)
            }
            return gradients
        }
    }

    /// Nearest-neighbour upsampling of `[batch, channels, height, width]` by an integer `factor`; the gradient
    /// sums each factor×factor block.
    public func upsampledNearest(factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1, "upsampledNearest: needs NCHW input and factor ≥ 1")
        let (planes, height, width) = (shape[0] * shape[1], shape[2], shape[3])
        let (outHeight, outWidth) = (height * factor, width * factor)
        var output = [Float](repeating: 0, count: planes * outHeight * outWidth)
        for p in 0..<planes {
            for y in 0..<outHeight {
                for x in 0..<outWidth {
                    output[(p * outHeight + y) * outWidth + x] = scalars[(p * height + y / factor) * width + x / factor]
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

    static func channelSums(_ values: [Float], batch: Int, channels: Int, plane: Int) -> [Float] {
        var sums = [Float](repeating: 0, count: channels)
        values.withUnsafeBufferPointer { source in
            for n in 0..<batch {
                for c in 0..<channels {
                    sums[c] += Kernels.sum(UnsafeBufferPointer(rebasing: source[((n * channels + c) * plane)..<((n * channels + c + 1) * plane)]))
                }
            }
        }
        return sums
    }

    static func addChannelBias(_ values: inout [Float], _ bias: [Float], batch: Int, channels: Int, plane: Int) {
        values.withUnsafeMutableBufferPointer { target in
            for n in 0..<batch {
                for c in 0..<channels {
                    let base = (n * channels + c) * plane
                    for i in 0..<plane { target[base + i] += bias[c] }
                }
            }
        }
    }
}
