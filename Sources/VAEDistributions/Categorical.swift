import Foundation
import VAETensor

/// N independent categorical variables of K classes per row, from logits `[batch, N·K]` (variable-major: the K
/// logits of variable 0, then those of variable 1, …). Codes are one-hot rows of the same shape.
///
/// ```swift
/// let q = Categorical(logits: encoderOutput, categories: 10)   // [batch, 30·10] → 30 variables of 10 classes
/// let kl = q.klDivergenceFromUniform()                          // [batch], ≥ 0
/// ```
public struct Categorical {
    public let logits: Tensor
    public let categories: Int

    public init(logits: Tensor, categories: Int) {
        precondition(logits.rank == 2 && categories >= 1 && logits.shape[1] % categories == 0,
                     "Categorical: logits \(logits.shape) do not split into variables of \(categories) classes")
        self.logits = logits
        self.categories = categories
    }

    public var rows: Int { logits.shape[0] }
    /// Variables N per row.
    public var variables: Int { logits.shape[1] / categories }

    /// log q_k = logit_k − logΣexp(logits) per variable, `[batch, N·K]`; differentiable.
    public var logProbabilities: Tensor {
        let grouped = logits.reshaped([rows * variables, categories])
        return (grouped - grouped.logSumExp(alongAxis: 1, keepingDimension: true)).reshaped(logits.shape)
    }

    public var probabilities: Tensor { logProbabilities.exp() }

    /// Σ_k q_k (log q_k + log K) per coordinate, `[batch, N·K]`: a term of KL(q ‖ uniform), negative where q_k < 1/K;
    /// its sums over each variable's K coordinates are that variable's KL.
    func klTerms() -> Tensor {
        let logQ = logProbabilities
        return logQ.exp() * (logQ + Float(Foundation.log(Double(categories))))
    }

    /// Each variable's KL(q ‖ uniform) spread evenly over its K coordinates, `[batch, N·K]`: every value ≥ 0, and
    /// the row sums are the KL (what "KL per dimension" and active-unit reports expect).
    public func klPerCoordinateFromUniform() -> Tensor {
        let perVariable = klTerms().reshaped([rows, variables, categories]).sum(alongAxis: 2, keepingDimension: true)
        return (perVariable * (1 / Float(categories)) * Tensor.ones([1, 1, categories])).reshaped(logits.shape)
    }

    /// KL(q ‖ uniform) summed over the variables: one value ≥ 0 per row, at most N·log K.
    public func klDivergenceFromUniform() -> Tensor { klTerms().sum(alongAxis: 1) }

    /// One-hot draws by the Gumbel-max trick (argmax of logits + Gumbel noise), `[batch, N·K]`; no gradient.
    public func sample(using random: inout RandomStream) -> Tensor {
        let noisy = logits.scalars.withUnsafeBufferPointer { values in
            zip(values, Gumbel.noise(count: values.count, random: &random)).map { $0 + $1 }
        }
        return Categorical.oneHotOfMaxima(noisy, shape: logits.shape, categories: categories)
    }

    /// log q(code) summed over the variables for one-hot `code` rows: `[batch]`; differentiable in the logits.
    public func logProbability(_ code: Tensor) -> Tensor { (logProbabilities * code).sum(alongAxis: 1) }

    /// One-hot codes drawn from the uniform prior: `count` rows of `variables` variables of `categories` classes.
    public static func uniformSample(count: Int, variables: Int, categories: Int,
                                     random: inout RandomStream) -> Tensor {
        var scalars = [Float](repeating: 0, count: count * variables * categories)
        for variable in 0..<(count * variables) {
            scalars[variable * categories + random.integer(below: categories)] = 1
        }
        return Tensor(shape: [count, variables * categories], scalars: scalars)
    }

    /// Log-probability of a one-hot code under the uniform prior: −N·log K per row.
    public static func uniformLogProbability(variables: Int, categories: Int) -> Float {
        -Float(Double(variables) * Foundation.log(Double(categories)))
    }

    /// One-hot rows marking the largest of each group of `categories` values (the first on ties).
    static func oneHotOfMaxima(_ values: [Float], shape: [Int], categories: Int) -> Tensor {
        var scalars = [Float](repeating: 0, count: values.count)
        for group in 0..<(values.count / categories) {
            let start = group * categories
            var best = start
            for index in start..<(start + categories) where values[index] > values[best] { best = index }
            scalars[best] = 1
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// The Gumbel-Softmax / Concrete relaxation of ``Categorical`` (Jang, Gu & Poole 2017; Maddison et al. 2017):
/// y = softmax((logits + g)/τ) per variable with g ~ Gumbel(0, 1), a differentiable stand-in for a one-hot draw
/// that approaches one as τ → 0.
public struct RelaxedOneHotCategorical {
    public let categorical: Categorical
    public let temperature: Float

    public init(logits: Tensor, categories: Int, temperature: Float) {
        precondition(temperature > 0, "RelaxedOneHotCategorical: temperature must be positive, got \(temperature)")
        categorical = Categorical(logits: logits, categories: categories)
        self.temperature = temperature
    }

    /// A reparameterised relaxed draw `[batch, N·K]` (rows of each variable sum to 1). With `hard`, the
    /// straight-through estimator: the forward value is the one-hot argmax, the gradient is the relaxed one's.
    public func sample(using random: inout RandomStream, hard: Bool = false) -> Tensor {
        let (rows, width, categories) = (categorical.rows, categorical.logits.shape[1], categorical.categories)
        let noise = Gumbel.noise(shape: [rows, width], on: categorical.logits.backend, random: &random)
        let scaled = ((categorical.logits + noise) * (1 / temperature)).reshaped([rows * width / categories, categories])
        let relaxed = (scaled - scaled.logSumExp(alongAxis: 1, keepingDimension: true)).exp().reshaped([rows, width])
        guard hard else { return relaxed }
        let oneHot = Categorical.oneHotOfMaxima(relaxed.scalars, shape: relaxed.shape, categories: categories)
        return relaxed.passingGradient(withValue: oneHot)
    }
}

/// Standard Gumbel noise g = −log(−log u), u uniform in (0, 1).
enum Gumbel {
    static func noise(count: Int, random: inout RandomStream) -> [Float] {
        random.uniform(count: count).map { -Foundation.log(-Foundation.log($0)) }
    }

    /// Noise of `shape` where `backend` is: on the host the values above; on a device −log(−log u) of the same
    /// uniforms drawn there (within its rounding of log), rather than values copied there.
    static func noise(shape: [Int], on backend: (any TensorBackend)?, random: inout RandomStream) -> Tensor {
        guard backend != nil else { return Tensor(shape: shape, scalars: noise(count: shape.reduce(1, *), random: &random)) }
        return -(-random.uniform(shape: shape, on: backend).log()).log()
    }
}
