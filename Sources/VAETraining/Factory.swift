import VAEData
import VAEModels
import VAENN
import VAEOptimizers
import VAETensor

/// Turns a validated ``RunConfig`` into the objects a run is made of.
public enum Factory {
    public static func specification(_ config: RunConfig, inputShape: [Int]) throws -> ModelSpecification {
        guard let activation = Activation(rawValue: config.model.activation) else {
            throw ModelError("model_params.activation: unknown '\(config.model.activation)'")
        }
        return ModelSpecification(name: config.model.name, inputShape: inputShape, hiddenSizes: config.model.hiddenSizes,
                                  latentSize: config.model.latentSize, activation: activation,
                                  likelihood: config.model.likelihood)
    }

    /// The model with freshly initialised weights from the run's "init" stream.
    public static func model(_ config: RunConfig, inputShape: [Int]) throws -> any VariationalAutoencoder {
        var random = RandomStream(seed: config.experiment.seed, name: "init")
        return try ModelRegistry.make(try specification(config, inputShape: inputShape), random: &random)
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
        default: throw ModelError("exp_params.optimizer: unknown '\(experiment.optimizer)'; expected adam, adamw, sgd or adagrad")
        }
    }

    /// Train and test sets as the config's `data_params` describe them.
    public static func datasets(_ config: RunConfig) throws -> (train: ImageDataset, test: ImageDataset) {
        let directory = config.data.dataDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError("\(directory): data directory not found (data_params.data_dir / --data; expected a directory of IDX files such as train-images-idx3-ubyte.gz)")
        }
        let train = try ImageDataset.idx(directory: directory, split: .train, limit: config.data.trainLimit)
        let test = try ImageDataset.idx(directory: directory, split: .test, limit: config.data.testLimit)
        guard train.imageShape == test.imageShape else {
            throw ModelError("\(directory): train images are \(train.imageShape) but test images are \(test.imageShape)")
        }
        return (train, test)
    }
}

import Foundation
