#include "CKernels.h"

#pragma clang fp contract(off)

#if defined(__x86_64__) && defined(__linux__)
#define VAE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VAE_CLONES
#endif

// IEEE square root without libm's errno branch (which would keep the loop scalar).
static inline float root(float x) { return __builtin_elementwise_sqrt(x); }

// The body shared by both variants; `g` is the element's gradient.
#define ADAM_STEP(g)                                                                 \
    do {                                                                             \
        float grad = (g) + coupledDecay * weights[i];                                \
        float m = beta1 * first[i] + (1 - beta1) * grad;                             \
        float v = beta2 * second[i] + (1 - beta2) * grad * grad;                     \
        float denominator = root(v) / rootCorrection2 + epsilon;                     \
        first[i] = m;                                                                \
        second[i] = v;                                                               \
        weights[i] = weights[i] * shrink - stepSize * m / denominator;               \
    } while (0)

VAE_CLONES
void vae_adam_update(long count, float *restrict weights, const float *restrict gradient,
                     const float *restrict addend, float *restrict first, float *restrict second,
                     float beta1, float beta2, float epsilon, float stepSize, float rootCorrection2,
                     float coupledDecay, float shrink) {
    if (addend) {
        for (long i = 0; i < count; i++) ADAM_STEP(gradient[i] + addend[i]);
    } else {
        for (long i = 0; i < count; i++) ADAM_STEP(gradient[i]);
    }
}
