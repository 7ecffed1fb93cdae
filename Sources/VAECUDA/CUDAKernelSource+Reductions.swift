extension CUDAKernelSource {
    /// Reductions along an axis and over a whole array; the cross-entropy losses.
    static let reductions = #"""
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

// Sets flag[0] to 1 when an element of one of up to 8 buffers is NaN or ±∞ (x − x is then NaN, not 0); flag is 0
// before. Threads that find one write the same value, so no atomics are needed. A step's gradients in a few
// launches and one value read back.

extern "C" __global__ void vae_flag_nonfinite(VaeBuffers b, float *flag) {
    for (int j = 0; j < b.n; j++) {
        const float *__restrict__ x = b.data[j];
        VAE_LOOP(i, b.count[j]) {
            if (!(x[i] - x[i] == 0.0f)) flag[0] = 1.0f;
        }
    }
}

// Σ x in a fixed tree: each 256-thread block writes the sum of its grid-stride share to partial[block]; run again
// on the partial sums with one block for the total.
extern "C" __global__ void vae_sum_all(long long n, const float *__restrict__ x, float *__restrict__ partial) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    float total = 0.0f;
    VAE_LOOP(i, n) total += x[i];
    float blockTotal = vae_block_sum(total, lanes);
    if (threadIdx.x == 0) partial[blockIdx.x] = blockTotal;
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
        float rowTotal = vae_block_sum(total, lanes);
        if (threadIdx.x == 0) sums[row] = rowTotal;
    }
}

// Per row of `width`: Σ factor·(((x − μ)²·scale + logVariance) + logTwoPi), the terms in the order the host's
// operators take them: a Gaussian log-density with one fixed variance (scale = e^(−log σ²), factor −½, or ½ for its
// negation) or, with logVariances non-null, a log-variance v per element (a posterior's; scale e^(−v) as vae_exp
// computes it); one block per row.
extern "C" __global__ void vae_gaussian_row_log_density(long long rows, long long width, const float *__restrict__ x,
                                                        const float *__restrict__ mean, float scale, float logVariance,
                                                        const float *__restrict__ logVariances, float logTwoPi,
                                                        float factor, float *__restrict__ sums) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        float total = 0.0f;
        for (long long j = threadIdx.x; j < width; j += blockDim.x) {
            long long i = row * width + j;
            float d = x[i] - mean[i];
            float v = logVariances ? logVariances[i] : logVariance, s = logVariances ? expf(-v) : scale;
            total += ((d * d * s + v) + logTwoPi) * factor;
        }
        float rowTotal = vae_block_sum(total, lanes);
        if (threadIdx.x == 0) sums[row] = rowTotal;
    }
}

// The mean's gradient of vae_gaussian_row_log_density: dμ = g_row·(x − μ)·slope, slope = −2·factor·scale.
extern "C" __global__ void vae_gaussian_row_log_density_gradient(long long n, long long width, const float *__restrict__ g,
                                                                 const float *__restrict__ x, const float *__restrict__ mean,
                                                                 float slope, float *__restrict__ dm) {
    VAE_LOOP(i, n) dm[i] = g[i / width] * ((x[i] - mean[i]) * slope);
}

// The gradients of a log-density with a log-variance per element from g (one value per row): the mean's g·(x − μ)·e^(−v)·(−2·factor), the value's the negation,
// the log-variance's g·factor·(1 − (x − μ)²·e^(−v)).
extern "C" __global__ void vae_gaussian_row_log_density_varying_gradient(long long n, long long width,
                                                                         const float *__restrict__ g,
                                                                         const float *__restrict__ x,
                                                                         const float *__restrict__ mean,
                                                                         const float *__restrict__ logVariance,
                                                                         float factor, float *__restrict__ dx,
                                                                         float *__restrict__ dm, float *__restrict__ dv) {
    VAE_LOOP(i, n) {
        float d = x[i] - mean[i], scale = expf(-logVariance[i]), gi = g[i / width];
        float forMean = gi * (d * scale * (-2.0f * factor));
        dx[i] = -forMean;
        dm[i] = forMean;
        dv[i] = gi * (factor * (1.0f - d * d * scale));
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
// label (padding) gives loss 0 and no gradient. One block per row (a vocabulary is wide): the row's maximum and
// its sum of exponentials are block reductions in a fixed tree.
extern "C" __global__ void vae_softmax_cross_entropy(long long rows, long long width, const float *__restrict__ logits,
                                                     const long long *__restrict__ labels, float *__restrict__ losses,
                                                     float *__restrict__ softmax) {
    VAE_REQUIRE_REDUCTION_BLOCK();
    __shared__ float lanes[VAE_REDUCTION_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float *x = logits + row * width;
        float *p = softmax + row * width;
        long long label = labels[row];
        if (label < 0) {
            for (long long j = threadIdx.x; j < width; j += blockDim.x) p[j] = 0.0f;
            if (threadIdx.x == 0) losses[row] = 0.0f;
            continue;
        }
        float largest = x[0];
        for (long long j = threadIdx.x; j < width; j += blockDim.x) largest = fmaxf(largest, x[j]);
        largest = vae_block_max(largest, lanes);
        float total = 0.0f;
        for (long long j = threadIdx.x; j < width; j += blockDim.x) total += vae_vexp(x[j] - largest);
        float logTotal = logf(vae_block_sum(total, lanes));
        for (long long j = threadIdx.x; j < width; j += blockDim.x) p[j] = vae_vexp(x[j] - largest - logTotal);
        if (threadIdx.x == 0) losses[row] = largest + logTotal - x[label];
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
"""#
}
