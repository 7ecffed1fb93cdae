#include "CKernels.h"
#include "vectorised.h"

#pragma clang fp contract(off)

// Batch normalisation over [batch, channels, plane] in two passes per channel forward (mean, then centred squares,
// then the output) and two backward (the two sums, then the input gradient). Each channel's sums run in sixteen
// lanes per plane, planes added in batch order: the result depends only on the channel's values, not on which
// thread or channel range computes it.


VAE_CLONES
void vae_batch_norm_forward(long batch, long channels, long plane, long first, long last, const float *restrict x,
                            const float *restrict gamma, const float *restrict beta, float epsilon, float slope,
                            float *restrict y, float *restrict mean, float *restrict variance) {
    float count = (float)(batch * plane);
    for (long c = first; c < last; c++) {
        float total = -0.0f;
        for (long n = 0; n < batch; n++) {
            const float *p = x + (n * channels + c) * plane;
            float lanes[16] = {0};
            long i = 0;
            for (; i + 16 <= plane; i += 16)
                for (int j = 0; j < 16; j++) lanes[j] += p[i + j];
            float sum = lanes_total(lanes);
            for (; i < plane; i++) sum += p[i];
            total += sum;
        }
        float mu = total * (1 / count);
        float squares = -0.0f;
        for (long n = 0; n < batch; n++) {
            const float *p = x + (n * channels + c) * plane;
            float lanes[16] = {0};
            long i = 0;
            for (; i + 16 <= plane; i += 16)
                for (int j = 0; j < 16; j++) { float d = p[i + j] - mu; lanes[j] += d * d; }
            float sum = lanes_total(lanes);
            for (; i < plane; i++) { float d = p[i] - mu; sum += d * d; }
            squares += sum;
        }
        float var = squares * (1 / count);
        float scale = gamma[c] / root(var + epsilon);
        float shift = beta[c] - mu * scale;
        for (long n = 0; n < batch; n++) {
            const float *p = x + (n * channels + c) * plane;
            float *q = y + (n * channels + c) * plane;
            for (long i = 0; i < plane; i++) {
                float v = p[i] * scale + shift;
                q[i] = v > 0 ? v : slope * v;
            }
        }
        mean[c] = mu;
        variance[c] = var;
    }
}

VAE_CLONES
void vae_batch_norm_backward(long batch, long channels, long plane, long first, long last, const float *restrict g,
                             const float *restrict x, const float *restrict y, const float *restrict gamma,
                             const float *restrict mean, const float *restrict variance, float epsilon, float slope,
                             float *restrict dx, float *restrict dgamma, float *restrict dbeta) {
    float count = (float)(batch * plane);
    for (long c = first; c < last; c++) {
        float mu = mean[c];
        float inverse = 1 / root(variance[c] + epsilon);
        float sumG = -0.0f, sumGX = -0.0f;
        for (long n = 0; n < batch; n++) {
            long base = (n * channels + c) * plane;
            const float *gp = g + base, *xp = x + base, *yp = y + base;
            float lanesG[16] = {0}, lanesGX[16] = {0};
            long i = 0;
            for (; i + 16 <= plane; i += 16)
                for (int j = 0; j < 16; j++) {
                    float gi = yp[i + j] > 0 ? gp[i + j] : slope * gp[i + j];
                    lanesG[j] += gi;
                    lanesGX[j] += gi * ((xp[i + j] - mu) * inverse);
                }
            float a = lanes_total(lanesG), b = lanes_total(lanesGX);
            for (; i < plane; i++) {
                float gi = yp[i] > 0 ? gp[i] : slope * gp[i];
                a += gi;
                b += gi * ((xp[i] - mu) * inverse);
            }
            sumG += a;
            sumGX += b;
        }
        dbeta[c] = sumG;
        dgamma[c] = sumGX;
        if (!dx) continue;
        float factor = gamma[c] * inverse;
        float meanG = sumG * (1 / count), meanGX = sumGX * (1 / count);
        for (long n = 0; n < batch; n++) {
            long base = (n * channels + c) * plane;
            const float *gp = g + base, *xp = x + base, *yp = y + base;
            float *out = dx + base;
            for (long i = 0; i < plane; i++) {
                float gi = yp[i] > 0 ? gp[i] : slope * gp[i];
                out[i] = factor * ((gi - meanG) - ((xp[i] - mu) * inverse) * meanGX);
            }
        }
    }
}
