/// The CUDA C of the CUDA backend's own kernels (GEMMs go to cuBLAS): one `extern "C"` kernel per primitive that
/// the CPU backend computes in loops — elementwise ops and their derivatives, broadcasting arithmetic, reductions,
/// the losses, Adam, im2col/col2im, batch normalisation, layout copies, gathers and Philox random numbers —
/// compiled at run time by ``NVRTC`` for the card's architecture (and cached, ``KernelCache``). ``CUDAOpTable``
/// maps every op of VAETensor and every CKernels loop to the kernels here.
///
/// Conventions: sizes are `long long`; elementwise kernels run grid-stride loops, so any launch shape covers any
/// size; the block reductions need blocks of ``reductionThreads``; reductions sum in a fixed order (one thread per output walks its axis in order; whole-array sums use a
/// fixed tree of 256-thread blocks), so a GPU result is the same on every run. Compiled with `--fmad=false`
/// (``NVRTC/options``), so products and sums round as written, as the CPU's C kernels do; the transcendental
/// functions are CUDA's (results agree with the CPU within a few ulps, not bit for bit). The exponential of the
/// fused losses is VAETensor's polynomial (`vae_vexp`), as in CKernels.
public enum CUDAKernelSource {
    public static let name = "vaekit_kernels.cu"
    /// Threads per block of the block reductions (`vae_sum_all`, `vae_cross_entropy_row_sums`, the batch norm
    /// kernels): they stop (`__trap`) with any other block size.
    public static let reductionThreads = 256

