/// The CUDA C of the CUDA backend's own kernels (GEMMs go to cuBLAS): one `extern "C"` kernel per primitive that
/// the CPU backend computes in loops — elementwise ops and their derivatives, broadcasting arithmetic, reductions,
/// the losses, Adam, im2col/col2im, batch normalisation, layout copies, gathers, the recurrent cells and Philox
/// random numbers — compiled at run time by ``NVRTC`` for the card's architecture (and cached, ``KernelCache``).
/// ``CUDAOpTable`` maps every op of VAETensor and every CKernels loop to the kernels here.
///
/// Conventions: sizes are `long long`; elementwise kernels run grid-stride loops, so any launch shape covers any
/// size; the block reductions need blocks of ``reductionThreads``. Reductions sum in a fixed order (one thread per
/// output walks its axis in order; whole-array sums and the sums per channel use a fixed tree of 256-thread blocks),
/// so a GPU result is the same on every run. Compiled with `--fmad=false`
/// (``NVRTC/options``), so products and sums round as written, as the CPU's C kernels do; the transcendental
/// functions are CUDA's (results agree with the CPU within a few ulps, not bit for bit). The exponential of the
/// fused losses is VAETensor's polynomial (`vae_vexp`), as in CKernels.
public enum CUDAKernelSource {
    public static let name = "vaekit_kernels.cu"
    /// Threads per block of the block reductions (`vae_sum_all`, `vae_channel_sums`, `vae_cross_entropy_row_sums`, the batch norm
    /// kernels): they stop (`__trap`) with any other block size.
    public static let reductionThreads = 256

    /// The whole source: the shared definitions, then each family's kernels (one file each).
    public static let text = [common, elementwise, reductions, training, layout, recurrent, ordering].joined(separator: "\n\n")

    /// Macros, VAETensor's math (exp polynomial, sigmoid, softplus) and the block sum the reductions share.
    static let common = #"""
// VAEKit CUDA kernels (see CUDAKernelSource.swift). Compiled by NVRTC with --fmad=false.
#define VAE_LOOP(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                            i += (long long)blockDim.x * gridDim.x)
#define VAE_MAX_RANK 8
// Up to 8 buffers of a kernel that works on several at once (KernelArgument.packed([counts, addresses])).
struct VaeBuffers {
    long long count[8];
    const float *data[8];
    int n;
};
// The block reductions (vae_sum_all, vae_channel_sums, vae_cross_entropy_row_sums, vae_softmax_cross_entropy, batch normalisation) run blocks of exactly this
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

// A leaky ReLU of `slope` fused into the op before it: 1 is none (v exactly), 0 a ReLU, as vae_relu and
// vae_leaky_relu compute them (a ReLU's negative side is +0, never 0·v).
__device__ __forceinline__ float vae_activate(float v, float slope) {
    if (slope == 1.0f) return v;
    return v > 0.0f ? v : (slope == 0.0f ? 0.0f : slope * v);
}

// Its gradient from the activation's output y (y > 0 exactly where its input is, for slope ≥ 0), as
// vae_relu_gradient and vae_leaky_relu_gradient compute it from the input.
__device__ __forceinline__ float vae_activation_gradient(float g, float y, float slope) {
    if (slope == 1.0f) return g;
    return y > 0.0f ? g : (slope == 0.0f ? 0.0f : slope * g);
}

// The values of channel c of an [N, C, P] tensor that thread threadIdx.x of a reduction block takes, in order:
// k = threadIdx.x, then + VAE_REDUCTION_THREADS…, value k = n·P + p at index (n·C + c)·P + p. n and p advance with no
// division per value (a 64-bit division is a long instruction sequence on a GPU).
struct VaeChannelWalk { long long n, p, stepN, stepP, plane; };
__device__ __forceinline__ VaeChannelWalk vae_channel_walk(long long plane) {
    VaeChannelWalk w = { (long long)threadIdx.x / plane, (long long)threadIdx.x % plane,
                         VAE_REDUCTION_THREADS / plane, VAE_REDUCTION_THREADS % plane, plane };
    return w;
}
__device__ __forceinline__ long long vae_channel_index(const VaeChannelWalk *w, long long channels, long long c) {
    return (w->n * channels + c) * w->plane + w->p;
}
__device__ __forceinline__ void vae_channel_step(VaeChannelWalk *w) {
    w->n += w->stepN;
    w->p += w->stepP;
    if (w->p >= w->plane) { w->p -= w->plane; w->n++; }
}

// Σ value over a block of VAE_REDUCTION_THREADS threads in a fixed tree (lanes: that many shared floats); every
// thread gets the total, and lanes may be reused at once.
__device__ float vae_block_sum(float value, float *lanes) {
    lanes[threadIdx.x] = value;
    __syncthreads();
    for (int half = VAE_REDUCTION_THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
        __syncthreads();
    }
    float total = lanes[0];
    __syncthreads();
    return total;
}

// The largest of the block's values (NaN ignored, as fmaxf does), in the same tree.
__device__ float vae_block_max(float value, float *lanes) {
    lanes[threadIdx.x] = value;
    __syncthreads();
    for (int half = VAE_REDUCTION_THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) lanes[threadIdx.x] = fmaxf(lanes[threadIdx.x], lanes[threadIdx.x + half]);
        __syncthreads();
    }
    float largest = lanes[0];
    __syncthreads();
    return largest;
}
"""#
}
