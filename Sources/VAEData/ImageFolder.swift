import Foundation
import VAEFormats
import VAETensor

/// Image-folder datasets: a directory of PNG or JPEG files, optionally in one sub-folder per class.
///
/// ```
/// faces/train/smiling/0001.png     faces/0001.png      (no labels: images at the top level)
/// faces/train/neutral/0002.png     faces/0002.jpg
/// faces/test/smiling/0107.png      …
/// ```
///
/// ```swift
/// let train = try ImageDataset.folder(directory: "faces", split: .train, imageSize: 64, channels: 3)
/// // train.imageShape == [3, 64, 64]; train.classNames == ["neutral", "smiling"]
/// ```
extension ImageDataset {
    /// Loads the images under `directory` (`*.png`, `*.jpg`, `*.jpeg`, any case, searched recursively; names
    /// starting with `.` are skipped), in byte order of their paths.
    ///
    /// - Split: when `directory/train` and `directory/test` both exist they are the two splits. Otherwise the split
    ///   is a fixed hold-out over the sorted images: every 10th one (position % 10 == 9) is test, the rest train.
    /// - Labels: the first-level sub-folder (of the split folder) holding each image, numbered in sorted order over
    ///   both splits, so train and test agree; `classNames[label]` is the folder name. No labels when every image
    ///   is at the top level; a mix of both is an error.
    /// - Size: with `imageSize`, each image is centre-cropped to a square (the odd pixel is cut from the right or
    ///   bottom) and resampled to `imageSize`×`imageSize`: area averaging when shrinking (each output pixel is the
    ///   mean of the input area it covers, fractional pixels weighted), bilinear (pixel centres aligned, edges
    ///   clamped) when enlarging. With `nil`, every image must have the first image's size.
    /// - Channels: 1 or 3; `nil` takes the first image's (grey files give 1, colour and palette files 3). Colour
    ///   becomes grey by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B); grey becomes colour by replication.
    /// - Values: scaled to [0, 1]; each row of `images` is one image in CHW order, `imageShape` = `[c, size, size]`.
    ///
    /// - Parameters:
    ///   - directory: the folder (class sub-folders, optionally under `train/` and `test/`).
    ///   - split: the training or the test images.
    ///   - imageSize: the side images are cropped and resampled to, or `nil` to keep their size.
    ///   - channels: 1 or 3, or `nil` for the first image's.
    ///   - limit: keep the first `limit` images of the split (all when 0); only those are decoded.
    ///   - sharing: lets processes share the decoding (MPI ranks, each decoding a part): called with the number of
    ///     images and a function that decodes a range of them (each image's values, concatenated), it returns
    ///     every image's values in order. Nil: this process decodes them all.
    /// - Throws: `FormatError` naming the folder or file: no images, an unreadable or corrupt file, sizes that
    ///   differ without `imageSize`, a mix of labelled and unlabelled images.
    public static func folder(
        directory: String, split: DatasetSplit, imageSize: Int? = nil, channels: Int? = nil, limit: Int = 0,
        sharing: ((_ count: Int, _ decode: (Range<Int>) throws -> [Float]) throws -> [Float])? = nil
    ) throws -> ImageDataset {
        if let imageSize, imageSize < 1 {
            throw FormatError(source: directory, "image size must be 1 or more, got \(imageSize)")
        }
        if let channels, channels != 1 && channels != 3 {
            throw FormatError(source: directory, "channels must be 1 (grey) or 3 (RGB), got \(channels)")
        }
        guard isDirectory(directory) else {
            throw FormatError(source: directory, "no such directory (looking for images: \(extensionList))")
        }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let (trainRoot, testRoot) = (base + "/train", base + "/test")
        let presplit = isDirectory(trainRoot) && isDirectory(testRoot)

        var files: [ImageFile]
        var classNames: [String]
        let root: String
        if presplit {
            root = split == .train ? trainRoot : testRoot
            let trainFiles = try listImages(in: trainRoot)
            let testFiles = try listImages(in: testRoot)
            classNames = try labelClasses(trainFiles + testFiles, root: base)
            files = split == .train ? trainFiles : testFiles
            guard !files.isEmpty else { throw noImages(in: root) }
        } else {
            root = base
            let all = try listImages(in: base)
            guard !all.isEmpty else { throw noImages(in: base) }
            classNames = try labelClasses(all, root: base)
            guard all.count >= 10 else {
                throw FormatError(source: base, "only \(all.count) images; the hold-out test split is every 10th "
                    + "image, so at least 10 are needed (or make train/ and test/ sub-folders)")
            }
            files = all.enumerated().filter { ($0.offset % 10 == 9) == (split == .test) }.map(\.element)
        }
        if limit > 0 && limit < files.count { files = Array(files[..<limit]) }

        let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($0.element, $0.offset) })
        guard let first = files.first else { throw noImages(in: root) }
        // The first image sets the size the others must have (without imageSize) and the channels (without channels).
        let firstImage = try ImageDecoder.decodeFile(first.path)
        let reference = (path: first.path, width: firstImage.width, height: firstImage.height)
        let outputChannels = channels ?? firstImage.channels
        func decode(_ range: Range<Int>) throws -> [Float] {
            var values: [Float] = []
            for index in range {
                let file = files[index]
                let image = index == 0 ? firstImage : try ImageDecoder.decodeFile(file.path)
                if imageSize == nil && (image.width != reference.width || image.height != reference.height) {
                    throw FormatError(source: file.path, "image is \(image.width)×\(image.height) but "
                        + "\(reference.path) is \(reference.width)×\(reference.height); set data_params.image_size "
                        + "to centre-crop and resize all images to one size")
                }
                let planes = Self.planes(of: image, channels: outputChannels)
                if let imageSize {
                    values += centreCropAndResize(planes, channels: outputChannels, height: image.height,
                                                  width: image.width, size: imageSize)
                } else {
                    values += planes
                }
            }
            return values
        }
        let values = try sharing.map { try $0(files.count, decode) } ?? decode(0..<files.count)
        let shape = imageSize.map { [outputChannels, $0, $0] } ?? [outputChannels, reference.height, reference.width]
        let labels = classNames.isEmpty ? [] : files.map { classIndex[$0.className!]! }
        return ImageDataset(images: Tensor(shape: [files.count, shape.reduce(1, *)], scalars: values),
                            labels: labels, imageShape: shape, source: root, classNames: classNames)
    }

    /// An image file and the first-level sub-folder it sits in (nil at the top level).
    struct ImageFile {
        let path: String
        let className: String?
    }

    private static var extensionList: String { ImageDecoder.fileExtensions.map { "*." + $0 }.joined(separator: ", ") }

    private static func noImages(in folder: String) -> FormatError {
        FormatError(source: folder, "no images found (looked for \(extensionList), in sub-folders too)")
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The images under `root`, recursively, sorted by the bytes of their paths (not by locale or Unicode
    /// normalisation, so the order and the hold-out are the same on every machine).
    static func listImages(in root: String) throws -> [ImageFile] {
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw FormatError(source: root, "cannot list the folder")
        }
        var files: [ImageFile] = []
        while let relative = walker.nextObject() as? String {
            let components = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard let name = components.last, !components.contains(where: { $0.hasPrefix(".") }) else { continue }
            let lowered = name.lowercased()
            guard ImageDecoder.fileExtensions.contains(where: { lowered.hasSuffix("." + $0) }) else { continue }
            let path = root + "/" + relative
            guard !isDirectory(path) else { continue }
            files.append(ImageFile(path: path, className: components.count > 1 ? components[0] : nil))
        }
        return files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// The sorted class names of `files`: empty when none is in a sub-folder, an error when only some are.
    private static func labelClasses(_ files: [ImageFile], root: String) throws -> [String] {
        let names = Set(files.compactMap(\.className))
        guard !names.isEmpty else { return [] }
        if let loose = files.first(where: { $0.className == nil }) {
            throw FormatError(source: loose.path, "image outside any class sub-folder while others under \(root) "
                + "are in class sub-folders; put every image in a class folder, or none")
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// One image as a model's input row: `channels` planes of values in [0, 1] (CHW), centre-cropped to a square
    /// and resampled to `size`×`size`, the conversions an image folder applies (grey ↔ colour included).
    public static func inputRow(_ image: DecodedImage, channels: Int, size: Int) -> [Float] {
        centreCropAndResize(planes(of: image, channels: channels), channels: channels, height: image.height,
                            width: image.width, size: size)
    }

    /// `image` as `channels` planes of values in [0, 1] (CHW), converting grey ↔ colour as needed.
    static func planes(of image: DecodedImage, channels: Int) -> [Float] {
        let pixelCount = image.width * image.height
        var planes = [Float](repeating: 0, count: channels * pixelCount)
        image.pixels.withUnsafeBufferPointer { source in
            planes.withUnsafeMutableBufferPointer { target in
                switch (image.channels, channels) {
                case (1, _):
                    for pixel in 0..<pixelCount {
                        let value = Float(source[pixel]) / 255
                        for channel in 0..<channels { target[channel * pixelCount + pixel] = value }
                    }
                case (_, 3):
                    for pixel in 0..<pixelCount {
                        for channel in 0..<3 { target[channel * pixelCount + pixel] = Float(source[3 * pixel + channel]) / 255 }
                    }
                default:  // colour → grey, ITU-R BT.601 luma
                    for pixel in 0..<pixelCount {
                        let (red, green, blue) = (Float(source[3 * pixel]), Float(source[3 * pixel + 1]),
                                                  Float(source[3 * pixel + 2]))
                        target[pixel] = (0.299 * red + 0.587 * green + 0.114 * blue) / 255
                    }
                }
            }
        }
        return planes
    }

    /// Centre-crops `channels` planes of `height`×`width` to a square and resamples it to `size`×`size`.
    static func centreCropAndResize(_ planes: [Float], channels: Int, height: Int, width: Int, size: Int) -> [Float] {
        let side = min(height, width)
        let (top, left) = ((height - side) / 2, (width - side) / 2)
        let weights = resamplingWeights(from: side, to: size)
        var output = [Float](repeating: 0, count: channels * size * size)
        var rows = [Float](repeating: 0, count: side * size)  // one channel, after the horizontal pass
        for channel in 0..<channels {
            let plane = channel * height * width
            for row in 0..<side {
                let start = plane + (top + row) * width + left
                for column in 0..<size {
                    var sum: Float = 0
                    for (index, weight) in weights[column] { sum += weight * planes[start + index] }
                    rows[row * size + column] = sum
                }
            }
            for row in 0..<size {
                for column in 0..<size {
                    var sum: Float = 0
                    for (index, weight) in weights[row] { sum += weight * rows[index * size + column] }
                    output[(channel * size + row) * size + column] = sum
                }
            }
        }
        return output
    }

    /// For each output position along one axis, the input positions and weights (summing to 1) that make it:
    /// area averaging when shrinking, bilinear with aligned pixel centres when enlarging, identity when equal.
    static func resamplingWeights(from input: Int, to output: Int) -> [[(index: Int, weight: Float)]] {
        if input == output { return (0..<input).map { [($0, 1)] } }
        let scale = Double(input) / Double(output)
        return (0..<output).map { position -> [(index: Int, weight: Float)] in
            if input > output {
                let (start, end) = (Double(position) * scale, Double(position + 1) * scale)
                return (Int(start.rounded(.down))..<min(input, Int(end.rounded(.up)))).compactMap { index in
                    let overlap = min(end, Double(index + 1)) - max(start, Double(index))
                    return overlap > 1e-12 ? (index, Float(overlap / scale)) : nil
                }
            }
            let centre = min(max((Double(position) + 0.5) * scale - 0.5, 0), Double(input - 1))
            let lower = Int(centre.rounded(.down))
            let fraction = Float(centre - Double(lower))
            guard lower + 1 < input && fraction > 0 else { return [(lower, 1)] }
            return [(lower, 1 - fraction), (lower + 1, fraction)]
        }
    }
}

/// Horizontal flip, the augmentation applied when batches are drawn.
extension ImageDataset {
    /// The images at `indices` as in `batch(_:binarizing:)`, each mirrored left–right with probability ½ when
    /// `augmentation.flipping` is a stream (one uniform draw per image, so the outcome depends only on the stream).
    public func batch(_ indices: some Collection<Int>, augmentation: inout BatchAugmentation) -> Tensor {
        let plain = batch(indices, binarizing: &augmentation.binarizing)
        guard augmentation.flipping != nil else { return plain }
        return flippedHorizontally(plain, random: &augmentation.flipping!)
    }

    /// `batch` (rows of images shaped like this dataset's) with each image mirrored along its width axis with
    /// probability ½.
    public func flippedHorizontally(_ batch: Tensor, random: inout RandomStream) -> Tensor {
        precondition(batch.rank == 2 && batch.shape[1] == featureCount)
        // Channels × height lines per image, each mirrored on its own; the draws where the batch lives.
        return batch.mirroringLines(width: imageShape[imageShape.count - 1],
                                    where: random.uniform(shape: [batch.shape[0]], on: batch.backend))
    }
}
