import VAETensor

/// Rows of a tensor as a dataset: vectors with no picture, e.g. a model's latent codes, on which the two-stage
/// sampler trains its second VAE. Augmentations do not apply.
public struct TensorDataset: Dataset {
    /// `[count, width]`.
    public let rows: Tensor
    public let source: String
    public let labels: [Int]

    public init(rows: Tensor, source: String, labels: [Int] = []) {
        precondition(rows.rank == 2 && (labels.isEmpty || labels.count == rows.shape[0]))
        self.rows = rows
        self.source = source
        self.labels = labels
    }

    public var count: Int { rows.shape[0] }
    public var exampleShape: [Int] { [rows.shape[1]] }
    public var pictureShape: [Int]? { nil }
    public var classNames: [String] { [] }

    public var valueRange: ClosedRange<Float>? {
        guard rows.count > 0 else { return nil }
        return rows.scalars.withUnsafeBufferPointer { $0.min()!...$0.max()! }
    }

    public func batch(_ indices: some Collection<Int>, augmentation: inout BatchAugmentation) -> Tensor {
        rows.gathering(Array(indices))
    }
}
