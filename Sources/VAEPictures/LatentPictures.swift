import Foundation
import VAEModels
import VAETensor

/// Pictures that walk through latent space: interpolations, traversals and the decoded 2-D manifold.
///
/// Each returns PNG bytes (tiled by ``ImageGrid``) and what a caption needs; nothing is written to disk here.
public enum LatentPictures {
    /// Rows of pairs of test images: image A, `steps` decoder means along the path between the posterior means of
    /// A and B (straight, or spherical with `spherical`), then image B. Pairs are drawn without repetition from
    /// the "interpolation" stream of `seed`.
    /// A conditional model encodes each image with its label (`labels`, one per image) and decodes a row with
    /// image A's.
    public static func interpolation(model: any VariationalAutoencoder, images: Tensor, labels: [Int] = [],
                                     imageShape: [Int], pairs: Int = 8, steps: Int = 10, spherical: Bool = false,
                                     seed: UInt64) throws -> (png: [UInt8], indices: [(Int, Int)]) {
        guard images.shape[0] >= 2 else {
            throw PictureError("interpolation: needs at least 2 test images, got \(images.shape[0])")
        }
        guard steps >= 2 else { throw PictureError("interpolation: steps must be 2 or more, got \(steps)") }
        let pairs = max(1, min(pairs, images.shape[0] / 2))
        var random = RandomStream(seed: seed, name: "interpolation")
        let chosen = Array(random.permutation(images.shape[0]).prefix(2 * pairs))
        let inputs = images.gathering(chosen)
        let chosenLabels = labels.count == images.shape[0] ? chosen.map { labels[$0] } : []
        let codes = LatentCodes(model: model, images: inputs, labels: chosenLabels)
        var path: [Float] = []
        for pair in 0..<pairs {
            let points = LatentPath.points(from: codes.means[2 * pair], to: codes.means[2 * pair + 1], steps: steps,
                                           spherical: spherical)
            path += points.flatMap { $0.map(Float.init) }
        }
        let rowLabels = chosenLabels.isEmpty ? [] : (0..<pairs).flatMap { [Int](repeating: chosenLabels[2 * $0], count: steps) }
        let decoded = decode(model, path, rows: pairs * steps, labels: rowLabels)
        var tiles: [Tensor] = []
        for pair in 0..<pairs {
            tiles.append(inputs.slice((2 * pair)..<(2 * pair + 1)))
            tiles.append(decoded.slice((pair * steps)..<((pair + 1) * steps)))
            tiles.append(inputs.slice((2 * pair + 1)..<(2 * pair + 2)))
        }
        let png = try ImageGrid.png(Tensor.concatenate(tiles, alongAxis: 0), imageShape: imageShape, columns: steps + 2)
        return (png, (0..<pairs).map { (chosen[2 * $0], chosen[2 * $0 + 1]) })
    }

    /// What a traversal shows: which dimensions (most active first), their KL and the swept interval of each.
    public struct Traversal {
        public var png: [UInt8]
        public var dimensions: [Int]
        public var kl: [Double]
        public var ranges: [ClosedRange<Double>]
        /// The test image whose posterior mean fixes the other dimensions.
        public var baseIndex: Int
    }

    /// One row per latent dimension, the `dimensions` most active first (largest mean KL per dimension, from
    /// `VariationalAutoencoder/latentStatistics(_:labels:batchSize:)`). Along a row that dimension runs over m ± 3σ in `steps` even steps,
    /// where m and σ are the mean and standard deviation of its posterior means over `images` (the aggregate
    /// posterior's scale, which is what the decoder has learned to read; σ = 1, the prior's, when the means do
    /// not vary); every other dimension stays at the posterior mean of one test image drawn from the "traversal"
    /// stream of `seed`.
    /// A conditional model encodes with `labels` (one per image) and decodes every row with the base image's.
    public static func traversal(model: any VariationalAutoencoder, images: Tensor, labels: [Int] = [],
                                 imageShape: [Int], dimensions: Int = 8, steps: Int = 11,
                                 seed: UInt64) throws -> Traversal {
        guard images.shape[0] >= 1 else { throw PictureError("traversal: needs at least 1 test image") }
        guard steps >= 2 else { throw PictureError("traversal: steps must be 2 or more, got \(steps)") }
        let labels = labels.count == images.shape[0] ? labels : []
        let statistics = model.latentStatistics(images, labels: labels)
        let kl = statistics.klPerDimension
        let ranked = kl.indices.sorted { (i: Int, j: Int) -> Bool in kl[i] != kl[j] ? kl[i] > kl[j] : i < j }
        let chosen = Array(ranked.prefix(max(1, dimensions)))
        let codes = LatentCodes(model: model, images: images, labels: labels)
        let (centre, spread) = (codes.centre, codes.spread)
        var random = RandomStream(seed: seed, name: "traversal")
        let baseIndex = random.integer(below: images.shape[0])
        let base = codes.means[baseIndex]
        var latents: [Float] = []
        var ranges: [ClosedRange<Double>] = []
        for dimension in chosen {
            let sigma = spread[dimension] > 1e-6 ? spread[dimension] : 1
            let (low, high) = (centre[dimension] - 3 * sigma, centre[dimension] + 3 * sigma)
            ranges.append(low...high)
            for step in 0..<steps {
                var point = base
                point[dimension] = low + (high - low) * Double(step) / Double(steps - 1)
                latents += point.map(Float.init)
            }
        }
        let decoded = decode(model, latents, rows: chosen.count * steps,
                             labels: labels.isEmpty ? [] : [Int](repeating: labels[baseIndex], count: chosen.count * steps))
        let png = try ImageGrid.png(decoded, imageShape: imageShape, columns: steps)
        return Traversal(png: png, dimensions: chosen, kl: chosen.map { statistics.klPerDimension[$0] },
                         ranges: ranges, baseIndex: baseIndex)
    }

