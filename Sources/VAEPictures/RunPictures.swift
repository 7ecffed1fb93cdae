import Foundation
import VAEFormats
import VAEModels
import VAETensor

/// The pictures of a run, by the name `vae plot` takes.
public enum PictureKind: String, CaseIterable, Sendable {
    case samples, reconstructions, interpolation, traversal, manifold, scatter, losses

    /// The file the picture is written to in a run directory.
    public var fileName: String {
        switch self {
        case .scatter, .losses: return "\(rawValue).svg"
        default: return "\(rawValue).png"
        }
    }

    public var title: String {
        switch self {
        case .samples: return "Samples"
        case .reconstructions: return "Reconstructions"
        case .interpolation: return "Interpolations"
        case .traversal: return "Latent traversals"
        case .manifold: return "2-D manifold"
        case .scatter: return "Latent space by class"
        case .losses: return "Loss curves"
        }
    }
}

/// One picture, rendered in memory: the file's bytes and a caption saying exactly what it shows.
public struct RenderedPicture {
    public var kind: PictureKind
    public var bytes: [UInt8]
    public var caption: String
    public var fileName: String { kind.fileName }
}

/// What the pictures of a model are drawn from.
public struct PictureInputs {
    public var model: any VariationalAutoencoder
    /// `[channels, height, width]`, 1 or 3 channels.
    public var imageShape: [Int]
    /// Test images as the model sees them (`[count, features]`, binarised when the run binarises).
    public var testImages: Tensor
    /// One class per test image, or empty.
    public var labels: [Int]
    /// `data_params.dataset`, for class names.
    public var dataset: String
    /// Names of the class indices when the data has them (image sub-folders); else derived from `dataset`.
    public var classNames: [String]
    /// Seed of the named streams ("sampling", "interpolation", "traversal").
    public var seed: UInt64
    public var sampleCount: Int
    /// Codes for samples.png from a post-hoc sampler (`[sampleCount, latentSize]`) and its name; nil: prior draws.
    public var sampleLatents: (codes: Tensor, sampler: String)?
    /// Spherical rather than straight interpolation.
    public var spherical: Bool
    /// metrics.csv, for the loss curves (nil: no loss curves).
    public var metricsPath: String?
    /// How many test images (the first ones) the scatter shows, and the latent statistics, traversal ranges and
    /// principal directions are computed from: enough for stable statistics, few enough to stay fast and
    /// keep the scatter's SVG small.
    public var analysisLimit: Int
    /// Rows of the traversal: the most active latent dimensions (all of them when the model has fewer).
    public var traversalDimensions: Int

    public init(model: any VariationalAutoencoder, imageShape: [Int], testImages: Tensor, labels: [Int],
                dataset: String, classNames: [String] = [], seed: UInt64, sampleCount: Int = 64,
                spherical: Bool = false, metricsPath: String? = nil, analysisLimit: Int = 2000,
                traversalDimensions: Int = 8) {
        self.model = model
        self.imageShape = imageShape
        self.testImages = testImages
        self.labels = labels
        self.dataset = dataset
        self.classNames = classNames
        self.seed = seed
        self.sampleCount = sampleCount
        self.spherical = spherical
        self.metricsPath = metricsPath
        self.analysisLimit = analysisLimit
        self.traversalDimensions = traversalDimensions
    }

    var analysisImages: Tensor {
        testImages.shape[0] > analysisLimit ? testImages.slice(0..<analysisLimit) : testImages
    }

    /// The labels of ``analysisImages``, or none when the test set has fewer labels than images.
    var analysisLabels: [Int] {
        let count = analysisImages.shape[0]
        return labels.count >= count ? Array(labels.prefix(count)) : []
    }
}

/// Renders and writes the standard pictures of a run.
public enum RunPictures {
    /// The kinds ``renderAll(_:)`` draws for `inputs`: all of them, less the loss curves without a metrics file.
    public static func kinds(for inputs: PictureInputs) -> [PictureKind] {
        PictureKind.allCases.filter { $0 != .losses || inputs.metricsPath != nil }
    }

