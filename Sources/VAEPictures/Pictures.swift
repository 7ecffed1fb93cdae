import Foundation
import VAEFormats
import VAEModels
import VAETensor

/// The sample and reconstruction grids; the latent-space pictures are in ``LatentPictures``, the plots in
/// ``Charts`` and the whole set for a run in ``RunPictures``.
public enum Pictures {
    /// A grid of decoder means for prior draws z ~ p(z) from the "sampling" stream of `seed`, as PNG bytes.
    ///
    /// A conditional model draws all `count` images of class `label`; without a label it draws the class-by-sample
    /// grid: one row per class, and in each column the same z decoded as every class (`count / classes` columns).
    ///
    /// `latents` (`[count, latentSize]`, from a post-hoc sampler) are decoded instead of prior draws.
    public static func samplesPNG(model: any VariationalAutoencoder, count: Int, seed: UInt64,
                                  imageShape: [Int], label: Int? = nil, latents: Tensor? = nil) throws -> [UInt8] {
        if let latents {
            let images = withoutGradients { model.decode(latents).mean }
            return try ImageGrid.png(images, imageShape: imageShape, columns: Int(Double(latents.shape[0]).squareRoot().rounded(.up)))
        }
        var random = RandomStream(seed: seed, name: "sampling")
        let classes = model.conditionClasses
        if classes > 0 && label == nil {
            let columns = max(1, count / classes)
            let latents = model.samplePrior(count: columns, random: &random)
            let rows = (0..<classes).flatMap { _ in 0..<columns }
            let labels = (0..<classes).flatMap { [Int](repeating: $0, count: columns) }
            let images = withoutGradients { model.conditioned(on: labels).decode(latents.gathering(rows)).mean }
            return try ImageGrid.png(images, imageShape: imageShape, columns: columns)
        }
        if let label, classes > 0, !(0..<classes).contains(label) {
            throw PictureError("--label: expected a class from 0 to \(classes - 1), got \(label)")
        }
        let sampler = model.bound(label.map { [Int](repeating: $0, count: count)[...] })
        let images = withoutGradients { sampler.sampleImages(count: count, random: &random) }
        let columns = Int(Double(count).squareRoot().rounded(.up))
        return try ImageGrid.png(images, imageShape: imageShape, columns: columns)
    }

    public static func samples(model: any VariationalAutoencoder, count: Int, seed: UInt64, imageShape: [Int],
                               label: Int? = nil, latents: Tensor? = nil, to path: String) throws {
        try AtomicFile.write(try samplesPNG(model: model, count: count, seed: seed, imageShape: imageShape, label: label,
                                            latents: latents), to: path)
    }

    /// Rows of up to 16 test inputs, each row above the decoder means at their posterior means, as PNG bytes.
    /// A conditional model encodes and decodes each image with its label (`labels`, one per image).
    public static func reconstructionsPNG(model: any VariationalAutoencoder, images: Tensor, labels: [Int] = [],
                                          imageShape: [Int], count: Int = 32) throws -> [UInt8] {
        let count = min(count, images.shape[0])
        guard count > 0 else { throw PictureError("reconstructions: no test images") }
        let columns = min(16, count)
        let inputs = images.slice(0..<count)
        let bound = model.bound(labels.count >= count ? labels[0..<count] : nil)
        let outputs = withoutGradients { bound.decode(bound.latentSummary(inputs).code).mean }
        var rows: [Tensor] = []
        for start in stride(from: 0, to: count, by: columns) {
            let range = start..<min(start + columns, count)
            rows.append(inputs.slice(range))
            rows.append(outputs.slice(range))
        }
        let grid = Tensor.concatenate(rows, alongAxis: 0)
        return try ImageGrid.png(grid, imageShape: imageShape, columns: columns)
    }

    public static func reconstructions(model: any VariationalAutoencoder, images: Tensor, labels: [Int] = [],
                                       imageShape: [Int], count: Int = 32, to path: String) throws {
        try AtomicFile.write(try reconstructionsPNG(model: model, images: images, labels: labels, imageShape: imageShape,
                                                    count: count),
                             to: path)
    }
}