    public static let text = #"""
// VAEKit CUDA kernels (see CUDAKernelSource.swift). Compiled by NVRTC with --fmad=false.
#define VAE_LOOP(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                            i += (long long)blockDim.x * gridDim.x)
#define VAE_MAX_RANK 8
// The block reductions (vae_sum_all, vae_cross_entropy_row_sums, batch normalisation) run blocks of exactly this
// many threads (CUDAKernelSource.reductionThreads); another block size stops the kernel rather than sum wrongly.
#define VAE_REDUCTION_THREADS 256
#define VAE_REQUIRE_REDUCTION_BLOCK() if (blockDim.x != VAE_REDUCTION_THREADS) __trap()

// VAETensor's VectorMath.exp (Cody–Waite reduction, Cephes' expf polynomial, inputs clamped to [-87, 88]).
__device__ __forceinline__ float vae_vexp(float input) {
    float low = input < -87.0f ? -87.0f : input;
    float x = low > 88.0f ? 88.0f : low;
    const float shifter = 12582912.0f;
    float shifted = x * 1.44269504f + shifter;
    float n = shifted - shifter;
    float r = x - n * 0.693359375f;
    r = r - n * -2.1219444e-4f;
    float p = 1.9875691e-4f;
    p = p * r + 1.3981999e-3f;
    p = p * r + 8.333452e-3f;
    p = p * r + 4.1665796e-2f;
    p = p * r + 1.6666665e-1f;
    p = p * r + 5.0000001e-1f;
    float er = p * (r * r) + r + 1.0f;
    int scale = (__float_as_int(shifted) - 0x4B400000 + 127) << 23;
    return er * __int_as_float(scale);
}

__device__ __forceinline__ float vae_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

__device__ __forceinline__ float vae_softplus(float x) {
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

// ---- Elementwise: y = f(x; p), and dx = g · f'(x) (from x, y and p). ----
#define VAE_UNARY(name, expression)                                                                  \
extern "C" __global__ void name(long long n, const float *__restrict__ x, float *__restrict__ y, float p) { \
    VAE_LOOP(i, n) { float v = x[i]; y[i] = (expression); }                                          \
}
#define VAE_UNARY_GRADIENT(name, expression)                                                         \
extern "C" __global__ void name(long long n, const float *__restrict__ g, const float *__restrict__ x,     \
                                const float *__restrict__ y, float *__restrict__ dx, float p) {            \
    VAE_LOOP(i, n) { float gi = g[i], v = x[i], out = y[i]; (void)v; (void)out; dx[i] = (expression); }  \
}

VAE_UNARY(vae_negate, -v)
VAE_UNARY(vae_exp, expf(v))
VAE_UNARY(vae_log, logf(v))
VAE_UNARY(vae_sqrt, sqrtf(v))
VAE_UNARY(vae_square, v * v)
VAE_UNARY(vae_pow, powf(v, p))
VAE_UNARY(vae_relu, v > 0.0f ? v : 0.0f)
VAE_UNARY(vae_leaky_relu, v > 0.0f ? v : p * v)
VAE_UNARY(vae_sigmoid_forward, vae_sigmoid(v))
VAE_UNARY(vae_tanh, tanhf(v))
VAE_UNARY(vae_softplus_forward, vae_softplus(v))
VAE_UNARY(vae_add_scalar, v + p)
VAE_UNARY(vae_multiply_scalar, v * p)
VAE_UNARY(vae_subtract_from_scalar, p - v)

VAE_UNARY_GRADIENT(vae_negate_gradient, -gi)
VAE_UNARY_GRADIENT(vae_exp_gradient, gi * out)
VAE_UNARY_GRADIENT(vae_log_gradient, gi / v)
VAE_UNARY_GRADIENT(vae_sqrt_gradient, gi * 0.5f / out)
VAE_UNARY_GRADIENT(vae_square_gradient, 2.0f * gi * v)
VAE_UNARY_GRADIENT(vae_pow_gradient, gi * p * powf(v, p - 1.0f))
VAE_UNARY_GRADIENT(vae_relu_gradient, v > 0.0f ? gi : 0.0f)
VAE_UNARY_GRADIENT(vae_leaky_relu_gradient, v > 0.0f ? gi : p * gi)
VAE_UNARY_GRADIENT(vae_sigmoid_gradient, gi * out * (1.0f - out))
VAE_UNARY_GRADIENT(vae_tanh_gradient, gi * (1.0f - out * out))
VAE_UNARY_GRADIENT(vae_softplus_gradient, gi * vae_sigmoid(v))
VAE_UNARY_GRADIENT(vae_scale_gradient, gi * p)

extern "C" __global__ void vae_fill(long long n, float *__restrict__ y, float value) {
    VAE_LOOP(i, n) y[i] = value;
}

// y += x (gradient accumulation on the tape).
extern "C" __global__ void vae_add_in_place(long long n, float *__restrict__ y, const float *__restrict__ x) {
    VAE_LOOP(i, n) y[i] += x[i];
}

// ---- Broadcasting arithmetic: the output's size per axis, and each input's stride per axis (0 where it is
// broadcast); a gradient is reduced back to an input's shape with vae_sum_axis. ----
struct VaeBroadcast {
    long long size[VAE_MAX_RANK];
    long long strideA[VAE_MAX_RANK];
    long long strideB[VAE_MAX_RANK];
    int rank;
};

#define VAE_BINARY(name, expression)                                                                 \
extern "C" __global__ void name(long long n, VaeBroadcast s, const float *__restrict__ a,              \
                                const float *__restrict__ b, float *__restrict__ y) {                 \
    VAE_LOOP(i, n) {                                                                                 \
        long long rest = i, ia = 0, ib = 0;                                                          \
        for (int d = s.rank - 1; d >= 0; d--) {                                                      \
            long long c = rest % s.size[d];                                                          \
            rest /= s.size[d];                                                                       \
            ia += c * s.strideA[d];                                                                  \
            ib += c * s.strideB[d];                                                                  \
        }                                                                                            \
        float u = a[ia], v = b[ib];                                                                  \
        y[i] = (expression);                                                                         \
    }                                                                                                \
}

VAE_BINARY(vae_add, u + v)
VAE_BINARY(vae_subtract, u - v)
VAE_BINARY(vae_multiply, u * v)
VAE_BINARY(vae_divide, u / v)
// The gradient of a / b for b before the reduction to b's shape: −g·a / (b·b), g dense in the output's shape.
extern "C" __global__ void vae_divide_denominator_gradient(long long n, VaeBroadcast s, const float *__restrict__ g,
                                                           const float *__restrict__ a, const float *__restrict__ b,
                                                           float *__restrict__ y) {
    VAE_LOOP(i, n) {
        long long rest = i, ia = 0, ib = 0;
        for (int d = s.rank - 1; d >= 0; d--) {
            long long c = rest % s.size[d];
            rest /= s.size[d];
            ia += c * s.strideA[d];
            ib += c * s.strideB[d];
        }
        float v = b[ib];
        y[i] = -g[i] * a[ia] / (v * v);
    }
}

// ---- Reductions over one axis of a tensor seen as [outer, length, inner]: one thread per output, in order. ----
extern "C" __global__ void vae_sum_axis(long long outer, long long length, long long inner,
                                        const float *__restrict__ x, float *__restrict__ y) {
    VAE_LOOP(o, outer * inner) {
        long long first = (o / inner) * length * inner + o % inner;
        float total = 0.0f;
        for (long long l = 0; l < length; l++) total += x[first + l * inner];
        y[o] = total;
    }
}

// The largest value per output and its position along the axis (the first one, on ties).
extern "C" __global__ void vae_max_axis(long long outer, long long length, long long inner,
                                        const float *__restrict__ x, float *__restrict__ y, long long *__restrict__ at) {
    VAE_LOOP(o, outer * inner) {
        long long first = (o / inner) * length * inner + o % inner;
        float best = x[first];
        long long where = 0;
        for (long long l = 1; l < length; l++) {
            float v = x[first + l * inner];
            if (v > best) { best = v; where = l; }
        }
        y[o] = best;
        at[o] = where;
    }
}

// dx = g at each output's position of the maximum, 0 elsewhere (dx filled with 0 first).
extern "C" __global__ void vae_max_axis_gradient(long long outer, long long length, long long inner,
                                                 const float *__restrict__ g, const long long *__restrict__ at,
                                                 float *__restrict__ dx) {
    VAE_LOOP(o, outer * inner) {
        long long first = (o / inner) * length * inner + o % inner;
        dx[first + at[o] * inner] = g[o];
    }
}

// log Σ exp along the axis, as max + log Σ exp(x − max).
extern "C" __global__ void vae_log_sum_exp_axis(long long outer, long long length, long long inner,
                                                const float *__restrict__ x, float *__restrict__ y) {
    VAE_LOOP(o, outer * inner) {
        long long first = (o / inner) * length * inner + o % inner;
        float largest = x[first];
        for (long long l = 1; l < length; l++) largest = fmaxf(largest, x[first + l * inner]);
        float total = 0.0f;
        for (long long l = 0; l < length; l++) total += vae_vexp(x[first + l * inner] - largest);
        y[o] = largest + logf(total);
    }
}

// The gradient of log Σ exp: dx = g · exp(x − y), y the forward result (a softmax scaled by g).
extern "C" __global__ void vae_softmax_axis_gradient(long long outer, long long length, long long inner,
                                                     const float *__restrict__ g, const float *__restrict__ x,
                                                     const float *__restrict__ y, float *__restrict__ dx) {
    VAE_LOOP(i, outer * length * inner) {
        long long o = (i / (length * inner)) * inner + i % inner;
        dx[i] = g[o] * vae_vexp(x[i] - y[o]);
    }
}

// Σ x in a fixed tree: each 256-thread block writes the sum of its grid-stride share to partial[block]; run again
// on the partial sums with one block for the total.
extern "C" __global__ void vae_sum_all(long long n, const float *__restrict__ x, float *__restrict__ partial) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    float total = 0.0f;
    VAE_LOOP(i, n) total += x[i];
    lanes[threadIdx.x] = total;
    __syncthreads();
    for (int width = 128; width > 0; width >>= 1) {
        if (threadIdx.x < width) lanes[threadIdx.x] += lanes[threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = lanes[0];
}

// ---- Losses. ----
// Per row of `width`: Σ max(x, 0) − x·t + log(1 + e^−|x|) (binary cross-entropy with logits); one block per row.
// With `sigmoids` non-null, sigmoid(x) is stored there for the gradient.
extern "C" __global__ void vae_cross_entropy_row_sums(long long rows, long long width, const float *__restrict__ logits,
                                                      const float *__restrict__ targets, float *__restrict__ sums,
                                                      float *__restrict__ sigmoids) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        float total = 0.0f;
        for (long long j = threadIdx.x; j < width; j += blockDim.x) {
            long long i = row * width + j;
            float x = logits[i];
            float e = vae_vexp(-fabsf(x));
            total += fmaxf(x, 0.0f) - x * targets[i] + log1pf(e);
            if (sigmoids) sigmoids[i] = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        }
        lanes[threadIdx.x] = total;
        __syncthreads();
        for (int half = 128; half > 0; half >>= 1) {
            if (threadIdx.x < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
            __syncthreads();
        }
        if (threadIdx.x == 0) sums[row] = lanes[0];
        __syncthreads();
    }
}

// Elementwise binary cross-entropy with logits.
extern "C" __global__ void vae_cross_entropy(long long n, const float *__restrict__ logits,
                                             const float *__restrict__ targets, float *__restrict__ y) {
    VAE_LOOP(i, n) {
        float x = logits[i];
        y[i] = fmaxf(x, 0.0f) - x * targets[i] + log1pf(vae_vexp(-fabsf(x)));
    }
}

// dx = g · (sigmoid(x) − t), g one value per row of `width` (perRow 1) or per element (perRow 0).
extern "C" __global__ void vae_cross_entropy_gradient(long long n, long long width, int perRow, const float *__restrict__ g,
                                                      const float *__restrict__ sigmoids, const float *__restrict__ targets,
                                                      float *__restrict__ dx) {
    VAE_LOOP(i, n) dx[i] = g[perRow ? i / width : i] * (sigmoids[i] - targets[i]);
}

// Softmax cross-entropy per row: loss = log Σ exp(x) − x[label]; the softmax is kept for the gradient. A negative
// label (padding) gives loss 0 and no gradient.
extern "C" __global__ void vae_softmax_cross_entropy(long long rows, long long width, const float *__restrict__ logits,
                                                     const long long *__restrict__ labels, float *__restrict__ losses,
                                                     float *__restrict__ softmax) {
    VAE_LOOP(row, rows) {
        const float *x = logits + row * width;
        if (labels[row] < 0) {
            losses[row] = 0.0f;
            for (long long j = 0; j < width; j++) softmax[row * width + j] = 0.0f;
            continue;
        }
        float largest = x[0];
        for (long long j = 1; j < width; j++) largest = fmaxf(largest, x[j]);
        float total = 0.0f;
        for (long long j = 0; j < width; j++) total += vae_vexp(x[j] - largest);
        float logTotal = logf(total);
        losses[row] = largest + logTotal - x[labels[row]];
        for (long long j = 0; j < width; j++) softmax[row * width + j] = vae_vexp(x[j] - largest - logTotal);
    }
}

// dx = g_row · (softmax − one-hot(label)).
extern "C" __global__ void vae_softmax_cross_entropy_gradient(long long rows, long long width, const float *__restrict__ g,
                                                              const float *__restrict__ softmax,
                                                              const long long *__restrict__ labels, float *__restrict__ dx) {
    VAE_LOOP(i, rows * width) {
        long long row = i / width;
        dx[i] = labels[row] < 0 ? 0.0f : g[row] * (softmax[i] - (i % width == labels[row] ? 1.0f : 0.0f));
    }
}

// ---- Optimisers (PyTorch's order of operations, as CKernels' vae_adam_update and VAEOptimizers). ----
extern "C" __global__ void vae_adam_update(long long count, float *__restrict__ weights, const float *__restrict__ gradient,
                                           const float *__restrict__ addend, float *__restrict__ first,
                                           float *__restrict__ second, float beta1, float beta2, float epsilon,
                                           float stepSize, float rootCorrection2, float coupledDecay, float shrink) {
    VAE_LOOP(i, count) {
        float grad = (addend ? gradient[i] + addend[i] : gradient[i]) + coupledDecay * weights[i];
        float m = beta1 * first[i] + (1.0f - beta1) * grad;
        float v = beta2 * second[i] + (1.0f - beta2) * grad * grad;
        float denominator = sqrtf(v) / rootCorrection2 + epsilon;
        first[i] = m;
        second[i] = v;
        weights[i] = weights[i] * shrink - stepSize * m / denominator;
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
// adds bias[c] when `bias` is non-null. No atomics: the result is the same on every run.
extern "C" __global__ void vae_col2im(long long batch, long long channels, long long height, long long width,
                                      long long kernelHeight, long long kernelWidth, long long stride, long long padding,
                                      long long outHeight, long long outWidth, const float *__restrict__ columns,
                                      const float *__restrict__ bias, float *__restrict__ image) {
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
        image[i] = bias ? total + bias[c] : total;
    }
}

// y[n, c, …] += bias[c] over planes of `plane` elements (a convolution's or a linear layer's bias; plane 1).
extern "C" __global__ void vae_add_channel_bias(long long batch, long long channels, long long plane,
                                                const float *__restrict__ bias, float *__restrict__ y) {
    VAE_LOOP(i, batch * channels * plane) y[i] += bias[(i / plane) % channels];
}

// Σ over batch and plane per channel (a bias's gradient), in order.
extern "C" __global__ void vae_channel_sums(long long batch, long long channels, long long plane,
                                            const float *__restrict__ x, float *__restrict__ y) {
    VAE_LOOP(c, channels) {
        float total = 0.0f;
        for (long long n = 0; n < batch; n++)
            for (long long p = 0; p < plane; p++) total += x[(n * channels + c) * plane + p];
        y[c] = total;
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
__device__ float vae_block_sum(float value, float *lanes) {
    lanes[threadIdx.x] = value;
    __syncthreads();
    for (int half = 128; half > 0; half >>= 1) {
        if (threadIdx.x < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
        __syncthreads();
    }
    float total = lanes[0];
    __syncthreads();
    return total;
}

extern "C" __global__ void vae_batch_norm_forward(long long batch, long long channels, long long plane,
                                                  const float *__restrict__ x, const float *__restrict__ gamma,
                                                  const float *__restrict__ beta, float epsilon, float slope,
                                                  float *__restrict__ y, float *__restrict__ mean,
                                                  float *__restrict__ variance) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    long long count = batch * plane;
    for (long long c = blockIdx.x; c < channels; c += gridDim.x) {
        float total = 0.0f;
        for (long long k = threadIdx.x; k < count; k += blockDim.x) total += x[((k / plane) * channels + c) * plane + k % plane];
        float m = vae_block_sum(total, lanes) / (float)count;
        float squares = 0.0f;
        for (long long k = threadIdx.x; k < count; k += blockDim.x) {
            float d = x[((k / plane) * channels + c) * plane + k % plane] - m;
            squares += d * d;
        }
        float v = vae_block_sum(squares, lanes) / (float)count;
        float scale = gamma[c] / sqrtf(v + epsilon);
        for (long long k = threadIdx.x; k < count; k += blockDim.x) {
            long long i = ((k / plane) * channels + c) * plane + k % plane;
            float out = (x[i] - m) * scale + beta[c];
            y[i] = out > 0.0f ? out : slope * out;
        }
        if (threadIdx.x == 0) { mean[c] = m; variance[c] = v; }
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
        for (long long k = threadIdx.x; k < count; k += blockDim.x) {
            long long i = ((k / plane) * channels + c) * plane + k % plane;
            float gi = y[i] > 0.0f ? g[i] : slope * g[i];
            sumG += gi;
            sumGX += gi * (x[i] - mean[c]) * inverse;
        }
        sumG = vae_block_sum(sumG, lanes);
        sumGX = vae_block_sum(sumGX, lanes);
        if (threadIdx.x == 0) { dbeta[c] = sumG; dgamma[c] = sumGX; }
        if (dx) {
            float meanG = sumG / (float)count, meanGX = sumGX / (float)count;
            for (long long k = threadIdx.x; k < count; k += blockDim.x) {
                long long i = ((k / plane) * channels + c) * plane + k % plane;
                float gi = y[i] > 0.0f ? g[i] : slope * g[i];
                float normalised = (x[i] - mean[c]) * inverse;
                dx[i] = gamma[c] * inverse * (gi - meanG - normalised * meanGX);
            }
        }
    }
}

// ---- Layout: permutations and slices (a strided copy), concatenation (block copies), gathers. ----
// y[i] = x[offset + Σ_d coordinate_d(i) · stride_d]: transposes (strides permuted) and slices (offset, sizes).
struct VaeLayout {
    long long size[VAE_MAX_RANK];
    long long stride[VAE_MAX_RANK];
    long long offset;
    int rank;
};

extern "C" __global__ void vae_strided_copy(long long n, VaeLayout s, const float *__restrict__ x, float *__restrict__ y) {
    VAE_LOOP(i, n) {
        long long rest = i, at = s.offset;
        for (int d = s.rank - 1; d >= 0; d--) {
            at += (rest % s.size[d]) * s.stride[d];
            rest /= s.size[d];
        }
        y[i] = x[at];
    }
}

// The adjoint of vae_strided_copy for a slice: dx[offset + …] = g (dx filled with 0 first; a slice's elements are distinct).
extern "C" __global__ void vae_strided_scatter(long long n, VaeLayout s, const float *__restrict__ g, float *__restrict__ dx) {
    VAE_LOOP(i, n) {
        long long rest = i, at = s.offset;
        for (int d = s.rank - 1; d >= 0; d--) {
            at += (rest % s.size[d]) * s.stride[d];
            rest /= s.size[d];
        }
        dx[at] = g[i];
    }
}

// Copies [outer, width] from x into columns offset..<offset + width of y ([outer, yWidth]): one piece of a concatenation
// (and, with the roles swapped, of its gradient).
extern "C" __global__ void vae_copy_block(long long outer, long long width, const float *__restrict__ x, long long xWidth,
                                          long long xOffset, float *__restrict__ y, long long yWidth, long long yOffset) {
    VAE_LOOP(i, outer * width) {
        long long o = i / width, j = i % width;
        y[o * yWidth + yOffset + j] = x[o * xWidth + xOffset + j];
    }
}

// y[o, k, j] = x[o, indices[k], j] for x [outer, length, inner] and `count` indices.
extern "C" __global__ void vae_gather(long long outer, long long length, long long inner, long long count,
                                      const long long *__restrict__ indices, const float *__restrict__ x, float *__restrict__ y) {
    VAE_LOOP(i, outer * count * inner) {
        long long j = i % inner, k = (i / inner) % count, o = i / (inner * count);
        y[i] = x[(o * length + indices[k]) * inner + j];
    }
}

// The gradient of vae_gather: dx[o, r, j] = Σ over k with indices[k] = r of g[o, k, j], in order of k (no atomics).
extern "C" __global__ void vae_gather_gradient(long long outer, long long length, long long inner, long long count,
                                               const long long *__restrict__ indices, const float *__restrict__ g,
                                               float *__restrict__ dx) {
    VAE_LOOP(i, outer * length * inner) {
        long long j = i % inner, r = (i / inner) % length, o = i / (inner * length);
        float total = 0.0f;
        for (long long k = 0; k < count; k++) if (indices[k] == r) total += g[(o * count + k) * inner + j];
        dx[i] = total;
    }
}

// ---- Random numbers: VAETensor's RandomStream (Philox4x32-10 keyed by the seed; counter = block number, stream
// identifier). Values first..<first + n of a draw that starts at block `start`; uniform values are the CPU's
// bit for bit, normal ones (Box–Muller) within the transcendental functions' ulps. ----
__device__ __forceinline__ void vae_philox(unsigned int c[4], unsigned int k0, unsigned int k1) {
    for (int round = 0; round < 10; round++) {
        unsigned long long product0 = 0xD2511F53ull * (unsigned long long)c[0];
        unsigned long long product1 = 0xCD9E8D57ull * (unsigned long long)c[2];
        unsigned int hi0 = (unsigned int)(product0 >> 32), lo0 = (unsigned int)product0;
        unsigned int hi1 = (unsigned int)(product1 >> 32), lo1 = (unsigned int)product1;
        unsigned int n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

__device__ __forceinline__ float vae_unit(unsigned int word) {
    float value = ((float)(word >> 8) + 0.5f) * (1.0f / 16777216.0f);
    return fminf(value, 0.99999994f);
}

extern "C" __global__ void vae_random(long long n, long long first, unsigned long long start, unsigned long long seed,
                                      unsigned long long stream, int normal, float *__restrict__ y) {
    VAE_LOOP(i, n) {
        long long value = first + i;
        unsigned long long block = start + (unsigned long long)(value / 4);
        unsigned int c[4] = {(unsigned int)block, (unsigned int)(block >> 32), (unsigned int)stream, (unsigned int)(stream >> 32)};
        vae_philox(c, (unsigned int)seed, (unsigned int)(seed >> 32));
        int lane = (int)(value % 4);
        if (!normal) {
            y[i] = vae_unit(c[lane]);
        } else {
            int pair = lane / 2;
            float radius = sqrtf(-2.0f * logf(vae_unit(c[2 * pair])));
            float angle = 2.0f * 3.14159265f * vae_unit(c[2 * pair + 1]);
            y[i] = lane % 2 == 0 ? radius * cosf(angle) : radius * sinf(angle);
        }
    }
}
"""#
}
