import Testing
@testable import VAETensor

@Suite struct ConvolutionTests {
    /// Direct definition of cross-correlation, in Double: y[n,o,i,j] = b[o] + Σ w[o,c,u,v]·x[n,c,i·s−p+u, j·s−p+v].
    func directConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: Int, padding: Int) -> [Double] {
        let (n, c, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (width + 2 * padding - kw) / stride + 1
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b0 in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var total = Double(b.scalars[oc])
            for ic in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let yy = i * stride - padding + u, xx = j * stride - padding + v
                if yy >= 0 && yy < h && xx >= 0 && xx < width {
                    total += Double(w.scalars[((oc * c + ic) * kh + u) * kw + v]) * Double(x.scalars[((b0 * c + ic) * h + yy) * width + xx])
                }
            }}}
            y[((b0 * o + oc) * oh + i) * ow + j] = total
        }}}}
        return y
    }

    @Test func conv2dMatchesTheDefinition() {
        var random = RandomStream(seed: 1, name: "conv")
        let x = random.normal(shape: [2, 3, 7, 6]), w = random.normal(shape: [4, 3, 3, 3]), b = random.normal(shape: [4])
        for (stride, padding) in [(1, 0), (2, 1), (1, 1), (3, 2)] {
            let y = x.conv2d(weight: w, bias: b, geometry: ConvolutionGeometry(kernelSize: 3, stride: stride, padding: padding))
            let expected = directConvolution(x, w, b, stride: stride, padding: padding)
            #expect(y.count == expected.count)
            #expect(zip(y.scalars, expected).allSatisfy { abs(Double($0) - $1) < 1e-4 * max(1, abs($1)) })
        }
    }

    /// The direct loops (stride 1, ≤ 4 output channels) and im2col + GEMM compute the same values and gradients,
    /// on rows longer than sixteen lanes with a tail, for padded and unpadded, square and oblong kernels.
    @Test func directConvolutionMatchesTheColumnPath() {
        var random = RandomStream(seed: 4, name: "direct")
        for (outChannels, kh, kw, padding) in [(3, 3, 3, 1), (1, 5, 5, 0), (4, 2, 3, 2)] {
            let x = random.normal(shape: [3, 5, 20, 37]), w = random.normal(shape: [outChannels, 5, kh, kw])
            let b = random.normal(shape: [outChannels])
            let geometry = ConvolutionGeometry(kernelHeight: kh, kernelWidth: kw, stride: 1, padding: padding)
            #expect(Tensor.convolvesDirectly(outChannels: outChannels, geometry: geometry))
            func run(_ forward: (Tensor, Tensor, Tensor) -> Tensor) -> [[Float]] {
                let tape = GradientTape()
                return tape.recording {
                    let (tx, tw, tb) = (tape.watch(x), tape.watch(w), tape.watch(b))
                    let y = forward(tx, tw, tb)
                    let probe = Tensor(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 7) - 3 })
                    return [y.scalars] + tape.gradients(of: (y * probe).sum(), withRespectTo: [tx, tw, tb]).map(\.scalars)
                }
            }
            let direct = run { $0.directConv2d(weight: $1, bias: $2, geometry: geometry) }
            let columns = run { $0.columnConv2d(weight: $1, bias: $2, geometry: geometry) }
            for (name, (a, b)) in zip(["output", "input gradient", "weight gradient", "bias gradient"], zip(direct, columns)) {
                let scale = b.map(abs).max()!
                #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "\(name)")
            }
        }
    }

    /// VQ-VAE's shapes: kernel 4, stride 2, padding 1, a single image and a single output channel.
    @Test func kernelFourStrideTwoMatchesTheDefinitionAndItsAdjoint() {
        var random = RandomStream(seed: 3, name: "conv4")
        let x = random.normal(shape: [1, 2, 8, 8]), w = random.normal(shape: [1, 2, 4, 4]), b = random.normal(shape: [1])
        let geometry = ConvolutionGeometry(kernelSize: 4, stride: 2, padding: 1)
        let y = x.conv2d(weight: w, bias: b, geometry: geometry)
        #expect(y.shape == [1, 1, 4, 4])
        let expected = directConvolution(x, w, b, stride: 2, padding: 1)
        #expect(zip(y.scalars, expected).allSatisfy { abs(Double($0) - $1) < 1e-4 * max(1, abs($1)) })
        let withoutBias = x.conv2d(weight: w, bias: nil, geometry: geometry)
        let probe = random.normal(shape: withoutBias.shape)
        let back = probe.transposedConv2d(weight: w, bias: nil, geometry: geometry)
        #expect(back.shape == x.shape, "ConvTranspose(4, s2, p1) doubles the size exactly")
        let left = zip(withoutBias.scalars, probe.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x.scalars, back.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) < 1e-3 * max(1, abs(left)))
    }

    @Test func transposedConvolutionIsTheAdjoint() {
        // ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for the same weight (no bias): the defining property.
        var random = RandomStream(seed: 2, name: "adjoint")
        let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        let x = random.normal(shape: [2, 3, 8, 8]), w = random.normal(shape: [5, 3, 3, 3])
        let convolved = x.conv2d(weight: w, bias: nil, geometry: geometry)
        #expect(convolved.shape == [2, 5, 4, 4])
        let y = random.normal(shape: convolved.shape)
        let back = y.transposedConv2d(weight: w, bias: nil, geometry: geometry, outputPadding: 1)
        #expect(back.shape == x.shape)
        let left = zip(convolved.scalars, y.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x.scalars, back.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) < 1e-3 * max(1, abs(left)))
    }

    @Test func transposedConvolutionShapesMatchPyTorch() {
        // ConvTranspose2d(64, 64, 3, stride 2, padding 1, output_padding 1): 7×7 → 14×14 (the Keras decoder).
        let x = Tensor.zeros([1, 4, 7, 7]), w = Tensor.zeros([4, 2, 3, 3])
        let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
        #expect(x.transposedConv2d(weight: w, bias: nil, geometry: geometry, outputPadding: 1).shape == [1, 2, 14, 14])
        #expect(x.transposedConv2d(weight: w, bias: nil, geometry: ConvolutionGeometry(kernelSize: 3, padding: 1)).shape == [1, 2, 7, 7])
        // Bias only: every output pixel of a channel equals its bias.
        let bias = Tensor(shape: [2], scalars: [0.5, -2])
        let out = x.transposedConv2d(weight: w, bias: bias, geometry: geometry, outputPadding: 1)
        #expect(out.scalars[0] == 0.5 && out.scalars[14 * 14] == -2)
    }

    /// The column matrix and its adjoint against an element-by-element reference, bit for bit: the same values
    /// moved, and each pixel's terms added in the order (ky, kx), for every stride and padding the layers use.
    @Test(arguments: [(3, 1, 0), (3, 2, 1), (4, 2, 1), (3, 3, 2), (2, 2, 0), (5, 3, 1)])
    func columnMatricesMatchTheirDefinitionExactly(kernel: Int, stride: Int, padding: Int) {
        var random = RandomStream(seed: 4, name: "columns")
        let geometry = ConvolutionGeometry(kernelSize: kernel, stride: stride, padding: padding)
        for (height, width) in [(7, 7), (8, 5), (9, 14)] {
            let (batch, channels) = (2, 3)
            let outHeight = geometry.convolvedSize(height, kernel: kernel), outWidth = geometry.convolvedSize(width, kernel: kernel)
            let positions = batch * outHeight * outWidth
            let x = random.normal(shape: [batch, channels, height, width]).scalars
            let columns = x.withUnsafeBufferPointer {
                geometry.columns($0.baseAddress!, batch: batch, channels: channels, height: height, width: width,
                                 outHeight: outHeight, outWidth: outWidth)
            }
            let g = random.normal(shape: [channels * kernel * kernel * positions]).scalars
            let image = g.withUnsafeBufferPointer {
                geometry.accumulateColumns($0.baseAddress!, batch: batch, channels: channels, height: height, width: width,
                                           outHeight: outHeight, outWidth: outWidth)
            }
            var expectedColumns = [Float](repeating: 0, count: columns.count)
            var expectedImage = [Float](repeating: 0, count: x.count)
            for c in 0..<channels { for ky in 0..<kernel { for kx in 0..<kernel {
                for n in 0..<batch { for oy in 0..<outHeight { for ox in 0..<outWidth {
                    let y = oy * stride - padding + ky, xx = ox * stride - padding + kx
                    guard y >= 0 && y < height && xx >= 0 && xx < width else { continue }
                    let column = (((c * kernel + ky) * kernel + kx) * batch + n) * outHeight * outWidth + oy * outWidth + ox
                    let pixel = ((n * channels + c) * height + y) * width + xx
                    expectedColumns[column] = x[pixel]
                    expectedImage[pixel] += g[column]
                }}}
            }}}
            #expect(columns == expectedColumns, "columns, \(height)×\(width)")
            #expect(image.map(\.bitPattern) == expectedImage.map(\.bitPattern), "adjoint, \(height)×\(width)")
        }
    }

    @Test func upsampleRepeatsPixels() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        #expect(x.upsampledNearest(factor: 2).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }
}
