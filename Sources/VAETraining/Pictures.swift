import Foundation
import VAEFormats
import VAEModels
import VAETensor

/// The standard pictures of a trained model.
public enum Pictures {
    /// A grid of decoder means for z ~ N(0, I) drawn from the "sampling" stream of `seed`.
    public static func samples(model: any VariationalAutoencoder, count: Int, seed: UInt64, imageShape: [Int],
                               to path: String) throws {
        var random = RandomStream(seed: seed, name: "sampling")
        let images = withoutGradients { model.decode(random.normal(shape: [count, model.latentSize])).mean }
        let columns = Int(Double(count).squareRoot().rounded(.up))
        try AtomicFile.write(try ImageGrid.png(images, imageShape: imageShape, columns: columns), to: path)
    }

    /// Rows of 16 test inputs, each above the decoder mean at the posterior mean.
    public static func reconstructions(model: any VariationalAutoencoder, images: Tensor, imageShape: [Int],
                                       count: Int = 32, to path: String) throws {
        let count = min(count, images.shape[0])
        let columns = min(16, count)
        let inputs = images.slice(0..<count)
        let outputs = withoutGradients { model.decode(model.encode(inputs).mean).mean }
        var rows: [Tensor] = []
        for start in stride(from: 0, to: count, by: columns) {
            let range = start..<min(start + columns, count)
            rows.append(inputs.slice(range))
            rows.append(outputs.slice(range))
        }
        let grid = Tensor.concatenate(rows, alongAxis: 0)
        try AtomicFile.write(try ImageGrid.png(grid, imageShape: imageShape, columns: columns), to: path)
    }
}
