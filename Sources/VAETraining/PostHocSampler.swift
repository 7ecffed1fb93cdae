import Foundation
import VAEData
import VAEFormats
import VAEModels
import VAETensor

/// Where `vae sample --sampler` draws latent codes from (pythae's post-hoc samplers): the model's prior (`normal`);
/// a Gaussian mixture (`gmm`: 10 components, full covariances up to ``gmmFullCovarianceLimit`` code dimensions,
/// diagonal ones beyond, e.g. VQ-VAE's 3136) fitted by EM to the posterior means of the run's
/// training images; or the two-stage VAE (`two-stage`, Dai & Wipf 2019): a second VAE trained on those codes, whose
/// prior draws it decodes into codes. Drawn codes go through the model's `nearestLatentCodes` (VQ-VAE snaps them to
/// its codebook). Fitted samplers are saved in the run directory (``gmmFile``,
/// ``twoStageFolder``, itself a run directory) and reused.
public enum PostHocSampler: String, CaseIterable, Sendable {
    case normal
    case gmm
    case twoStage = "two-stage"

    public static let gmmFile = "sampler-gmm.safetensors"
    public static let gmmComponents = 10
    /// The widest codes that get full covariances (pythae's default); wider ones get diagonal covariances.
    public static let gmmFullCovarianceLimit = 256

    /// `count` codes from this sampler, from the "sampling" stream of `seed`; `report` hears about a fit.
    public func latents(_ run: TrainedRun, count: Int, seed: UInt64, report: (String) -> Void = { _ in }) throws -> Tensor {
        var random = RandomStream(seed: seed, name: "sampling")
        switch self {
        case .normal:
            return run.model.samplePrior(count: count, random: &random)
        case .gmm:
            return run.model.nearestLatentCodes(try Self.gaussianMixture(run, report: report).sample(count: count, random: &random))
        case .twoStage:
            let second = try Self.twoStageRun(run, report: report)
            return run.model.nearestLatentCodes(
                withoutGradients { second.model.decode(second.model.samplePrior(count: count, random: &random)).mean })
        }
    }

    public static let twoStageFolder = "sampler-two-stage"
    /// The second VAE: 2 hidden layers of 512 (ReLU), as many latent dimensions as the codes, a Gaussian decoder
    /// with its variance learned (as Dai & Wipf learn γ), Adam 1e-3, batch 128, 20 epochs; the last tenth of the
    /// codes is its test set.
    public static let twoStageEpochs = 20

    /// The run's second-stage VAE: read from ``twoStageFolder``, or trained on the posterior means of its training
    /// images and written there (a run directory: config.yaml, metrics.csv, checkpoints).
    public static func twoStageRun(_ run: TrainedRun, report: (String) -> Void = { _ in }) throws -> TrainedRun {
        let folder = run.directory + "/" + twoStageFolder
        if FileManager.default.fileExists(atPath: folder + "/" + Checkpoint.stateFile) { return try TrainedRun(directory: folder) }
        let codes = try posteriorMeans(run, sampler: "two-stage")
        let (count, width) = (codes.shape[0], codes.shape[1])
        let split = max(1, count - max(1, count / 10))
        var config = RunConfig.defaults
        config.model.settings = ["hidden_sizes": [512, 512], "latent_size": .integer(width), "likelihood": "gaussian",
                                 "learn_variance": true]
        config.trainer.epochs = twoStageEpochs
        config.trainer.runName = twoStageFolder
        config.trainer.threads = run.config.trainer.threads
        config.data.dataset = "posterior means of \(run.directory)"
        config.experiment.seed = run.config.experiment.seed
        let trainer = try Trainer(config: config, train: TensorDataset(rows: codes.slice(0..<split), source: "\(run.directory) codes"),
                                  test: TensorDataset(rows: codes.slice(split..<count), source: "\(run.directory) codes (last tenth)"))
        try RunDirectory.create(folder)
        report("training the second-stage VAE on \(count) posterior means (\(width) dimensions) → \(folder)")
        try trainer.run(in: folder, report: report)
        return try TrainedRun(directory: folder)
    }

    /// The posterior means of the run's training images (`data_params`, `train_limit` applied), `[n, d]`.
    static func posteriorMeans(_ run: TrainedRun, sampler: String) throws -> Tensor {
        guard run.model.conditionClasses == 0 else {
            throw TrainingError("--sampler \(sampler): model '\(run.config.model.name)' is conditioned on labels; post-hoc samplers are for unconditional models")
        }
        let train = try Factory.dataset(run.config, split: .train, limit: run.config.data.trainLimit)
        return Tensor.stackingRows(train.count, chunk: 1000) { range in withoutGradients { run.model.latentSummary(train.batch(range)).code } }
    }

    /// The run's mixture: read from ``gmmFile``, or fitted to the posterior means of its training images (as
    /// `data_params` names them, `train_limit` applied) and written there.
    public static func gaussianMixture(_ run: TrainedRun, report: (String) -> Void = { _ in }) throws -> GaussianMixture {
        let path = run.directory + "/" + gmmFile
        if FileManager.default.fileExists(atPath: path) { return try read(path) }
        let means = try posteriorMeans(run, sampler: "gmm")
        let width = means.shape[1]
        let codes = (0..<means.shape[0]).map { row in (0..<width).map { Double(means.scalars[row * width + $0]) } }
        var random = RandomStream(seed: run.config.experiment.seed, name: "gmm")
        let started = Date()
        let kind: GaussianMixture.CovarianceKind = width <= gmmFullCovarianceLimit ? .full : .diagonal
        let (fitted, history) = GaussianMixture.fit(codes, components: min(gmmComponents, codes.count), kind: kind,
                                                    random: &random)
        try AtomicFile.write(try encode(fitted), to: path)
        // The file holds Float32 values: use what it holds, so the first draw and every later one agree.
        let mixture = try read(path)
        report(String(format: "fitted a %d-component Gaussian mixture (%@ covariances, %d dimensions) to %d posterior means in %d EM steps (%.1f s): log-likelihood %.2f per code → %@",
                      mixture.components, kind.rawValue, width, codes.count, history.count - 1, Date().timeIntervalSince(started),
                      history.last ?? 0, path))
        return mixture
    }

    static func encode(_ mixture: GaussianMixture) throws -> [UInt8] {
        let (k, d) = (mixture.components, mixture.dimensions)
        return try SafeTensors.encode([
            SafeTensorEntry(name: "weights", shape: [k], values: mixture.weights.map(Float.init)),
            SafeTensorEntry(name: "means", shape: [k, d], values: mixture.means.joined().map(Float.init)),
            SafeTensorEntry(name: "covariances", shape: mixture.kind == .full ? [k, d, d] : [k, d],
                            values: mixture.covariances.joined().map(Float.init)),
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
        guard k >= 1, d >= 1, means.shape == [k, d], covariances.shape == [k, d, d] || covariances.shape == [k, d] else {
            throw FormatError(source: path, "shapes \(weights.shape), \(means.shape), \(covariances.shape) do not make a \(k)-component mixture (covariances [k, d, d] or diagonal [k, d])")
        }
        let kind: GaussianMixture.CovarianceKind = covariances.shape.count == 3 ? .full : .diagonal
        let rows = { (values: [Float], width: Int) in stride(from: 0, to: values.count, by: width).map { values[$0..<($0 + width)].map(Double.init) } }
        return GaussianMixture(weights: weights.values.map(Double.init), means: rows(means.values, d),
                               covariances: rows(covariances.values, kind == .full ? d * d : d), kind: kind)
    }
}
