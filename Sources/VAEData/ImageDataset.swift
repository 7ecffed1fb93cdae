import VAEFormats
import VAETensor

/// Images as rows of a float matrix in [0, 1] with optional class labels.
public struct ImageDataset: Dataset {
    /// `[count, channels·height·width]`, pixel values scaled to [0, 1].
    public let images: Tensor
    /// One class per image (empty when the source has no labels).
    public let labels: [Int]
    /// `[channels, height, width]` of one image.
    public let imageShape: [Int]
    /// Where the data came from, for messages and reports.
    public let source: String
    /// The name of each class index (sub-folder names for image folders; empty when the source has none).
    public let classNames: [String]

    public init(images: Tensor, labels: [Int], imageShape: [Int], source: String, classNames: [String] = []) {
        precondition(images.rank == 2 && images.shape[1] == imageShape.reduce(1, *))
        precondition(labels.isEmpty || labels.count == images.shape[0])
        self.images = images
        self.labels = labels
        self.imageShape = imageShape
        self.source = source
        self.classNames = classNames
    }

    public var count: Int { images.shape[0] }
    /// Values per image.
    public var featureCount: Int { images.shape[1] }
    public var exampleShape: [Int] { imageShape }
    public var pictureShape: [Int]? { imageShape }

    public var valueRange: ClosedRange<Float>? {
        guard images.count > 0 else { return nil }
        return images.scalars.withUnsafeBufferPointer { $0.min()!...$0.max()! }
    }

    /// The first `limit` images (all when `limit` is 0 or larger than the set).
    public func prefix(_ limit: Int) -> ImageDataset {
        guard limit > 0 && limit < count else { return self }
        return ImageDataset(images: images.slice(0..<limit), labels: labels.isEmpty ? [] : Array(labels[..<limit]),
                            imageShape: imageShape, source: source, classNames: classNames)
    }

    /// The images at `indices`, as a `[indices.count, featureCount]` batch. With `binarizing`, each pixel
    /// becomes 1 with probability equal to its grey level (dynamic binarisation, a fresh draw every call:
    /// `Tensor.binarized(by:)`).
    public func batch(_ indices: some Collection<Int>, binarizing random: inout RandomStream?) -> Tensor {
        let width = featureCount
        let rows = Array(indices)
        let values = images.scalars.withUnsafeBufferPointer { source in
            [Float](unsafeUninitializedCapacity: rows.count * width) { target, initialized in
                let (from, to) = (source.baseAddress!, target.baseAddress!)
                // Rows split over the threads; one block copy per row (an element loop here ran scalar).
                Parallel.forEachChunk(of: rows.count, minimumWork: width, grain: 1 << 15) { chunk in
                    for row in chunk { (to + row * width).initialize(from: from + rows[row] * width, count: width) }
                }
                initialized = rows.count * width
            }
        }
        let batch = Tensor(shape: [rows.count, width], scalars: values)
        guard random != nil else { return batch }
        return batch.binarized(by: random!.uniform(shape: batch.shape))
    }
}

/// Which half of a dataset.
public enum DatasetSplit: String, Sendable {
    case train
    case test

    var stem: String { self == .train ? "train" : "t10k" }
}

extension ImageDataset {
    /// Debian's `dataset-fashion-mnist` location, the default dataset.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// Loads an IDX dataset (MNIST layout: `train-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`, …)
    /// from `directory`. Labels are read when the label file exists and must match the image count.
    public static func idx(directory: String, split: DatasetSplit, limit: Int = 0) throws -> ImageDataset {
        let imagePath = try IDXReader.locate(stem: "\(split.stem)-images-idx3-ubyte", in: directory)
        let images = try IDXReader.read(path: imagePath)
        guard images.dimensions.count == 3 else {
            throw FormatError(message: "\(imagePath): expected 3 dimensions (count, rows, columns), found \(images.dimensions)")
        }
        let (total, height, width) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        let count = limit > 0 ? min(limit, total) : total
        let pixels = height * width
        var values = [Float](repeating: 0, count: count * pixels)
        images.bytes.withUnsafeBufferPointer { bytes in
            for index in 0..<(count * pixels) { values[index] = Float(bytes[index]) / 255 }
        }
        var labels: [Int] = []
        if let labelPath = try? IDXReader.locate(stem: "\(split.stem)-labels-idx1-ubyte", in: directory) {
            let labelArray = try IDXReader.read(path: labelPath)
            guard labelArray.dimensions == [total] else {
                throw FormatError(message: "\(labelPath): expected \(total) labels to match \(imagePath), found dimensions \(labelArray.dimensions)")
            }
            labels = labelArray.bytes.prefix(count).map(Int.init)
        }
        return ImageDataset(images: Tensor(shape: [count, pixels], scalars: values), labels: labels,
                            imageShape: [1, height, width], source: imagePath)
    }
}
