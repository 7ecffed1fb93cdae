import VAETensor

/// Token ids → vectors: row `id` of a `[vocabularySize, embeddingSize]` table (PyTorch's `nn.Embedding`, its
/// `weight`, initialised N(0, 1) as there). The gradient of a row used several times in a batch is the sum.
public final class Embedding: Module {
    public let weight: Parameter

    public init(vocabularySize: Int, embeddingSize: Int, random: inout RandomStream) {
        weight = Parameter(random.normal(shape: [vocabularySize, embeddingSize]))
        super.init()
    }

    public var vocabularySize: Int { weight.shape[0] }
    public var embeddingSize: Int { weight.shape[1] }

    /// `[tokens.count, embeddingSize]`; every id must be in `0..<vocabularySize`.
    public func callAsFunction(_ tokens: [Int]) -> Tensor {
        weight.tensor.gathering(tokens)
    }

    /// The same for ids where they are (on a device: gathered there, no copy).
    public func callAsFunction(_ tokens: RowIndices) -> Tensor {
        weight.tensor.gathering(tokens)
    }
}