    public static func render(_ kind: PictureKind, _ inputs: PictureInputs) throws -> RenderedPicture {
        let (model, shape, images, seed) = (inputs.model, inputs.imageShape, inputs.testImages, inputs.seed)
        let latent = model.latentSize
        switch kind {
        case .samples:
            if let (codes, sampler) = inputs.sampleLatents {
                let png = try Pictures.samplesPNG(model: model, count: codes.shape[0], seed: seed, imageShape: shape, latents: codes)
                return RenderedPicture(kind: kind, bytes: png, caption:
                    "Decoder means for \(codes.shape[0]) codes from the \(sampler) sampler (stream \"sampling\" of seed \(seed)).")
            }
            let png = try Pictures.samplesPNG(model: model, count: inputs.sampleCount, seed: seed, imageShape: shape)
            let classes = model.conditionClasses
            return RenderedPicture(kind: kind, bytes: png, caption: classes > 0
                ? "One row per class (0 to \(classes - 1), top to bottom); each column decodes one draw z ~ p(z) as every class (stream \"sampling\" of seed \(seed))."
                : "Decoder means for \(inputs.sampleCount) draws z ~ p(z) (stream \"sampling\" of seed \(seed)).")
        case .reconstructions:
            let png = try Pictures.reconstructionsPNG(model: model, images: images, labels: inputs.labels, imageShape: shape)
            return RenderedPicture(kind: kind, bytes: png, caption:
                "The first \(min(32, images.shape[0])) test images (odd rows) above the decoder means at their posterior means (even rows).")
        case .interpolation:
            let result = try LatentPictures.interpolation(model: model, images: images, labels: inputs.labels, imageShape: shape,
                                                          spherical: inputs.spherical, seed: seed)
            let pairs = result.indices.map { "\($0.0)→\($0.1)" }.joined(separator: ", ")
            return RenderedPicture(kind: kind, bytes: result.png, caption:
                "Each row: test image A, 10 decoder means along the \(inputs.spherical ? "spherical (slerp)" : "straight") path from A's posterior mean to B's, test image B. Pairs (test indices, stream \"interpolation\" of seed \(seed)): \(pairs).")
        case .traversal:
            let result = try LatentPictures.traversal(model: model, images: inputs.analysisImages, labels: inputs.analysisLabels, imageShape: shape,
                                                      dimensions: inputs.traversalDimensions, seed: seed)
            let rows = zip(result.dimensions, zip(result.kl, result.ranges)).map { dimension, info in
                String(format: "z%d (KL %.2f, %.2f…%.2f)", dimension + 1, info.0, info.1.lowerBound, info.1.upperBound)
            }.joined(separator: "; ")
            return RenderedPicture(kind: kind, bytes: result.png, caption:
                "One row per latent dimension, most active (largest KL) first, swept over m ± 3σ (m, σ: mean and standard deviation of its posterior means over \(inputs.analysisImages.shape[0]) test images) with the others at the posterior mean of test image \(result.baseIndex). Rows: \(rows).")
        case .manifold:
            let result = try LatentPictures.manifold(model: model, images: inputs.analysisImages, labels: inputs.analysisLabels,
                                                    imageShape: shape)
            return RenderedPicture(kind: kind, bytes: result.png, caption:
                "Decoder means over a grid on \(result.plane). The first coordinate grows to the right, the second upwards.")
        case .scatter:
            let analysis = inputs.analysisImages
            let labels = inputs.analysisLabels
            let codes = LatentCodes(model: model, images: analysis, labels: labels)
            let names = inputs.classNames.isEmpty
                ? Charts.classNames(dataset: inputs.dataset, classCount: (labels.max() ?? -1) + 1) : inputs.classNames
            let points: [(Double, Double)]
            let titles: (String, String)
            var how: String
            if latent <= 2 {
                points = codes.means.map { ($0[0], latent == 2 ? $0[1] : 0) }
                titles = ("z₁", latent == 2 ? "z₂" : "")
                how = "the posterior means themselves"
            } else {
                let (values, vectors) = PrincipalComponents.top(2, of: codes)
                let centre = codes.centre
                points = codes.means.map { mean in
                    let deviation = zip(mean, centre).map { $0 - $1 }
                    return (zip(deviation, vectors[0]).reduce(0) { $0 + $1.0 * $1.1 },
                            zip(deviation, vectors[1]).reduce(0) { $0 + $1.0 * $1.1 })
                }
                let total = codes.totalVariance
                func share(_ value: Double) -> String { total > 0 ? String(format: "%.0f%%", 100 * value / total) : "–" }
                titles = ("principal component 1 (\(share(values[0])) of variance)",
                          "principal component 2 (\(share(values[1])))")
                how = "their projections on the first two principal directions (latent size \(latent))"
            }
            let svg = try Charts.labelScatter(points: points, labels: labels, classNames: names,
                                              title: "Test posterior means by class", xTitle: titles.0, yTitle: titles.1)
            how = "Posterior means of the first \(analysis.shape[0]) test images, shown as \(how)"
            return RenderedPicture(kind: kind, bytes: Array(svg.utf8), caption: how
                + (labels.isEmpty ? "; the test set has no labels." : ", coloured by class."))
        case .losses:
            guard let path = inputs.metricsPath else { throw PictureError("loss curves: no metrics.csv given") }
            let svg = try Charts.lossCurves(try MetricsTable(contentsOf: path), title: "Training curves")
            return RenderedPicture(kind: kind, bytes: Array(svg.utf8), caption:
                "From metrics.csv, per image in nats: training −ELBO (mean over the epoch's batches), test −ELBO and its reconstruction term (after the epoch); right, the KL terms.")
        }
    }

    public static func renderAll(_ inputs: PictureInputs) throws -> [RenderedPicture] {
        try kinds(for: inputs).map { try render($0, inputs) }
    }

    /// What `vae train` writes: at the end (`epoch` nil) every picture and report.html in the run directory;
    /// during training (`trainer_params.picture_every`) the pictures alone into `pictures/epoch-NNNN/`.
    @discardableResult
    public static func writeForTraining(_ inputs: PictureInputs, runDirectory: String, epoch: Int? = nil) throws -> [RenderedPicture] {
        let pictures = try renderAll(inputs)
        if let epoch {
            let folder = runDirectory + String(format: "/pictures/epoch-%04d", epoch)
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw PictureError("\(folder): cannot create the pictures folder (\(error.localizedDescription))")
            }
            try write(pictures, in: folder)
        } else {
            try write(pictures, in: runDirectory)
            try ReportPage.write(directory: runDirectory, pictures: pictures)
        }
        return pictures
    }

    /// Writes one picture to `path`, atomically.
    public static func write(_ picture: RenderedPicture, to path: String) throws {
        try AtomicFile.write(picture.bytes, to: path)
    }

    /// Writes each picture to `directory/<kind>.png|svg`, atomically.
    public static func write(_ pictures: [RenderedPicture], in directory: String) throws {
        for picture in pictures { try AtomicFile.write(picture.bytes, to: directory + "/" + picture.fileName) }
    }
}
