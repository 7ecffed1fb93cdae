extension CUDAKernelSource {
    /// Elementwise ops and their derivatives; broadcasting arithmetic.
    static let elementwise = #"""
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

// y = x·keep + (update·weight)·scale: a running average moved toward a batch statistic (Tensor.movingAverage).
extern "C" __global__ void vae_moving_average(long long n, const float *__restrict__ x, const float *__restrict__ update,
                                              float keep, float weight, float scale, float *__restrict__ y) {
    VAE_LOOP(i, n) y[i] = x[i] * keep + update[i] * weight * scale;
}

// The Gaussian latent's two chains (Tensor.reparameterizedSample, Tensor.standardNormalKL), each the CPU's operators
// in their order: z = μ + exp(v·½)·ε, its log-variance gradient ((g·ε)·exp(v·½))·½; the KL ((μ² + eᵛ) − v − 1)·½ and
// its gradients 2·(g·½)·μ and (g·½)·eᵛ − g·½.
extern "C" __global__ void vae_reparameterized_sample(long long n, const float *__restrict__ mean,
                                                      const float *__restrict__ logVariance,
                                                      const float *__restrict__ noise, float *__restrict__ z) {
    VAE_LOOP(i, n) z[i] = mean[i] + expf(logVariance[i] * 0.5f) * noise[i];
}
extern "C" __global__ void vae_reparameterized_sample_gradient(long long n, const float *__restrict__ g,
                                                               const float *__restrict__ logVariance,
                                                               const float *__restrict__ noise, float *__restrict__ dv) {
    VAE_LOOP(i, n) dv[i] = g[i] * noise[i] * expf(logVariance[i] * 0.5f) * 0.5f;
}
extern "C" __global__ void vae_standard_normal_kl(long long n, const float *__restrict__ mean,
                                                  const float *__restrict__ logVariance, float *__restrict__ kl) {
    VAE_LOOP(i, n) { float m = mean[i], v = logVariance[i]; kl[i] = (m * m + expf(v) - v - 1.0f) * 0.5f; }
}
extern "C" __global__ void vae_standard_normal_kl_gradient(long long n, const float *__restrict__ g,
                                                           const float *__restrict__ mean,
                                                           const float *__restrict__ logVariance,
                                                           float *__restrict__ dm, float *__restrict__ dv) {
    VAE_LOOP(i, n) { float h = g[i] * 0.5f; dm[i] = 2.0f * h * mean[i]; dv[i] = h * expf(logVariance[i]) - h; }
}

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

// The offsets into a and b of output element i.
__device__ __forceinline__ void vae_broadcast_offsets(const VaeBroadcast &s, long long i, long long *ia, long long *ib) {
    long long rest = i;
    *ia = 0;
    *ib = 0;
    for (int d = s.rank - 1; d >= 0; d--) {
        long long c = rest % s.size[d];
        rest /= s.size[d];
        *ia += c * s.strideA[d];
        *ib += c * s.strideB[d];
    }
}

#define VAE_BINARY(name, expression)                                                                 \
extern "C" __global__ void name(long long n, VaeBroadcast s, const float *__restrict__ a,              \
                                const float *__restrict__ b, float *__restrict__ y) {                 \
    VAE_LOOP(i, n) {                                                                                 \
        long long ia, ib;                                                                            \
        vae_broadcast_offsets(s, i, &ia, &ib);                                                       \
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
        long long ia, ib;
        vae_broadcast_offsets(s, i, &ia, &ib);
        float v = b[ib];
        y[i] = -g[i] * a[ia] / (v * v);
    }
}
"""#
}
