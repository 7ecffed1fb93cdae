import CKernels

extension Tensor {
    /// Whether ``conv2d(weight:bias:geometry:activationSlope:)`` computes directly instead of through im2col + GEMM: stride 1 and
    /// at most four output channels (an image's last layer). There the column matrix is kh·kw times the input
    /// (302 MB for conv64's 32 → 3 channels at 64×64, batch 64) and the GEMMs, with M = the output channels, run
    /// at a tenth of the BLAS's rate; the direct loops keep one plane in cache and split over the batch.
    static func convolvesDirectly(outChannels: Int, geometry: ConvolutionGeometry) -> Bool {
        geometry.stride == 1 && outChannels <= 4
    }

    /// Stride-1 convolution by direct loops (CKernels' `vae_conv_direct_*`): forward and input gradient split over
    /// batch items, the weight gradient over (output, input) channel pairs; each element's sum runs whole on one
    /// thread in a fixed order, so the numbers do not depend on the thread count.
    func directConv2d(weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry) -> Tensor {
        let (batch, inChannels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let outChannels = weight.shape[0]
        let (kh, kw, padding) = (geometry.kernelHeight, geometry.kernelWidth, geometry.padding)
        let outHeight = geometry.convolvedSize(height, kernel: kh)
        let outWidth = geometry.convolvedSize(width, kernel: kw)
        let plane = outHeight * outWidth
        let work = inChannels * kh * kw * plane
        let (input, weights, biases) = (scalars, weight.scalars, bias?.scalars)
        let flops = 2 * Double(batch * outChannels * work)
        GEMMRecorder.current?.recordDirect(flops: flops)
        let output = [Float](unsafeUninitializedCapacity: batch * outChannels * plane) { buffer, initialized in
            let y = buffer.baseAddress!
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    Parallel.forEachChunk(of: batch, minimumWork: work, grain: 1 << 16) { chunk in
                        let call = { (b: UnsafePointer<Float>?) in
                            vae_conv_direct_forward(chunk.lowerBound, chunk.upperBound, inChannels, height, width,
                                                    outChannels, kh, kw, padding, x.baseAddress!, w.baseAddress!, b, y)
                        }
                        if let biases { biases.withUnsafeBufferPointer { call($0.baseAddress!) } } else { call(nil) }
                    }
                }
            }
            initialized = batch * outChannels * plane
        }
        let (needInput, needWeight, needBias) = (isTracked, weight.isTracked, bias?.isTracked ?? false)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.record(shape: [batch, outChannels, outHeight, outWidth], scalars: output, inputs: inputs) { upstream in
            var gradients: [[Float]?] = [nil, nil]
            GEMMRecorder.current?.recordDirect(flops: flops * Double((needInput ? 1 : 0) + (needWeight ? 1 : 0)))
            upstream.withUnsafeBufferPointer { g in
                if needInput {
                    gradients[0] = [Float](unsafeUninitializedCapacity: input.count) { buffer, initialized in
                        weights.withUnsafeBufferPointer { w in
                            Parallel.forEachChunk(of: batch, minimumWork: work, grain: 1 << 16) { chunk in
                                vae_conv_direct_input_gradient(chunk.lowerBound, chunk.upperBound, inChannels, height,
                                                               width, outChannels, kh, kw, padding, g.baseAddress!,
                                                               w.baseAddress!, buffer.baseAddress!)
                            }
                        }
                        initialized = input.count
                    }
                }
                if needWeight {
                    gradients[1] = [Float](unsafeUninitializedCapacity: weights.count) { buffer, initialized in
                        input.withUnsafeBufferPointer { x in
                            Parallel.forEachChunk(of: outChannels * inChannels, minimumWork: batch * kh * kw * plane,
                                                  grain: 1 << 16) { chunk in
                                vae_conv_direct_weight_gradient(chunk.lowerBound, chunk.upperBound, batch, inChannels,
                                                                height, width, outChannels, kh, kw, padding,
                                                                g.baseAddress!, x.baseAddress!, buffer.baseAddress!)
                            }
                        }
                        initialized = weights.count
                    }
                }
            }
            if bias != nil {
                gradients.append(needBias ? Tensor.channelSums(upstream, batch: batch, channels: outChannels, plane: plane) : nil)
            }
            return gradients
        }
    }
}
