extension CUDAKernelSource {
    /// Optimiser updates, im2col/col2im and the channel bias around the GEMMs, upsampling, batch normalisation.
    static let training = #"""
// ---- Optimisers (PyTorch's order of operations, as CKernels' vae_adam_update and VAEOptimizers). ----
// Up to 8 parameters per launch (a step's parameters in a few launches, not one each); addend[j] may be null.
struct VaeAdamBuffers {
    long long count[8];
    float *weights[8];
    const float *gradient[8];
    const float *addend[8];
    float *first[8];
    float *second[8];
    int n;
};

extern "C" __global__ void vae_adam_update(VaeAdamBuffers b, float beta1, float beta2, float epsilon, float stepSize,
                                           float rootCorrection2, float coupledDecay, float shrink) {
    for (int j = 0; j < b.n; j++) {
        float *__restrict__ weights = b.weights[j], *__restrict__ first = b.first[j], *__restrict__ second = b.second[j];
        const float *__restrict__ gradient = b.gradient[j], *__restrict__ addend = b.addend[j];
        VAE_LOOP(i, b.count[j]) {
            float grad = (addend ? gradient[i] + addend[i] : gradient[i]) + coupledDecay * weights[i];
            float m = beta1 * first[i] + (1.0f - beta1) * grad;
            float v = beta2 * second[i] + (1.0f - beta2) * grad * grad;
            float denominator = sqrtf(v) / rootCorrection2 + epsilon;
            first[i] = m;
            second[i] = v;
            weights[i] = weights[i] * shrink - stepSize * m / denominator;
        }
    }
}

// SGD with momentum (PyTorch's: buffer = momentum·buffer + g; w −= lr·buffer) and weight decay.
extern "C" __global__ void vae_sgd_update(long long count, float *__restrict__ weights, const float *__restrict__ gradient,
                                          float *__restrict__ velocity, float learningRate, float momentum, float decay) {
    VAE_LOOP(i, count) {
        float grad = gradient[i] + decay * weights[i];
        float buffer = velocity ? momentum * velocity[i] + grad : grad;
        if (velocity) velocity[i] = buffer;
        weights[i] = weights[i] - learningRate * buffer;
    }
}

// Adagrad (PyTorch's: sum += g²; w −= lr · g / (√sum + ε)).
extern "C" __global__ void vae_adagrad_update(long long count, float *__restrict__ weights, const float *__restrict__ gradient,
                                              float *__restrict__ sums, float learningRate, float epsilon, float decay) {
    VAE_LOOP(i, count) {
        float grad = gradient[i] + decay * weights[i];
        float total = sums[i] + grad * grad;
        sums[i] = total;
        weights[i] = weights[i] - learningRate * grad / (sqrtf(total) + epsilon);
    }
}

// ---- Convolution: im2col/col2im around cuBLAS GEMMs (NCHW images, OIHW weights). ----
// columns[(c·kh + ky)·kw + kx, (n·oh + oy)·ow + ox] = input[n, c, oy·stride − padding + ky, ox·stride − padding + kx].
extern "C" __global__ void vae_im2col(long long batch, long long channels, long long height, long long width,
                                      long long kernelHeight, long long kernelWidth, long long stride, long long padding,
                                      long long outHeight, long long outWidth, const float *__restrict__ input,
                                      float *__restrict__ columns) {
    long long columnsWide = batch * outHeight * outWidth;
    VAE_LOOP(i, channels * kernelHeight * kernelWidth * columnsWide) {
        long long row = i / columnsWide, column = i % columnsWide;
        long long c = row / (kernelHeight * kernelWidth), ky = (row / kernelWidth) % kernelHeight, kx = row % kernelWidth;
        long long n = column / (outHeight * outWidth), oy = (column / outWidth) % outHeight, ox = column % outWidth;
        long long iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
        columns[i] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
            ? input[((n * channels + c) * height + iy) * width + ix] : 0.0f;
    }
}

// The adjoint of vae_im2col: each image element gathers (in a fixed order) the column entries that read it, then
// adds bias[c] when `bias` is non-null and applies a leaky ReLU of `slope` (1: none; vae_activate). No atomics: the
// result is the same on every run.
extern "C" __global__ void vae_col2im(long long batch, long long channels, long long height, long long width,
                                      long long kernelHeight, long long kernelWidth, long long stride, long long padding,
                                      long long outHeight, long long outWidth, const float *__restrict__ columns,
                                      const float *__restrict__ bias, float slope, float *__restrict__ image) {
    long long columnsWide = batch * outHeight * outWidth;
    VAE_LOOP(i, batch * channels * height * width) {
        long long x = i % width, y = (i / width) % height, c = (i / (width * height)) % channels;
        long long n = i / (width * height * channels);
        float total = 0.0f;
        for (long long ky = 0; ky < kernelHeight; ky++) {
            long long oyStride = y + padding - ky;
            if (oyStride < 0 || oyStride % stride != 0) continue;
            long long oy = oyStride / stride;
            if (oy >= outHeight) continue;
            for (long long kx = 0; kx < kernelWidth; kx++) {
                long long oxStride = x + padding - kx;
                if (oxStride < 0 || oxStride % stride != 0) continue;
                long long ox = oxStride / stride;
                if (ox >= outWidth) continue;
                long long row = (c * kernelHeight + ky) * kernelWidth + kx;
                total += columns[row * columnsWide + (n * outHeight + oy) * outWidth + ox];
            }
        }
        image[i] = vae_activate(bias ? total + bias[c] : total, slope);
    }
}

// y[n, c, p] = act(x + bias[c]) over planes of `plane` elements (a convolution's or a linear layer's bias; plane 1),
// act a leaky ReLU of `slope` (1: none; vae_activate). x is read as y is laid out ([N, C, P]) or, with channelMajor,
// as a product [C, N·P] (a convolution's GEMM, laid out as NCHW in the same pass). bias may be null; y may be x.
extern "C" __global__ void vae_add_channel_bias(long long batch, long long channels, long long plane,
                                                const float *x, int channelMajor, const float *__restrict__ bias,
                                                float slope, float *y) {
    VAE_LOOP(i, batch * channels * plane) {
        long long c = (i / plane) % channels;
        long long from = channelMajor ? c * batch * plane + (i / (plane * channels)) * plane + i % plane : i;
        y[i] = vae_activate(bias ? x[from] + bias[c] : x[from], slope);
    }
}

// Σ over batch and plane per channel (a bias's gradient), in a fixed order: with `tree`, one block per channel
// summing in a fixed tree (for many values per channel: a convolution's); otherwise one thread per channel walking
// its values in order (few per channel: a linear layer's rows, read coalesced across channels). With y (the output
// of a leaky ReLU of `slope`, as vae_add_channel_bias writes it) each value is first passed through the activation's
// gradient. With out, the values summed are also written there: as g is laid out ([N, C, P]) or, with channelMajor,
// as [C, N·P] (the matrix a convolution's weight and input gradients multiply).
extern "C" __global__ void vae_channel_sums(long long batch, long long channels, long long plane,
                                            const float *__restrict__ g, const float *__restrict__ y, float slope,
                                            float *__restrict__ out, int channelMajor, int tree,
                                            float *__restrict__ sums) {
    // No division per value (as vae_channel_walk): here it would sit on each thread's serial chain.
    long long count = batch * plane;
    if (!tree) {
        VAE_LOOP(c, channels) {
            float total = 0.0f;
            for (long long n = 0; n < batch; n++) {
                for (long long p = 0; p < plane; p++) {
                    long long i = (n * channels + c) * plane + p;
                    float v = y ? vae_activation_gradient(g[i], y[i], slope) : g[i];
                    if (out) out[channelMajor ? c * count + n * plane + p : i] = v;
                    total += v;
                }
            }
            sums[c] = total;
        }
        return;
    }
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    for (long long c = blockIdx.x; c < channels; c += gridDim.x) {
        float total = 0.0f;
        VaeChannelWalk w = vae_channel_walk(plane);
        for (long long k = threadIdx.x; k < count; k += VAE_REDUCTION_THREADS, vae_channel_step(&w)) {
            long long i = vae_channel_index(&w, channels, c);
            float v = y ? vae_activation_gradient(g[i], y[i], slope) : g[i];
            if (out) out[channelMajor ? c * count + k : i] = v;
            total += v;
        }
        total = vae_block_sum(total, lanes);
        if (threadIdx.x == 0) sums[c] = total;
    }
}

// Nearest-neighbour upsampling of [images, height, width] by `factor`, and its gradient (the sum of each block).
extern "C" __global__ void vae_upsample_nearest(long long images, long long height, long long width, long long factor,
                                                const float *__restrict__ x, float *__restrict__ y) {
    long long outHeight = height * factor, outWidth = width * factor;
    VAE_LOOP(i, images * outHeight * outWidth) {
        long long ox = i % outWidth, oy = (i / outWidth) % outHeight, image = i / (outWidth * outHeight);
        y[i] = x[(image * height + oy / factor) * width + ox / factor];
    }
}

extern "C" __global__ void vae_upsample_nearest_gradient(long long images, long long height, long long width,
                                                         long long factor, const float *__restrict__ g,
                                                         float *__restrict__ dx) {
    long long outWidth = width * factor;
    VAE_LOOP(i, images * height * width) {
        long long x = i % width, y = (i / width) % height, image = i / (width * height);
        float total = 0.0f;
        for (long long dy = 0; dy < factor; dy++)
            for (long long dxi = 0; dxi < factor; dxi++)
                total += g[((image * height + y) * factor + dy) * outWidth + x * factor + dxi];
        dx[i] = total;
    }
}

// ---- Batch normalisation (training mode), one block per channel, with a fused leaky ReLU (slope 1: none). ----
// With runningMean non-null it also writes the running averages moved toward the batch's statistics, as
// vae_moving_average would: average·keep + (statistic·momentum)·scale, the mean's scale 1 and the variance's
// `correction` (Tensor.batchNormalized(…movingAverages:momentum:)).
extern "C" __global__ void vae_batch_norm_forward(long long batch, long long channels, long long plane,
                                                  const float *__restrict__ x, const float *__restrict__ gamma,
                                                  const float *__restrict__ beta, float epsilon, float slope,
                                                  float *__restrict__ y, float *__restrict__ mean,
                                                  float *__restrict__ variance,
                                                  const float *__restrict__ runningMean,
                                                  const float *__restrict__ runningVariance, float keep,
                                                  float momentum, float correction, float *__restrict__ newMean,
                                                  float *__restrict__ newVariance) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    long long count = batch * plane;
    for (long long c = blockIdx.x; c < channels; c += gridDim.x) {
        float total = 0.0f;
        VaeChannelWalk w = vae_channel_walk(plane);
        for (long long k = threadIdx.x; k < count; k += blockDim.x, vae_channel_step(&w)) total += x[vae_channel_index(&w, channels, c)];
        float m = vae_block_sum(total, lanes) / (float)count;
        float squares = 0.0f;
        w = vae_channel_walk(plane);
        for (long long k = threadIdx.x; k < count; k += blockDim.x, vae_channel_step(&w)) {
            float d = x[vae_channel_index(&w, channels, c)] - m;
            squares += d * d;
        }
        float v = vae_block_sum(squares, lanes) / (float)count;
        float scale = gamma[c] / sqrtf(v + epsilon);
        w = vae_channel_walk(plane);
        for (long long k = threadIdx.x; k < count; k += blockDim.x, vae_channel_step(&w)) {
            long long i = vae_channel_index(&w, channels, c);
            float out = (x[i] - m) * scale + beta[c];
            y[i] = out > 0.0f ? out : slope * out;
        }
        if (threadIdx.x == 0) {
            mean[c] = m;
            variance[c] = v;
            if (runningMean) {
                newMean[c] = runningMean[c] * keep + m * momentum * 1.0f;
                newVariance[c] = runningVariance[c] * keep + v * momentum * correction;
            }
        }
    }
}

