import Foundation
import VAEFormats
import VAEModels
import VAETensor

/// The sample and reconstruction grids; the latent-space pictures are in ``LatentPictures``, the plots in
/// ``Charts`` and the whole set for a run in ``RunPictures``.
public enum Pictures {
    /// A grid of decoder means for z ~ N(0, I) drawn from the "sampling" stream of `seed`, as PNG bytes.
    public static func samplesPNG(model: any VariationalAutoencoder, count: Int, seed: UInt64,
                                  imageShape: [Int]) throws -> [UInt8] {
        var random = RandomStream(seed: seed, name: "sampling")
        let images = withoutGradients { model.sampleImages(count: count, random: &random) }
        let columns = Int(Double(count).squareRoot().rounded(.up))
        return try ImageGrid.png(images, imageShape: imageShape, columns: columns)
    }

    public static func samples(model: any VariationalAutoencoder, count: Int, seed: UInt64, imageShape: [Int],
                               to path: String) throws {
        try AtomicFile.write(try samplesPNG(model: model, count: count, seed: seed, imageShape: imageShape), to: path)
    }

    /// Rows of up to 16 test inputs, each row above the decoder means at their posterior means, as PNG bytes.
    public static func reconstructionsPNG(model: any VariationalAutoencoder, images: Tensor, imageShape: [Int],
                                          count: Int = 32) throws -> [UInt8] {
        let count = min(count, images.shape[0])
        guard count > 0 else { throw TrainingError("reconstructions: no test images") }
        let columns = min(16, count)
        let inputs = images.slice(0..<count)
        let outputs = withoutGradients { model.decode(model.latentSummary(inputs).code).mean }
        var rows: [Tensor] = []
        for start in stride(from: 0, to: count, by: columns) {
            let range = start..<min(start + columns, count)
            rows.append(inputs.slice(range))
            rows.append(outputs.slice(range))
        }
        let grid = Tensor.concatenate(rows, alongAxis: 0)
        return try ImageGrid.png(grid, imageShape: imageShape, columns: columns)
    }

    public static func reconstructions(model: any VariationalAutoencoder, images: Tensor, imageShape: [Int],
                                       count: Int = 32, to path: String) throws {
        try AtomicFile.write(try reconstructionsPNG(model: model, images: images, imageShape: imageShape, count: count),
                             to: path)
    }
}
