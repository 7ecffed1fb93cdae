import VAEData
import VAEModels
import VAENN
import VAEOptimizers
import VAETensor

/// Turns a validated ``RunConfig`` into the objects a run is made of. Problems with the data it names are
/// ``DataError``s; with the model's settings, `ModelError`s; with the config itself, ``ConfigError``s.
public enum Factory {
    public static func specification(_ config: RunConfig, inputShape: [Int]) -> ModelSpecification {
        ModelSpecification(name: config.model.name, network: config.model.network, inputShape: inputShape,
                           settings: config.model.settings)
    }

    /// The model with freshly initialised weights from the run's "init" stream.
    public static func model(_ config: RunConfig, inputShape: [Int]) throws -> any VariationalAutoencoder {
        var random = RandomStream(seed: config.experiment.seed, name: "init")
        return try ModelRegistry.make(specification(config, inputShape: inputShape), random: &random)
    }

    public static func optimizer(_ config: RunConfig) throws -> any Optimizer {
        let experiment = config.experiment
        let rate = Float(experiment.learningRate), decay = Float(experiment.weightDecay)
        switch experiment.optimizer {
        case "adam": return Adam(learningRate: rate, beta1: Float(experiment.beta1), beta2: Float(experiment.beta2), weightDecay: decay)
        case "adamw": return Adam(learningRate: rate, beta1: Float(experiment.beta1), beta2: Float(experiment.beta2),
                                  weightDecay: decay, decoupledWeightDecay: true)
        case "sgd": return SGD(learningRate: rate, momentum: Float(experiment.momentum), weightDecay: decay)
        case "adagrad": return Adagrad(learningRate: rate, weightDecay: decay)
        default: throw ConfigError("exp_params.optimizer: unknown '\(experiment.optimizer)'; expected adam, adamw, sgd or adagrad")
        }
    }

    /// Train and test sets as the config's `data_params` describe them.
    /// `group`: processes that share the decoding of an image folder, each decoding its part (see
    /// `sharedDecoding(_:)`); other formats are read whole by each.
    public static func datasets(_ config: RunConfig, group: any ProcessGroup = SingleProcess()) throws -> (train: any Dataset, test: any Dataset) {
        let train = try dataset(config, split: .train, limit: config.data.trainLimit, group: group)
        let test = try dataset(config, split: .test, limit: config.data.testLimit, group: group)
        guard train.exampleShape == test.exampleShape else {
            throw DataError("\(config.data.dataDirectory): train images are \(train.exampleShape) but test images are \(test.exampleShape)")
        }
        return (train, test)
    }

    /// The original dSprites file when `data_dir` names an `.npz` (read once per process), nil when dSprites is made
    /// here (any other `data_dir`).
    public static func dSpritesArchive(_ config: RunConfig) throws -> DSpritesArchive? {
        let path = config.data.dataDirectory
        guard path.hasSuffix(".npz") else { return nil }
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError("\(path): dSprites file not found (data_params.data_dir / --data: the original dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz, or leave it unset to make the images here)")
        }
        return try DSpritesArchive.load(path)
    }

    /// One split: IDX files (`format: idx`, or `auto` when `train-images-idx3-ubyte[.gz]` is there) or a folder
    /// of PNG/JPEG images (`format: folder`, or `auto` otherwise), centre-cropped and resized to `image_size`.
    /// Text (`format: text`) is ``TextData``'s: sentences as ids of `vocabulary` (nil: counted from the training split).
    public static func dataset(_ config: RunConfig, split: DatasetSplit, limit: Int,
                               vocabulary: Vocabulary? = nil, group: any ProcessGroup = SingleProcess()) throws -> any Dataset {
        if config.data.isText {
            return try TextData.dataset(config, split: split, limit: limit, vocabulary: vocabulary)
        }
        if config.data.dataset == "dsprites" {
            return DSprites(split: split, limit: limit, archive: try dSpritesArchive(config))
        }
        let directory = config.data.dataDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError("\(directory): data directory not found (data_params.data_dir / --data; expected a directory of IDX files such as train-images-idx3-ubyte.gz, or of PNG/JPEG images)")
        }
        guard config.data.channels != 2 else {
            throw DataError("data_params.channels: expected 0 (as stored), 1 (grey) or 3 (RGB), got 2")
        }
        let hasIDX = (try? IDXReader.locate(stem: "train-images-idx3-ubyte", in: directory)) != nil
        let format = config.data.format == "auto" ? (hasIDX ? "idx" : "folder") : config.data.format
        if format == "idx" {
            guard config.data.imageSize == 0 && config.data.channels == 0 else {
                throw DataError("data_params.image_size and data_params.channels apply to image folders; \(directory) holds IDX files (set them to 0)")
            }
            return try ImageDataset.idx(directory: directory, split: split, limit: limit)
        }
        return try ImageDataset.folder(directory: directory, split: split,
                                       imageSize: config.data.imageSize > 0 ? config.data.imageSize : nil,
                                       channels: config.data.channels > 0 ? config.data.channels : nil, limit: limit,
                                       sharing: group.size > 1 ? sharedDecoding(group) : nil)
    }

    /// Decoding shared by the ranks of `group`: rank r decodes part r of the images (contiguous, in order), and
    /// every rank receives all of them (one all-gather, each part padded to the longest).
    static func sharedDecoding(_ group: any ProcessGroup) -> (Int, (Range<Int>) throws -> [Float]) throws -> [Float] {
        { count, decode in
            let parts = Parallel.partition(count, into: group.size)
            let mine = try decode(parts[group.rank])
            let width = parts[group.rank].isEmpty ? 0 : mine.count / parts[group.rank].count
            // Every rank learns the values per image (a rank with no images sends 0) before the pixels move.
            let widths = group.allGather([Double(width)])
            let imageWidth = Int(widths.max() ?? 0)
            let longest = parts.map(\.count).max() ?? 0
            var padded = mine
            padded += [Float](repeating: 0, count: longest * imageWidth - mine.count)
            let gathered = group.allGather(padded)
            return parts.indices.flatMap { rank in
                gathered[(rank * longest * imageWidth)..<(rank * longest * imageWidth + parts[rank].count * imageWidth)]
            }
        }
    }

    /// A Bernoulli decoder models values in [0, 1] only: data outside is an error that says so (a frequent
    /// PyTorch-VAE bug is normalising images to [−1, 1] and keeping the cross-entropy loss).
    public static func checkDataRange(_ data: any Dataset, model: any VariationalAutoencoder) throws {
        let readsText = model is SentenceVAE
        if readsText != (data is TextDataset) {
            throw DataError(readsText
                ? "\(data.source): model '\(model.specification.name)' reads sentences; set data_params.format: text and data_dir to a text file, a directory of train/valid/test files, or /usr/share/wordnet"
                : "\(data.source): text data needs a text model (model_params.name: sentence-vae or rnnlm); '\(model.specification.name)' reads images")
        }
        guard let observation = model.modules.compactMap({ $0 as? ObservationModel }).first,
              let (low, high) = data.valueRange.map({ ($0.lowerBound, $0.upperBound) }) else { return }
        let (range, source) = (observation.dataRange, data.source)
        if low < range.lowerBound || high > range.upperBound {
            throw DataError("\(source): data values span [\(low), \(high)] but model_params.likelihood '\(observation.kind.rawValue)' needs data in [\(range.lowerBound), \(range.upperBound)]; use likelihood: gaussian or rescale the data")
        }
    }
}

import Foundation
