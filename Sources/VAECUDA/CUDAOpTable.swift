/// How the CUDA backend computes each op of the CPU backend: every public op of VAETensor's `Tensor` (operators by
/// their symbol) and every loop of CKernels, mapped to the kernels of ``CUDAKernelSource`` (forward and gradient)
/// or to cuBLAS. A test reads VAETensor's sources and CKernels.h and fails when an op has no entry here, or when an
/// entry names a kernel the source does not define, so the table stays complete as the CPU backend grows.
public enum CUDAOpTable {
    public enum Implementation: Sendable, Equatable {
        /// Kernels of ``CUDAKernelSource`` (forward first, then the gradient's).
        case kernels([String])
        /// cuBLAS GEMMs (`cublasSgemm` and its strided-batched form) with these kernels around them.
        case cublas(kernels: [String])
        /// Only the shape changes: no kernel, no copy.
        case layout
        /// Built from other ops of this table (named), so it runs wherever they do.
        case composite([String])
        /// Host code reads or writes the values (a loader, an optimiser's Swift loop): a copy from the device and
        /// back, once per batch, not per op.
        case hostCopy

        /// The kernels it launches itself.
        public var kernelNames: [String] {
            switch self {
            case .kernels(let names), .cublas(let names): return names
            case .layout, .composite, .hostCopy: return []
            }
        }
    }

    /// `Tensor`'s ops by Swift name ("+" for the operator, "prefix -" for negation).
    public static let tensorOps: [String: Implementation] = [
        "+": .kernels(["vae_add", "vae_add_scalar", "vae_sum_axis"]),
        "-": .kernels(["vae_subtract", "vae_add_scalar", "vae_subtract_from_scalar", "vae_negate_gradient", "vae_sum_axis"]),
        "prefix -": .kernels(["vae_negate", "vae_negate_gradient"]),
        "*": .kernels(["vae_multiply", "vae_multiply_scalar", "vae_scale_gradient", "vae_sum_axis"]),
        "/": .kernels(["vae_divide", "vae_divide_denominator_gradient", "vae_sum_axis"]),
        "exp": .kernels(["vae_exp", "vae_exp_gradient"]),
        "log": .kernels(["vae_log", "vae_log_gradient"]),
        "sqrt": .kernels(["vae_sqrt", "vae_sqrt_gradient"]),
        "squared": .kernels(["vae_square", "vae_square_gradient"]),
        "pow": .kernels(["vae_pow", "vae_pow_gradient"]),
        "relu": .kernels(["vae_relu", "vae_relu_gradient"]),
        "leakyRelu": .kernels(["vae_leaky_relu", "vae_leaky_relu_gradient"]),
        "sigmoid": .kernels(["vae_sigmoid_forward", "vae_sigmoid_gradient"]),
        "tanh": .kernels(["vae_tanh", "vae_tanh_gradient"]),
        "softplus": .kernels(["vae_softplus_forward", "vae_softplus_gradient"]),
        "passingGradient": .layout,
        "zeros": .kernels(["vae_fill"]),
        "ones": .kernels(["vae_fill"]),
        "row": .hostCopy,
        "moved": .hostCopy,
        // A host constant goes to the device once per backend and key (a copy, then reused).
        "constant": .hostCopy,
        "identity": .composite(["constant"]),
        "offDiagonal": .composite(["constant"]),
        "firstNonFinite": .kernels(["vae_fill", "vae_flag_nonfinite"]),
        "scalarValues": .composite(["reshaped", "concatenate"]),
        "withUnsafeMutableScalars": .hostCopy,
        "addInPlace": .kernels(["vae_add_in_place"]),
        "binaryCrossEntropy": .kernels(["vae_cross_entropy", "vae_sigmoid_forward", "vae_cross_entropy_gradient"]),
        "binaryCrossEntropySums": .kernels(["vae_cross_entropy_row_sums", "vae_cross_entropy_gradient"]),
        "softmaxCrossEntropy": .kernels(["vae_softmax_cross_entropy", "vae_softmax_cross_entropy_gradient"]),
        "sum": .kernels(["vae_sum_all", "vae_sum_axis", "vae_strided_copy"]),
        "mean": .composite(["sum", "*"]),
        "max": .kernels(["vae_max_axis", "vae_fill", "vae_max_axis_gradient"]),
        "sortedWithinRows": .kernels(["vae_sort_rows", "vae_sort_rows_gradient"]),
        "positionsOfRowMaxima": .kernels(["vae_max_axis"]),
        "oneHot": .kernels(["vae_one_hot"]),
        "mirroringLines": .kernels(["vae_mirror_lines"]),
        "binarized": .kernels(["vae_binarize"]),
        "logSumExp": .kernels(["vae_log_sum_exp_axis", "vae_softmax_axis_gradient"]),
        "logMeanExp": .composite(["logSumExp", "-"]),
        "matmul": .cublas(kernels: []),
        "linear": .cublas(kernels: ["vae_add_channel_bias", "vae_channel_sums"]),
        "conv2d": .cublas(kernels: ["vae_im2col", "vae_col2im", "vae_add_channel_bias", "vae_channel_sums"]),
        "transposedConv2d": .cublas(kernels: ["vae_col2im", "vae_im2col", "vae_channel_sums"]),
        "upsampledNearest": .kernels(["vae_upsample_nearest", "vae_upsample_nearest_gradient"]),
        "movingAverage": .kernels(["vae_moving_average", "vae_multiply_scalar"]),
        "reparameterizedSample": .kernels(["vae_reparameterized_sample", "vae_reparameterized_sample_gradient"]),
        "standardNormalKL": .kernels(["vae_standard_normal_kl", "vae_standard_normal_kl_gradient"]),
        "gaussianLogDensity": .kernels(["vae_gaussian_row_log_density", "vae_gaussian_row_log_density_gradient", "vae_multiply_scalar",
                                        "vae_gaussian_row_log_density_varying_gradient"]),
        "gaussianLogDensityTerms": .composite(["-", "squared", "*", "exp", "+"]),
        "batchNormalized": .kernels(["vae_batch_norm_forward", "vae_batch_norm_backward"]),
        "reshaped": .layout,
        "transposed": .kernels(["vae_strided_copy"]),
        "slice": .kernels(["vae_strided_copy", "vae_fill", "vae_strided_scatter"]),
        "concatenate": .kernels(["vae_copy_block", "vae_copy_blocks"]),
        "split": .composite(["slice", "concatenate", "zeros"]),
        "gruCell": .kernels(["vae_gru_cell", "vae_gru_cell_gradient"]),
        "lstmCell": .kernels(["vae_lstm_cell", "vae_lstm_cell_gradient"]),
        "stackingRows": .composite(["concatenate"]),
        "gathering": .kernels(["vae_gather", "vae_gather_gradient"]),
        "repeatingEachRow": .kernels(["vae_strided_copy", "vae_sum_axis"]),
    ]

