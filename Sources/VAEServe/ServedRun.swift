import Foundation
import VAEData
import VAEModels
import VAEPictures
import VAETensor
import VAETraining

/// How a run's code is laid out, so the page can offer the right controls: Gaussian coordinates (sliders),
/// one-hot categorical variables after them (pickers), or a VQ-VAE's map of codebook indices.
public struct LatentLayout: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case gaussian, categorical, vq }
    public var kind: Kind
    /// Gaussian coordinates at the start of the code.
    public var continuous: Int
    /// Categorical variables after them, `categories` one-hot coordinates each.
    public var variables = 0
    public var categories = 0
    /// A VQ-VAE's codebook size and the side of its square map of code indices.
    public var codes = 0
    public var side = 0
}

/// One Gaussian coordinate of a run's code: its mean KL over the test images (active when above 0.01 nats, the
/// active-units threshold of Burda et al.) and a slider range covering the prior's ±3 and the test codes.
public struct LatentDimension: Codable, Sendable {
    public var index: Int
    public var kl: Double
    public var low: Double
    public var high: Double
}

/// What `GET /api/runs` says of a served run.
public struct RunSummary: Codable, Sendable {
    public var name: String
    public var model: String
    public var latentSize: Int
    /// `[channels, height, width]`.
    public var imageShape: [Int]
    public var layout: LatentLayout
    /// The Gaussian coordinates, most KL first.
    public var dimensions: [LatentDimension]
    public var activeDimensions: Int
    /// Classes a conditional model (cvae) decodes for; 0 otherwise.
    public var conditionClasses: Int
    public var classNames: [String]
    public var testImages: Int
    /// Samplers `POST /api/sample` accepts: the prior, and the fitted ones found in the run directory.
    public var samplers: [String]
    /// For a 2-D Gaussian code: the test images' codes `[x, y, label]` (at most 1000), drawn behind the pad.
    public var scatter: [[Double]]
}

/// A run the explorer serves: the trained model, its test images and their labels, and its summary.
final class ServedRun {
    static let testLimit = 1000
    static let activeThreshold = 0.01

    let name: String
    let run: TrainedRun
    let images: Tensor
    let labels: [Int]
    let summary: RunSummary

    var model: any VariationalAutoencoder { run.model }
    var imageShape: [Int] { run.state.inputShape }
    var layout: LatentLayout { summary.layout }

    init(name: String, directory: String) throws {
        let run = try TrainedRun(directory: directory)
        guard run.state.inputShape.count == 3, [1, 3].contains(run.state.inputShape[0]) else {
            throw TrainingError("\(directory): the explorer shows images of 1 or 3 channels; this run's inputs are \(run.state.inputShape)")
        }
        let (test, images) = try run.testData(limit: Self.testLimit)
        self.name = name
        self.run = run
        self.images = images
        labels = test.labels
        let model = run.model
        let layout = Self.layout(of: model)
        // The Gaussian coordinates' codes and KL over the test images, 100 at a time (a conditional model encodes
        // each with its label); a model without Gaussian coordinates (vq-vae) needs neither.
        let gaussian = layout.continuous > 0
        let codes = gaussian ? LatentCodes(model: model, images: images, labels: test.labels, batchSize: 100).means : []
        let kl = gaussian ? model.latentStatistics(images, labels: test.labels, batchSize: 100).klPerDimension : []
        let dimensions = (0..<layout.continuous).map { index -> LatentDimension in
            let values = codes.map { $0[index] }
            return LatentDimension(index: index, kl: kl[index],
                                   low: min(-3, (values.min() ?? 0) - 0.5), high: max(3, (values.max() ?? 0) + 0.5))
        }.sorted { $0.kl > $1.kl }
        let directory = run.directory
        let samplers = ["normal"]
            + (FileManager.default.fileExists(atPath: directory + "/" + PostHocSampler.gmmFile) ? ["gmm"] : [])
            + (FileManager.default.fileExists(atPath: directory + "/" + PostHocSampler.twoStageFolder + "/" + Checkpoint.stateFile) ? ["two-stage"] : [])
        let scatter = layout.kind == .gaussian && model.latentSize == 2
            ? codes.enumerated().map { [$0.element[0], $0.element[1], Double(test.labels.isEmpty ? 0 : test.labels[$0.offset])] } : []
        summary = RunSummary(
            name: name, model: run.config.model.name, latentSize: model.latentSize, imageShape: run.state.inputShape,
            layout: layout, dimensions: dimensions, activeDimensions: dimensions.filter { $0.kl > Self.activeThreshold }.count,
            conditionClasses: model.conditionClasses,
            classNames: test.classNames.isEmpty ? Charts.classNames(dataset: run.config.data.dataset, classCount: test.classCount)
                : test.classNames,
            testImages: images.shape[0], samplers: samplers, scatter: scatter)
    }

    static func layout(of model: any VariationalAutoencoder) -> LatentLayout {
        if let vq = model as? VQVAE {
            return LatentLayout(kind: .vq, continuous: 0, codes: vq.codes, side: vq.side)
        }
        if let categorical = (model as? ComposedVAE)?.latent as? CategoricalLatent {
            return LatentLayout(kind: .categorical, continuous: categorical.continuousSize,
                                variables: categorical.variables, categories: categorical.categories)
        }
        return LatentLayout(kind: .gaussian, continuous: model.latentSize)
    }

    /// Names for run directories: their last path components, made unique with `-2`, `-3`, ….
    static func names(for directories: [String]) -> [String] {
        var used: Set<String> = []
        return directories.map { directory in
            let base = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
            var name = base.isEmpty ? "run" : base, suffix = 2
            while used.contains(name) {
                name = "\(base)-\(suffix)"
                suffix += 1
            }
            used.insert(name)
            return name
        }
    }
}
