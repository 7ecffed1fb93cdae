import Foundation
import VAEData
import VAEModels

/// A finished (or checkpointed) run loaded back from its directory: config, state and model with weights.
public struct TrainedRun {
    public let directory: String
    public let config: RunConfig
    public let state: CheckpointState
    public let model: any VariationalAutoencoder
    /// A text run's vocabulary (`vocabulary.txt`); nil for images.
    public let vocabulary: Vocabulary?

    public init(directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError("\(directory): no such run directory")
        }
        let configPath = directory + "/config.yaml"
        guard FileManager.default.fileExists(atPath: configPath),
              FileManager.default.fileExists(atPath: directory + "/" + Checkpoint.stateFile) else {
            throw TrainingError("\(directory): not a VAEKit run directory (expected config.yaml and \(Checkpoint.stateFile) from `vae train`)")
        }
        config = try ConfigLoader.load(configPath, keysOfOtherModels: .ignore)
        state = try Checkpoint.loadState(from: directory)
        guard state.model == config.model.name else {
            throw TrainingError("\(directory): checkpoint is for model '\(state.model)' but config.yaml names '\(config.model.name)'")
        }
        model = try Factory.model(config, inputShape: state.inputShape)
        if let text = model as? SentenceVAE {
            let read = try Vocabulary.read(fromDirectory: directory)
            guard read.count == text.vocabularySize else {
                throw TrainingError("\(directory)/\(Vocabulary.fileName): \(read.count) tokens, but the weights cover \(text.vocabularySize) (model_params.vocabulary_size); the vocabulary file does not belong to these weights")
            }
            vocabulary = read
        } else {
            vocabulary = nil
        }
        try Checkpoint.loadWeights(into: model, from: directory, state: state)
        model.setTraining(false)
        self.directory = directory
    }
}
