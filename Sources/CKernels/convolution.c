#include "CKernels.h"
#include "vectorised.h"

#pragma clang fp contract(off)

// Direct stride-1 convolution for layers with few output channels (an image's last layer: 32 → 3 channels at
// 64×64), where im2col's column matrix would be kh·kw times the input and the product's M = outChannels leaves the
// GEMM memory bound. Every output element is summed in a fixed order that depends on neither the thread count nor
// the range of batch items or weights a call computes.

#include <stdlib.h>

// The columns ox in 0..<outWidth whose source column ox + shift lies in 0..<width.
static inline void valid_columns(long shift, long width, long outWidth, long *first, long *last) {
    *first = shift < 0 ? -shift : 0;
    *last = width - shift < outWidth ? width - shift : outWidth;
    if (*last < *first) *last = *first;
}

// The forward pass and the input gradient are the same correlation with the roles of the channels swapped: for batch
// items first..<last, one target row of every target channel at a time is accumulated in `rows` (in cache) over
// source channels, kernel rows and kernel columns in that order,
//     target[n, t, ty, tx] = Σ w[t·targetStride + s·sourceStride + ky·kw + kx] · source[n, s, ty + sign·(ky − p), tx + sign·(kx − p)],
// then written out, plus bias[t] when given.
static inline void correlate_rows(long first, long last, long targets, long targetHeight, long targetWidth, long sources,
                                  long sourceHeight, long sourceWidth, long kernelHeight, long kernelWidth, long padding,
                                  long sign, long targetStride, long sourceStride, const float *restrict source,
                                  const float *restrict weight, const float *restrict bias, float *restrict target) {
    float *rows = malloc(sizeof(float) * targets * targetWidth);
    for (long n = first; n < last; n++) {
        for (long ty = 0; ty < targetHeight; ty++) {
            for (long i = 0; i < targets * targetWidth; i++) rows[i] = 0;
            for (long s = 0; s < sources; s++) {
                for (long ky = 0; ky < kernelHeight; ky++) {
                    long sy = ty + sign * (ky - padding);
                    if (sy < 0 || sy >= sourceHeight) continue;
                    const float *line = source + ((n * sources + s) * sourceHeight + sy) * sourceWidth;
                    for (long kx = 0; kx < kernelWidth; kx++) {
                        long shift = sign * (kx - padding), lo, hi;
                        valid_columns(shift, sourceWidth, targetWidth, &lo, &hi);
                        const float *from = line + shift;
                        for (long t = 0; t < targets; t++) {
                            float w = weight[t * targetStride + s * sourceStride + ky * kernelWidth + kx];
                            float *row = rows + t * targetWidth;
                            for (long tx = lo; tx < hi; tx++) row[tx] += w * from[tx];
                        }
                    }
                }
            }
            for (long t = 0; t < targets; t++) {
                float *out = target + ((n * targets + t) * targetHeight + ty) * targetWidth;
                const float *row = rows + t * targetWidth;
                if (bias) for (long tx = 0; tx < targetWidth; tx++) out[tx] = row[tx] + bias[t];
                else for (long tx = 0; tx < targetWidth; tx++) out[tx] = row[tx];
            }
        }
    }
    free(rows);
}

VAE_CLONES
void vae_conv_direct_forward(long first, long last, long inChannels, long height, long width, long outChannels,
                             long kernelHeight, long kernelWidth, long padding, const float *restrict x,
                             const float *restrict weight, const float *restrict bias, float *restrict y) {
    long outHeight = height + 2 * padding - kernelHeight + 1, outWidth = width + 2 * padding - kernelWidth + 1;
    long taps = kernelHeight * kernelWidth;
    correlate_rows(first, last, outChannels, outHeight, outWidth, inChannels, height, width, kernelHeight, kernelWidth,
                   padding, 1, inChannels * taps, taps, x, weight, bias, y);
}

// dx[n, c, iy, ix] = Σ over o, ky, kx of w[o, c, ky, kx]·g[n, o, iy − ky + p, ix − kx + p].
VAE_CLONES
void vae_conv_direct_input_gradient(long first, long last, long inChannels, long height, long width,
                                    long outChannels, long kernelHeight, long kernelWidth, long padding,
                                    const float *restrict g, const float *restrict weight, float *restrict dx) {
    long outHeight = height + 2 * padding - kernelHeight + 1, outWidth = width + 2 * padding - kernelWidth + 1;
    long taps = kernelHeight * kernelWidth;
    correlate_rows(first, last, inChannels, height, width, outChannels, outHeight, outWidth, kernelHeight, kernelWidth,
                   padding, -1, taps, inChannels * taps, g, weight, 0, dx);
}

