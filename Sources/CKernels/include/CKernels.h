#ifndef VAEKIT_CKERNELS_H
#define VAEKIT_CKERNELS_H

// Memory-bound elementwise kernels in C, so that one binary runs each at the machine's vector width: on x86-64
// Linux every function is compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2) and the baseline, and the loader
// picks one (target_clones). Swift code is compiled for the baseline only (SSE), where sixteen-lane SIMD types
// are four registers each and spill. Floating-point contraction is off, so every clone rounds exactly as the
// C source reads (no fused multiply-adds): results are bit-identical whichever clone runs.

/// One Adam step (PyTorch's order of operations) over `count` elements; the gradient is
/// `gradient[i] + addend[i]` when `addend` is non-null (the two shards of a batch), else `gradient[i]`.
void vae_adam_update(long count, float *weights, const float *gradient, const float *addend,
                     float *first, float *second, float beta1, float beta2, float epsilon,
                     float stepSize, float rootCorrection2, float coupledDecay, float shrink);

/// Per row of `width`: Σ max(x, 0) − x·t + log(1 + e^−|x|) (binary cross-entropy with logits), summed in sixteen
/// lane sums (lane j takes columns j, j + 16, …, up to the last full block of sixteen), the lanes added in order
/// from −0, then the tail columns in order — the order of VAETensor's `Kernels.sum`. With `sigmoids` non-null,
/// sigmoid(x) is stored there. exp and log1p are VAETensor's `VectorMath` polynomials, operation for operation.
void vae_cross_entropy_row_sums(long rows, long width, const float *logits, const float *targets, float *sums,
                                float *sigmoids);

/// log Σ exp(values) as max + log Σ exp(v − max), the exponentials (VectorMath's polynomial) summed in sixteen lanes
/// as `vae_sum` orders them.
float vae_log_sum_exp(long count, const float *values);

/// out[i] = scale · exp(values[i] − shift), with VectorMath's exp: a softmax row's gradient.
void vae_softmax_scaled(long count, const float *values, float shift, float scale, float *out);

/// Σ values in sixteen lane sums (lane j takes elements j, j + 16, … of the full blocks), the lanes added in order
/// from −0, then the tail in order: VAETensor's reduction order.
float vae_sum(long count, const float *values);

/// Batch normalisation in training mode over channels first..<last of `x` ([batch, channels, plane]): each channel's
/// mean and biased variance over batch and plane (stored in `mean`, `variance`), y = γ·(x − mean)/√(variance + ε) + β,
/// then y ← y when y > 0, else slope·y (slope 1: no activation; a leaky ReLU fused into the same pass).
void vae_batch_norm_forward(long batch, long channels, long plane, long first, long last, const float *x,
                            const float *gamma, const float *beta, float epsilon, float slope,
                            float *y, float *mean, float *variance);

/// The gradient of ``vae_batch_norm_forward`` for channels first..<last, from the output gradient `g`, the input
/// `x`, the output `y` (for the activation's sign) and the batch statistics: dβ = Σ g', dγ = Σ g'·x̂ (g' the gradient
/// before the activation, x̂ the normalised input), and when `dx` is non-null dx = γ/σ·(g' − mean g' − x̂·mean g'x̂).
void vae_batch_norm_backward(long batch, long channels, long plane, long first, long last, const float *g,
                             const float *x, const float *y, const float *gamma, const float *mean,
                             const float *variance, float epsilon, float slope, float *dx, float *dgamma,
                             float *dbeta);

/// Direct stride-1 convolution (NCHW input [batch, inChannels, height, width], OIHW weight, symmetric padding) of
/// batch items first..<last into `y` ([batch, outChannels, outHeight, outWidth]); `bias` may be null.
void vae_conv_direct_forward(long first, long last, long inChannels, long height, long width, long outChannels,
                             long kernelHeight, long kernelWidth, long padding, const float *x, const float *weight,
                             const float *bias, float *y);

/// The input gradient of ``vae_conv_direct_forward`` for batch items first..<last, from the output gradient `g`.
void vae_conv_direct_input_gradient(long first, long last, long inChannels, long height, long width,
                                    long outChannels, long kernelHeight, long kernelWidth, long padding,
                                    const float *g, const float *weight, float *dx);

/// The weight gradient of ``vae_conv_direct_forward`` for the (output, input) channel pairs first..<last
/// (pair o·inChannels + c), summed over the whole batch.
void vae_conv_direct_weight_gradient(long first, long last, long batch, long inChannels, long height, long width,
                                     long outChannels, long kernelHeight, long kernelWidth, long padding,
                                     const float *g, const float *x, float *dw);

/// im2col of channels first..<last: the column matrix [channels·kh·kw, batch·outHeight·outWidth] of `input`
/// ([batch, channels, height, width]); entry ((c, ky, kx), (n, oy, ox)) is
/// input[n, c, oy·stride − padding + ky, ox·stride − padding + kx], 0 outside the image.
void vae_im2col(long first, long last, long batch, long channels, long height, long width, long kernelHeight,
                long kernelWidth, long stride, long padding, long outHeight, long outWidth, const float *input,
                float *output);

/// The adjoint of ``vae_im2col`` for channels first..<last: sums the column matrix back into `image` (written
/// whole for those channels), then adds bias[c] to channel c's planes when `bias` is non-null.
void vae_col2im(long first, long last, long batch, long channels, long height, long width, long kernelHeight,
                long kernelWidth, long stride, long padding, long outHeight, long outWidth, const float *columns,
                const float *bias, float *image);

/// A task of a parallel run: `index` is in 0..<count.
typedef void (*vae_pool_task)(void *context, long index);

/// Runs task(context, 0…count − 1) on `threads` threads — the caller and `threads` − 1 workers of a process-wide
/// pool that keep polling for half a millisecond after a run before they sleep (a VM takes tens of
/// microseconds to wake a sleeping thread; a training step has several parallel sections). Index i runs on
/// participant i mod min(threads, count). Returns after every task is done, 0; or at once, nonzero, without
/// running anything, when another run is in progress (a nested or concurrent call: run the tasks some other way).
int vae_pool_run(long count, long threads, vae_pool_task task, void *context);

#endif
