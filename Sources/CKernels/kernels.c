#include "CKernels.h"
#include <math.h>
#include "vectorised.h"

#pragma clang fp contract(off)

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

// VAETensor's VectorMath.exp: Cody–Waite reduction and Cephes' expf polynomial, inputs clamped to [−87, 88].
static inline float vexp(float input) {
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
    float er = p * (r * r) + r + 1;
    union { float f; int i; } bits = { .f = shifted };
    union { int i; float f; } scale = { .i = (bits.i - 0x4B400000 + 127) << 23 };
    return er * scale.f;
}

// VAETensor's VectorMath.log1p for u in [0, 1].
static inline float vlog1p(float u) {
    float y = 1 + u;
    float correction = (u - (y - 1)) / y;
    int high = y > 1.4142135f;
    float m = high ? y * 0.5f : y;
    float f = m - 1;
    float s = f / (2 + f);
    float z = s * s;
    float r = 2.0f / 9;
    r = r * z + 2.0f / 7;
    r = r * z + 2.0f / 5;
    r = r * z + 2.0f / 3;
    r = r * z;
    float halfSquare = 0.5f * f * f;
    const float ln2High = 0.69314575f, ln2Low = 1.4286068e-6f;
    float k = high ? 1.0f : 0.0f;
    return k * ln2High - ((halfSquare - (s * (halfSquare + r) + (k * ln2Low + correction))) - f);
}

static inline float cross_entropy_and_sigmoid(float x, float t, float *sigmoid) {
    union { float f; unsigned u; } magnitude = { .f = x };
    magnitude.u &= 0x7FFFFFFFu;
    float e = vexp(-magnitude.f);
    int positive = x >= 0;
    float inverse = 1 / (1 + e);
    *sigmoid = positive ? inverse : e * inverse;
    return ((positive ? x : 0.0f) - x * t) + vlog1p(e);
}

VAE_CLONES
void vae_cross_entropy_row_sums(long rows, long width, const float *restrict logits, const float *restrict targets,
                                float *restrict sums, float *restrict sigmoids) {
    float scratch[16];
    for (long row = 0; row < rows; row++) {
        const float *x = logits + row * width, *t = targets + row * width;
        float *s = sigmoids ? sigmoids + row * width : 0;
        float lanes[16] = {0};
        long column = 0;
        for (; column + 16 <= width; column += 16) {
            float *out = s ? s + column : scratch;
            for (int j = 0; j < 16; j++) lanes[j] += cross_entropy_and_sigmoid(x[column + j], t[column + j], &out[j]);
        }
        float total = lanes_total(lanes);
        for (; column < width; column++) {
            float ignored;
            total += cross_entropy_and_sigmoid(x[column], t[column], s ? &s[column] : &ignored);
        }
        sums[row] = total;
    }
}

VAE_CLONES
float vae_sum(long count, const float *restrict values) {
    float lanes[16] = {0};
    long index = 0;
    for (; index + 16 <= count; index += 16) {
        for (int j = 0; j < 16; j++) lanes[j] += values[index + j];
    }
    float total = lanes_total(lanes);
    for (; index < count; index++) total += values[index];
    return total;
}

VAE_CLONES
float vae_log_sum_exp(long count, const float *restrict values) {
    float peak = count > 0 ? values[0] : 0.0f;
    for (long index = 1; index < count; index++) peak = values[index] > peak ? values[index] : peak;
    float lanes[16] = {0};
    long index = 0;
    for (; index + 16 <= count; index += 16) {
        for (int j = 0; j < 16; j++) lanes[j] += vexp(values[index + j] - peak);
    }
    float total = lanes_total(lanes);
    for (; index < count; index++) total += vexp(values[index] - peak);
    return peak + logf(total);
}

VAE_CLONES
void vae_softmax_scaled(long count, const float *restrict values, float shift, float scale, float *restrict out) {
    for (long index = 0; index < count; index++) out[index] = scale * vexp(values[index] - shift);
}
