#ifndef VAEKIT_CKERNELS_VECTORISED_H
#define VAEKIT_CKERNELS_VECTORISED_H

// What every kernel file shares. Each includes this right after CKernels.h and then says
// `#pragma clang fp contract(off)` itself, so that no multiply-add is fused and every clone rounds as the source reads.

// Every exported loop is compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2) and the baseline; the loader picks one.
#if defined(__x86_64__) && defined(__linux__)
#define VAE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VAE_CLONES
#endif

// IEEE square root without libm's errno branch (which would keep the loop scalar). Older clangs (Xcode's before
// clang 16) lack the elementwise builtin; Darwin's libm does not set errno, so sqrtf vectorises there.
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
static inline float root(float x) { return __builtin_elementwise_sqrt(x); }
#else
static inline float root(float x) { return __builtin_sqrtf(x); }
#endif

// Sixteen lane sums added in order from −0: the second half of VAETensor's reduction order (see `vae_sum`).
static inline float lanes_total(const float lanes[16]) {
    float total = -0.0f;
    for (int j = 0; j < 16; j++) total += lanes[j];
    return total;
}

#endif
