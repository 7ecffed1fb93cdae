import VAETensor

/// What training, evaluation and the pictures need from a dataset: examples drawn in batches as rows of a float
/// matrix, optional class labels or factor values per example, and how an example can be drawn as a picture.
///
/// ``ImageDataset`` (IDX files, image folders) is one; text (token sequences of a vocabulary) and dSprites
/// (images with five factor values each) add a type that conforms, not a second trainer.
public protocol Dataset {
    /// Number of examples.
    var count: Int { get }
    /// Shape of one example as a model takes it, e.g. `[1, 28, 28]`; a batch has `product(shape)` columns.
    var exampleShape: [Int] { get }
    /// `[channels, height, width]` when an example can be drawn as an image (the run's pictures); nil otherwise.
    var pictureShape: [Int]? { get }
    /// One class per example, in `0..<classCount` (empty when the source has none).
    var labels: [Int] { get }
    /// The name of each class index (empty when the source has none).
    var classNames: [String] { get }
    /// Names of the factors of variation each example is labelled with (dSprites' shape, scale, …); empty for none.
    var factorNames: [String] { get }
    /// Factor values, row-major `[count, factorNames.count]`.
    var factors: [Int] { get }
    /// Where the data came from, for messages and reports.
    var source: String { get }
    /// The smallest and largest input value, to check them against a decoder's range; nil when empty.
    var valueRange: ClosedRange<Float>? { get }
    /// The examples at `indices` as `[indices.count, product(exampleShape)]`, with the augmentations whose
    /// streams `augmentation` holds (each stream advanced by the draws it made).
    func batch(_ indices: some Collection<Int>, augmentation: inout BatchAugmentation) -> Tensor
}

extension Dataset {
    public var factorNames: [String] { [] }
    public var factors: [Int] { [] }
    /// One more than the largest label, or the number of class names when that is larger.
    public var classCount: Int { max(classNames.count, (labels.max() ?? -1) + 1) }
    /// Values per example.
    public var exampleSize: Int { exampleShape.reduce(1, *) }

    /// The examples at `indices` without augmentation.
    public func batch(_ indices: some Collection<Int>) -> Tensor {
        var none = BatchAugmentation()
        return batch(indices, augmentation: &none)
    }
}

/// The random streams of the augmentations applied as a batch is drawn; a nil stream turns one off.
public struct BatchAugmentation {
    /// Dynamic binarisation: each value in [0, 1] becomes 1 with that probability, a fresh draw every batch.
    public var binarizing: RandomStream?
    /// Each image mirrored left–right with probability ½.
    public var flipping: RandomStream?

    public init(binarizing: RandomStream? = nil, flipping: RandomStream? = nil) {
        self.binarizing = binarizing
        self.flipping = flipping
    }
}