    /// CKernels' loops (CKernels.h) by C name; `vae_pool_run` (the CPU's thread pool) has no counterpart: a GPU
    /// launch is its own parallelism.
    public static let cpuKernels: [String: Implementation] = [
        "vae_adam_update": .kernels(["vae_adam_update"]),
        "vae_cross_entropy_row_sums": .kernels(["vae_cross_entropy_row_sums"]),
        "vae_log_sum_exp": .kernels(["vae_log_sum_exp_axis"]),
        "vae_softmax_scaled": .kernels(["vae_softmax_axis_gradient"]),
        "vae_sum": .kernels(["vae_sum_all"]),
        "vae_batch_norm_forward": .kernels(["vae_batch_norm_forward"]),
        "vae_batch_norm_backward": .kernels(["vae_batch_norm_backward"]),
        "vae_conv_direct_forward": .cublas(kernels: ["vae_im2col", "vae_add_channel_bias"]),
        "vae_conv_direct_input_gradient": .cublas(kernels: ["vae_col2im"]),
        "vae_conv_direct_weight_gradient": .cublas(kernels: ["vae_im2col"]),
        "vae_im2col": .kernels(["vae_im2col"]),
        "vae_col2im": .kernels(["vae_col2im"]),
    ]

    /// The other loops of the CPU backend that the table covers: the optimisers' updates (VAEOptimizers) and the
    /// random streams' draws (VAETensor's `RandomStream`).
    public static let otherOps: [String: Implementation] = [
        "Adam.update": .kernels(["vae_adam_update"]),
        "SGD.update": .kernels(["vae_sgd_update"]),
        "Adagrad.update": .kernels(["vae_adagrad_update"]),
        "RandomStream.uniform": .kernels(["vae_random"]),
        "RandomStream.normal": .kernels(["vae_random"]),
    ]

    /// Every kernel the table names.
    public static var kernelNames: Set<String> {
        Set((Array(tensorOps.values) + Array(cpuKernels.values) + Array(otherOps.values)).flatMap(\.kernelNames))
    }
}