// Weight gradient of the (output, input) channel pairs first..<last: per pair and tap, sixteen lane sums over the
// row segments of every item and row (in batch, then row order), the lanes added in order, then the tail sum.
VAE_CLONES
void vae_conv_direct_weight_gradient(long first, long last, long batch, long inChannels, long height, long width,
                                     long outChannels, long kernelHeight, long kernelWidth, long padding,
                                     const float *restrict g, const float *restrict x, float *restrict dw) {
    long outHeight = height + 2 * padding - kernelHeight + 1, outWidth = width + 2 * padding - kernelWidth + 1;
    long taps = kernelHeight * kernelWidth;
    float *lanes = malloc(sizeof(float) * taps * 16), *tails = malloc(sizeof(float) * taps);
    for (long p = first; p < last; p++) {
        long o = p / inChannels, c = p % inChannels;
        for (long i = 0; i < taps * 16; i++) lanes[i] = 0;
        for (long t = 0; t < taps; t++) tails[t] = -0.0f;
        for (long n = 0; n < batch; n++) {
            for (long oy = 0; oy < outHeight; oy++) {
                const float *row = g + ((n * outChannels + o) * outHeight + oy) * outWidth;
                for (long ky = 0; ky < kernelHeight; ky++) {
                    long iy = oy + ky - padding;
                    if (iy < 0 || iy >= height) continue;
                    const float *source = x + ((n * inChannels + c) * height + iy) * width;
                    for (long kx = 0; kx < kernelWidth; kx++) {
                        long shift = kx - padding, lo, hi;
                        valid_columns(shift, width, outWidth, &lo, &hi);
                        const float *from = source + shift;
                        float *lane = lanes + (ky * kernelWidth + kx) * 16;
                        long ox = lo;
                        for (; ox + 16 <= hi; ox += 16)
                            for (int j = 0; j < 16; j++) lane[j] += row[ox + j] * from[ox + j];
                        float tail = tails[ky * kernelWidth + kx];
                        for (; ox < hi; ox++) tail += row[ox] * from[ox];
                        tails[ky * kernelWidth + kx] = tail;
                    }
                }
            }
        }
        for (long t = 0; t < taps; t++) {
            dw[p * taps + t] = lanes_total(lanes + t * 16) + tails[t];
        }
    }
    free(lanes);
    free(tails);
}

// im2col and its adjoint for any stride and padding: the loops of VAETensor's ConvolutionGeometry (channel-major
// column matrix [channels·kh·kw, batch·outHeight·outWidth]), in C so that the row copies and strided gathers
// vectorise. The order of the additions in `vae_col2im` is the Swift loops' (c, ky, kx, n, oy, ox), so results are
// bit-identical to them.

// The output indices o in 0..<count with 0 <= o·stride + offset < size, as [*first, *last).
static inline void valid_range(long offset, long size, long count, long stride, long *first, long *last) {
    long lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    long highest = size - 1 - offset;
    long hi = highest < 0 ? 0 : (highest / stride + 1 < count ? highest / stride + 1 : count);
    if (lo > count) lo = count;
    if (hi < lo) hi = lo;
    *first = lo;
    *last = hi;
}

VAE_CLONES
void vae_im2col(long first, long last, long batch, long channels, long height, long width, long kernelHeight,
                long kernelWidth, long stride, long padding, long outHeight, long outWidth, const float *restrict input,
                float *restrict output) {
    long positions = outHeight * outWidth;
    for (long c = first; c < last; c++) {
        for (long ky = 0; ky < kernelHeight; ky++) {
            for (long kx = 0; kx < kernelWidth; kx++) {
                float *row = output + ((c * kernelHeight + ky) * kernelWidth + kx) * batch * positions;
                long lo, hi;
                valid_range(kx - padding, width, outWidth, stride, &lo, &hi);
                for (long n = 0; n < batch; n++) {
                    const float *plane = input + (n * channels + c) * height * width;
                    for (long oy = 0; oy < outHeight; oy++) {
                        float *target = row + n * positions + oy * outWidth;
                        long y = oy * stride - padding + ky;
                        if (y < 0 || y >= height || lo >= hi) {
                            for (long ox = 0; ox < outWidth; ox++) target[ox] = 0;
                            continue;
                        }
                        for (long ox = 0; ox < lo; ox++) target[ox] = 0;
                        const float *source = plane + y * width + kx - padding;
                        if (stride == 1) {
                            for (long ox = lo; ox < hi; ox++) target[ox] = source[ox];
                        } else if (stride == 2) {
                            for (long ox = lo; ox < hi; ox++) target[ox] = source[2 * ox];
                        } else {
                            for (long ox = lo; ox < hi; ox++) target[ox] = source[ox * stride];
                        }
                        for (long ox = hi; ox < outWidth; ox++) target[ox] = 0;
                    }
                }
            }
        }
    }
}

VAE_CLONES
void vae_col2im(long first, long last, long batch, long channels, long height, long width, long kernelHeight,
                long kernelWidth, long stride, long padding, long outHeight, long outWidth, const float *restrict columns,
                const float *restrict bias, float *restrict image) {
    long positions = outHeight * outWidth;
    for (long c = first; c < last; c++) {
        for (long n = 0; n < batch; n++) {
            float *plane = image + (n * channels + c) * height * width;
            for (long i = 0; i < height * width; i++) plane[i] = 0;
        }
        for (long ky = 0; ky < kernelHeight; ky++) {
            for (long kx = 0; kx < kernelWidth; kx++) {
                const float *row = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * batch * positions;
                long lo, hi;
                valid_range(kx - padding, width, outWidth, stride, &lo, &hi);
                if (lo >= hi) continue;
                for (long n = 0; n < batch; n++) {
                    float *plane = image + (n * channels + c) * height * width;
                    for (long oy = 0; oy < outHeight; oy++) {
                        long y = oy * stride - padding + ky;
                        if (y < 0 || y >= height) continue;
                        const float *source = row + n * positions + oy * outWidth;
                        float *target = plane + y * width + kx - padding;
                        if (stride == 1) {
                            for (long ox = lo; ox < hi; ox++) target[ox] += source[ox];
                        } else if (stride == 2) {
                            for (long ox = lo; ox < hi; ox++) target[2 * ox] += source[ox];
                        } else {
                            for (long ox = lo; ox < hi; ox++) target[ox * stride] += source[ox];
                        }
                    }
                }
            }
        }
        if (bias) {
            for (long n = 0; n < batch; n++) {
                float *plane = image + (n * channels + c) * height * width;
                for (long i = 0; i < height * width; i++) plane[i] += bias[c];
            }
        }
    }
}
