extension CUDAKernelSource {
    /// Strided and block copies, gathers, and Philox random numbers.
    static let layout = #"""
// ---- Layout: permutations and slices (a strided copy), concatenation (block copies), gathers. ----
// y[i] = x[offset + Σ_d coordinate_d(i) · stride_d]: transposes (strides permuted) and slices (offset, sizes).
struct VaeLayout {
    long long size[VAE_MAX_RANK];
    long long stride[VAE_MAX_RANK];
    long long offset;
    int rank;
};

// The element of x that output element i reads.
__device__ __forceinline__ long long vae_layout_offset(const VaeLayout &s, long long i) {
    long long rest = i, at = s.offset;
    for (int d = s.rank - 1; d >= 0; d--) {
        at += (rest % s.size[d]) * s.stride[d];
        rest /= s.size[d];
    }
    return at;
}

extern "C" __global__ void vae_strided_copy(long long n, VaeLayout s, const float *__restrict__ x, float *__restrict__ y) {
    VAE_LOOP(i, n) {
        y[i] = x[vae_layout_offset(s, i)];
    }
}

// The adjoint of vae_strided_copy for a slice: dx[offset + …] = g (dx filled with 0 first; a slice's elements are distinct).
extern "C" __global__ void vae_strided_scatter(long long n, VaeLayout s, const float *__restrict__ g, float *__restrict__ dx) {
    VAE_LOOP(i, n) {
        dx[vae_layout_offset(s, i)] = g[i];
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

// Up to 8 buffers (VaeBuffers) joined end to end into y: a concatenation along the first axis in one launch.
extern "C" __global__ void vae_copy_blocks(VaeBuffers b, float *__restrict__ y) {
    long long offset = 0;
    for (int j = 0; j < b.n; j++) {
        const float *__restrict__ x = b.data[j];
        VAE_LOOP(i, b.count[j]) y[offset + i] = x[i];
        offset += b.count[j];
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