extern "C" __global__ void vae_batch_norm_backward(long long batch, long long channels, long long plane,
                                                   const float *__restrict__ g, const float *__restrict__ x,
                                                   const float *__restrict__ y, const float *__restrict__ gamma,
                                                   const float *__restrict__ mean, const float *__restrict__ variance,
                                                   float epsilon, float slope, float *__restrict__ dx,
                                                   float *__restrict__ dgamma, float *__restrict__ dbeta) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    long long count = batch * plane;
    for (long long c = blockIdx.x; c < channels; c += gridDim.x) {
        float inverse = 1.0f / sqrtf(variance[c] + epsilon);
        float sumG = 0.0f, sumGX = 0.0f;
        VaeChannelWalk w = vae_channel_walk(plane);
        for (long long k = threadIdx.x; k < count; k += blockDim.x, vae_channel_step(&w)) {
            long long i = vae_channel_index(&w, channels, c);
            float gi = y[i] > 0.0f ? g[i] : slope * g[i];
            sumG += gi;
            sumGX += gi * (x[i] - mean[c]) * inverse;
        }
        sumG = vae_block_sum(sumG, lanes);
        sumGX = vae_block_sum(sumGX, lanes);
        if (threadIdx.x == 0) { dbeta[c] = sumG; dgamma[c] = sumGX; }
        if (dx) {
            float meanG = sumG / (float)count, meanGX = sumGX / (float)count;
            w = vae_channel_walk(plane);
            for (long long k = threadIdx.x; k < count; k += blockDim.x, vae_channel_step(&w)) {
                long long i = vae_channel_index(&w, channels, c);
                float gi = y[i] > 0.0f ? g[i] : slope * g[i];
                float normalised = (x[i] - mean[c]) * inverse;
                dx[i] = gamma[c] * inverse * (gi - meanG - normalised * meanGX);
            }
        }
    }
}
"""#
}