    /// What a manifold shows: the plane it decodes and how the axes are scaled.
    public struct Manifold {
        public var png: [UInt8]
        /// "the prior's quantiles over (z1, z2)" or "the first two principal directions …".
        public var plane: String
    }

    /// A `gridSize × gridSize` grid of decoder means over a latent plane, Keras's `plot_latent_space`: columns
    /// step the first coordinate left to right, rows the second bottom to top. Both coordinates run over the prior
    /// quantiles Φ⁻¹((i + ½)/gridSize). With latent size 2 the plane is (z₁, z₂) itself. With more dimensions it is
    /// the plane through the mean of the posterior means of `images` spanned by their first two principal
    /// directions, each scaled by its standard deviation (so a step is one quantile of the data's spread along it);
    /// every other component stays at the mean. With latent size 1 it is a single row.
    /// A conditional model encodes with `labels` (one per image) and decodes the whole grid with the first
    /// image's label (named in ``Manifold/plane``).
    public static func manifold(model: any VariationalAutoencoder, images: Tensor, labels: [Int] = [],
                                imageShape: [Int], gridSize: Int = 20) throws -> Manifold {
        guard gridSize >= 2 else { throw PictureError("manifold: grid size must be 2 or more, got \(gridSize)") }
        let latent = model.latentSize
        let quantiles = LatentPath.priorQuantiles(gridSize)
        let origin: [Double]
        let axes: [[Double]]
        var plane: String
        let labels = model.conditionClasses > 0 && labels.count == images.shape[0] ? labels : []
        switch latent {
        case 1:
            (origin, axes) = ([0], [[1]])
            plane = "z₁ over the prior's quantiles"
        case 2:
            (origin, axes) = ([0, 0], [[1, 0], [0, 1]])
            plane = "(z₁, z₂) over the prior's quantiles Φ⁻¹((i + ½)/\(gridSize)), ±\(String(format: "%.2f", quantiles.last!))"
        default:
            guard images.shape[0] >= 2 else { throw PictureError("manifold: needs at least 2 test images for PCA") }
            let codes = LatentCodes(model: model, images: images, labels: labels)
            let (values, vectors) = PrincipalComponents.top(2, of: codes)
            origin = codes.centre
            axes = zip(values, vectors).map { value, vector in vector.map { $0 * max(value, 0).squareRoot() } }
            let total = codes.totalVariance
            let share = total > 0 ? 100 * (values[0] + values[1]) / total : 0
            plane = String(format: "the first two principal directions of the test posterior means (%.0f%% of their variance), ±%.2f standard deviations along each; other components at the mean",
                           share, quantiles.last!)
        }
        let rows = axes.count == 1 ? 1 : gridSize
        var latents: [Float] = []
        for row in 0..<rows {
            for column in 0..<gridSize {
                var point = origin
                for dimension in 0..<latent {
                    point[dimension] += quantiles[column] * axes[0][dimension]
                    if axes.count > 1 { point[dimension] += quantiles[gridSize - 1 - row] * axes[1][dimension] }
                }
                latents += point.map(Float.init)
            }
        }
        if let label = labels.first { plane += ", decoded as class \(label) (the first test image's)" }
        let decoded = decode(model, latents, rows: rows * gridSize,
                             labels: labels.first.map { [Int](repeating: $0, count: rows * gridSize) } ?? [])
        return Manifold(png: try ImageGrid.png(decoded, imageShape: imageShape, columns: gridSize), plane: plane)
    }

    /// Decoder means for `rows` latent codes given row-major in `latents`, conditioned on `labels` (one per row)
    /// when given; 64 rows at a time (a 20×20 manifold of 64×64 images in one batch took 700 MB of activations).
    static func decode(_ model: any VariationalAutoencoder, _ latents: [Float], rows: Int, labels: [Int] = []) -> Tensor {
        let width = model.latentSize
        return Tensor.stackingRows(rows, chunk: 64) { range in
            let decoder = model.bound(labels.count == rows ? labels[range] : nil)
            return withoutGradients {
                decoder.decode(Tensor(shape: [range.count, width],
                                      scalars: Array(latents[(range.lowerBound * width)..<(range.upperBound * width)]))).mean
            }
        }
    }
}
