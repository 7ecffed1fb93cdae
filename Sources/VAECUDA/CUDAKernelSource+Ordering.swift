extension CUDAKernelSource {
    /// Sorting rows and its gradient; one-hot rows from positions on the device; mirroring image lines and binarising values.
    static let ordering = #"""
// ---- Ordering: each row of [rows, length] sorted ascending, ties by position (Tensor.sortedWithinRows). ----
// One block per row: the row and its positions go to scratch memory (keys, positions: `padded` entries per row, a
// power of two; the padding is at positions ≥ length), a bitonic network orders the pairs (value, position), and
// the first `length` come out as y and order (8-byte integers).

// Whether (a, position pa) sorts after (b, pb): padding after every value, values ascending, ties by position.
__device__ __forceinline__ bool vae_sorts_after(float a, long long pa, float b, long long pb, long long length) {
    if (pa >= length || pb >= length) return pa > pb;
    return a > b || (a == b && pa > pb);
}

extern "C" __global__ void vae_sort_rows(long long rows, long long length, long long padded, const float *__restrict__ x,
                                         float *keys, long long *positions, float *__restrict__ y,
                                         long long *__restrict__ order) {
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        float *k = keys + row * padded;
        long long *p = positions + row * padded;
        for (long long i = threadIdx.x; i < padded; i += blockDim.x) {
            k[i] = i < length ? x[row * length + i] : 0.0f;
            p[i] = i;
        }
        __syncthreads();
        for (long long size = 2; size <= padded; size <<= 1) {
            for (long long stride = size >> 1; stride > 0; stride >>= 1) {
                for (long long t = threadIdx.x; t < padded / 2; t += blockDim.x) {
                    long long i = 2 * stride * (t / stride) + t % stride, j = i + stride;
                    bool ascending = (i & size) == 0;
                    bool greater = vae_sorts_after(k[i], p[i], k[j], p[j], length);
                    if (greater == ascending) {
                        float key = k[i]; k[i] = k[j]; k[j] = key;
                        long long position = p[i]; p[i] = p[j]; p[j] = position;
                    }
                }
                __syncthreads();
            }
        }
        for (long long i = threadIdx.x; i < length; i += blockDim.x) {
            y[row * length + i] = k[i];
            order[row * length + i] = p[i];
        }
        __syncthreads();
    }
}

// The gradient of vae_sort_rows: dx[row, order[row, k]] = g[row, k] (each position appears once per row).
extern "C" __global__ void vae_sort_rows_gradient(long long rows, long long length, const long long *__restrict__ order,
                                                  const float *__restrict__ g, float *__restrict__ dx) {
    VAE_LOOP(i, rows * length) {
        dx[(i / length) * length + order[i]] = g[i];
    }
}

// y[r, c] = 1 where c = positions[r], else 0: [count, classes].
extern "C" __global__ void vae_one_hot(long long count, long long classes, const long long *__restrict__ positions,
                                       float *__restrict__ y) {
    VAE_LOOP(i, count * classes) {
        y[i] = positions[i / classes] == i % classes ? 1.0f : 0.0f;
    }
}

// Rows [count, features] of images: a row whose draw is below ½ has every line of `width` values reversed (the
// horizontal flip), the others are copied.
extern "C" __global__ void vae_mirror_lines(long long count, long long features, long long width,
                                            const float *__restrict__ draws, const float *__restrict__ x,
                                            float *__restrict__ y) {
    VAE_LOOP(i, count * features) {
        long long column = i % width;
        y[i] = draws[i / features] < 0.5f ? x[i - column + width - 1 - column] : x[i];
    }
}

// Dynamic binarisation: 1 where the value's draw is below it, else 0 (Tensor.binarized).
extern "C" __global__ void vae_binarize(long long n, const float *__restrict__ x, const float *__restrict__ draws,
                                        float *__restrict__ y) {
    VAE_LOOP(i, n) y[i] = draws[i] < x[i] ? 1.0f : 0.0f;
}
"""#
}
