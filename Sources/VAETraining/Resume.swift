import Foundation
import VAEFormats
import VAETensor

extension Trainer {
    /// Puts this trainer where the run in `directory` stopped: weights, optimiser moments and step, the
    /// shuffle/noise/binarization/flip streams, the epoch counter and the best test loss, so that
    /// ``run(in:report:progress:epochMetrics:)`` continues exactly as an uninterrupted run would have.
    ///
    /// A checkpoint without optimiser moments or random streams (one written by `vae import`) starts those fresh.
    /// - Throws: `TrainingError`/`FormatError` naming the file and field when the checkpoint does not belong to
    ///   this config's model and data, or is damaged.
    @discardableResult
    public func restore(from directory: String) throws -> CheckpointState {
        guard FileManager.default.fileExists(atPath: directory + "/" + Checkpoint.stateFile) else {
            throw TrainingError("\(directory): no checkpoint to resume from (\(Checkpoint.stateFile) is written after each epoch of `vae train`)")
        }
        let state = try Checkpoint.loadState(from: directory)
        let statePath = directory + "/" + Checkpoint.stateFile
        guard state.model == config.model.name else {
            throw TrainingError("\(statePath): checkpoint is for model '\(state.model)' but the config names '\(config.model.name)'")
        }
        guard state.inputShape == train.exampleShape else {
            throw TrainingError("\(statePath): the model was trained on images of shape \(state.inputShape) but \(config.data.dataDirectory) holds \(train.exampleShape)")
        }
        guard state.epoch < config.trainer.epochs else {
            throw TrainingError("\(directory): already trained \(state.epoch) epochs; the total (--epochs) must be greater than \(state.epoch), got \(config.trainer.epochs)")
        }
        try Checkpoint.loadWeights(into: model, from: directory, state: state)
        if let optimizerFile = state.optimizerFile {
            guard state.optimizer == config.experiment.optimizer else {
                throw TrainingError("\(statePath): optimiser moments are for '\(state.optimizer)' but the config names '\(config.experiment.optimizer)'")
            }
            try Checkpoint.loadOptimizer(optimizer, for: model, file: directory + "/" + optimizerFile, step: state.step)
            if let auxiliaryOptimizer {
                try Checkpoint.loadOptimizer(auxiliaryOptimizer, for: model, auxiliary: true,
                                             file: directory + "/" + optimizerFile, step: state.step)
            }
        }
        func stream(_ role: String, _ current: RandomStream) throws -> RandomStream {
            try state.random[role].map { try $0.restore(field: "\(statePath): random.\(role)") } ?? current
        }
        shuffle = try stream("shuffle", shuffle)
        noise = try stream("noise", noise)
        binarization = try stream("binarization", binarization)
        flipping = try stream("flip", flipping)
        auxiliaryNoise = try stream("auxiliary-noise", auxiliaryNoise)
        epoch = state.epoch
        step = state.step
        bestTestLoss = state.bestTestLoss
        bestEpoch = state.bestEpoch
        return state
    }
}
