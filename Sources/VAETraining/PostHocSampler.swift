import Foundation
import VAEData
import VAEFormats
import VAEModels
import VAETensor

/// Where `vae sample --sampler` draws latent codes from (pythae's post-hoc samplers): the model's prior (`normal`),
/// or a Gaussian mixture (`gmm`: 10 components, full covariances) fitted by EM to the posterior means of the run's
/// training images. The fitted mixture is saved in the run directory (``gmmFile``) and reused.
public enum PostHocSampler: String, CaseIterable, Sendable {
    case normal
    case gmm

    public static let gmmFile = "sampler-gmm.safetensors"
    public static let gmmComponents = 10

    /// `count` codes from this sampler, from the "sampling" stream of `seed`; `report` hears about a fit.
    public func latents(_ run: TrainedRun, count: Int, seed: UInt64, report: (String) -> Void = { _ in }) throws -> Tensor {
        var random = RandomStream(seed: seed, name: "sampling")
        switch self {
        case .normal:
            return run.model.samplePrior(count: count, random: &random)
        case .gmm:
            return try Self.gaussianMixture(run, report: report).sample(count: count, random: &random)
        }
    }

    /// The run's mixture: read from ``gmmFile``, or fitted to the posterior means of its training images (as
    /// `data_params` names them, `train_limit` applied) and written there.
    public static func gaussianMixture(_ run: TrainedRun, report: (String) -> Void = { _ in }) throws -> GaussianMixture {
        let path = run.directory + "/" + gmmFile
        if FileManager.default.fileExists(atPath: path) { return try read(path) }
        guard run.model.conditionClasses == 0 else {
            throw TrainingError("--sampler gmm: model '\(run.config.model.name)' is conditioned on labels; the mixture sampler is for unconditional models")
        }
        let train = try Factory.dataset(run.config, split: .train, limit: run.config.data.trainLimit)
        var codes: [[Double]] = []
        for start in stride(from: 0, to: train.count, by: 1000) {
            let summary = withoutGradients { run.model.latentSummary(train.batch(start..<min(start + 1000, train.count))) }
            let width = summary.code.shape[1]
            codes += (0..<summary.code.shape[0]).map { row in (0..<width).map { Double(summary.code.scalars[row * width + $0]) } }
        }
        var random = RandomStream(seed: run.config.experiment.seed, name: "gmm")
        let started = Date()
        let (fitted, history) = GaussianMixture.fit(codes, components: min(gmmComponents, codes.count), random: &random)
        try AtomicFile.write(try encode(fitted), to: path)
        // The file holds Float32 values: use what it holds, so the first draw and every later one agree.
        let mixture = try read(path)
        report(String(format: "fitted a %d-component Gaussian mixture to %d posterior means in %d EM steps (%.1f s): log-likelihood %.2f per code → %@",
                      mixture.components, codes.count, history.count - 1, Date().timeIntervalSince(started),
                      history.last ?? 0, path))
        return mixture
    }

    static func encode(_ mixture: GaussianMixture) throws -> [UInt8] {
        let (k, d) = (mixture.components, mixture.dimensions)
        return try SafeTensors.encode([
            SafeTensorEntry(name: "weights", shape: [k], values: mixture.weights.map(Float.init)),
            SafeTensorEntry(name: "means", shape: [k, d], values: mixture.means.joined().map(Float.init)),
            SafeTensorEntry(name: "covariances", shape: [k, d, d], values: mixture.covariances.joined().map(Float.init)),
        ], metadata: [("sampler", "gmm")])
    }

    static func read(_ path: String) throws -> GaussianMixture {
        let (tensors, _) = try SafeTensors.decode(try AtomicFile.read(path), source: path)
        func entry(_ name: String) throws -> SafeTensorEntry {
            guard let entry = tensors.first(where: { $0.name == name }) else {
                throw FormatError(source: path, "no tensor '\(name)' (expected weights, means, covariances; delete the file to fit again)")
            }
            return entry
        }
        let (weights, means, covariances) = (try entry("weights"), try entry("means"), try entry("covariances"))
        let (k, d) = (weights.shape.first ?? 0, means.shape.last ?? 0)
        guard k >= 1, d >= 1, means.shape == [k, d], covariances.shape == [k, d, d] else {
            throw FormatError(source: path, "shapes \(weights.shape), \(means.shape), \(covariances.shape) do not make a \(k)-component mixture")
        }
        let rows = { (values: [Float], width: Int) in stride(from: 0, to: values.count, by: width).map { values[$0..<($0 + width)].map(Double.init) } }
        return GaussianMixture(weights: weights.values.map(Double.init), means: rows(means.values, d),
                               covariances: rows(covariances.values, d * d))
    }
}
