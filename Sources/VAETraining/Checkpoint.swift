import Foundation
import VAEFormats
import VAEModels
import VAENN
import VAEOptimizers
import VAETensor

/// A saved random stream: seed, stream identifier and counter (as decimal strings: JSON numbers lose
/// precision above 2⁵³).
public struct SavedStream: Codable, Equatable {
    public var seed: String
    public var stream: String
    public var counter: String

    public init(_ random: RandomStream) {
        seed = String(random.seed)
        stream = String(random.streamIdentifier)
        counter = String(random.counter)
    }

    public func restore(field: String) throws -> RandomStream {
        guard let seed = UInt64(seed), let stream = UInt64(stream), let counter = UInt64(counter) else {
            throw FormatError(message: "\(field): not a valid random-stream state (seed, stream and counter must be unsigned integers)")
        }
        return RandomStream(seed: seed, streamIdentifier: stream, counter: counter)
    }
}

/// The JSON sidecar next to the weights: where training stands, so that it can continue exactly.
public struct CheckpointState: Codable, Equatable {
    public var format = "vaekit-checkpoint-1"
    public var model: String
    /// Shape of one input image `[channels, height, width]`, so a run can be rebuilt without its data.
    public var inputShape: [Int]
    /// Completed epochs.
    public var epoch: Int
    /// Optimiser steps taken.
    public var step: Int
    public var optimizer: String
    public var learningRate: Double
    public var bestTestLoss: Double?
    /// The epoch whose test loss was lowest (its checkpoint is kept in `best/`).
    public var bestEpoch: Int?
    /// Random streams by role: "shuffle", "noise", "binarization" (empty for an imported run: fresh streams).
    public var random: [String: SavedStream]
    /// The weights, relative to the folder holding this JSON file.
    public var weightsFile = Checkpoint.weightsFile
    /// The optimiser moments, relative to the folder holding this JSON file; nil when there are none yet
    /// (an imported run starts with a fresh optimiser).
    public var optimizerFile: String? = Checkpoint.optimizerFile

    public init(model: String, inputShape: [Int], epoch: Int, step: Int, optimizer: String, learningRate: Double,
                bestTestLoss: Double?, bestEpoch: Int? = nil, random: [String: SavedStream]) {
        self.model = model
        self.inputShape = inputShape
        self.epoch = epoch
        self.step = step
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.bestTestLoss = bestTestLoss
        self.bestEpoch = bestEpoch
        self.random = random
    }
}

/// Saving and loading a model with its optimiser and training state, so that a `kill -9` at any moment leaves
/// the previous checkpoint loadable.
///
/// Layout of a run directory after epoch 4, when epoch 3 had the lowest test loss:
///
///     checkpoint.json                      the last checkpoint: state + the files below (the commit point)
///     checkpoints/epoch-4/model.safetensors, optimizer.safetensors
///     checkpoints/epoch-3/…                kept while best/ refers to it
///     best/checkpoint.json, best/config.yaml, best/model.safetensors   a loadable run of epoch 3
///     model.safetensors, optimizer.safetensors   hard links to the last epoch's files, for people and tools
///
/// A save writes the new epoch's files under their own folder (each atomically: temporary file, fsync, rename),
/// then replaces `best/checkpoint.json` when the epoch is the best, then `checkpoint.json`: until that rename
/// the previous pointer and the files it names are untouched. Only then are the top-level links moved and the
/// folders no pointer names removed. The weights also carry their epoch in their metadata, so a pointer and
/// weights from different saves are detected on load instead of mixing epochs.
public enum Checkpoint {
    public static let weightsFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "checkpoint.json"
    /// Folder of the per-epoch files, inside the run directory.
    public static let epochsFolder = "checkpoints"
    /// Folder of the best-by-test-loss checkpoint, inside the run directory.
    public static let bestFolder = "best"

    /// Saves `state.epoch`'s checkpoint in the run `directory`; it also becomes `best/` when
    /// `state.bestEpoch == state.epoch`. With no `optimizer`, no moments are stored (an imported run).
    ///
    /// `auxiliary`: the optimiser of the model's `AuxiliaryTraining` weights, whose moments are stored beside
    /// the model's (`exp_avg.discriminator.…`).
    public static func save(model: any VariationalAutoencoder, optimizer: (any Optimizer)?,
                            auxiliary: (any Optimizer)? = nil, state: CheckpointState, in directory: String) throws {
        let folder = "\(epochsFolder)/epoch-\(state.epoch)"
        try makeDirectory(directory + "/" + folder)
        let epochTag = [("epoch", String(state.epoch)), ("model", state.model), ("format", "pt")]
        let weights = model.stateDictionary.map { SafeTensorEntry(name: $0.name, shape: $0.value.shape, values: $0.value.scalars) }
        try AtomicFile.write(try SafeTensors.encode(weights, metadata: epochTag), to: "\(directory)/\(folder)/\(weightsFile)")

        var last = state
        last.weightsFile = "\(folder)/\(weightsFile)"
        last.optimizerFile = nil
        if let optimizer {
            var moments = Self.moments(of: optimizer, for: model.namedParameters)
            if let auxiliary, let trained = model.auxiliaryTraining {
                moments += Self.moments(of: auxiliary, for: trained.namedParameters)
            }
            try AtomicFile.write(try SafeTensors.encode(moments, metadata: epochTag + [("step", String(optimizer.step))]),
                                 to: "\(directory)/\(folder)/\(optimizerFile)")
            last.optimizerFile = "\(folder)/\(optimizerFile)"
        }
        AtomicFile.syncDirectory(directory + "/" + epochsFolder)

        let isBest = state.bestEpoch == state.epoch
        if isBest {
            // best/ is a run directory of its own (`vae eval RUN/best`); its files live one level up.
            let best = directory + "/" + bestFolder
            try makeDirectory(best)
            if let config = try? AtomicFile.read(directory + "/config.yaml", maximumBytes: 1 << 20) {
                try AtomicFile.write(config, to: best + "/config.yaml")
            }
            var bestState = last
            bestState.weightsFile = "../" + last.weightsFile
            bestState.optimizerFile = last.optimizerFile.map { "../" + $0 }
            try writeState(bestState, to: best + "/" + stateFile)
        }
        try writeState(last, to: directory + "/" + stateFile)   // the commit point

        try AtomicFile.link("\(directory)/\(last.weightsFile)", to: directory + "/" + weightsFile)
        if let file = last.optimizerFile {
            try AtomicFile.link("\(directory)/\(file)", to: directory + "/" + optimizerFile)
        } else {
            try? FileManager.default.removeItem(atPath: directory + "/" + optimizerFile)
        }
        if isBest {
            try AtomicFile.link("\(directory)/\(last.weightsFile)", to: "\(directory)/\(bestFolder)/\(weightsFile)")
        }
        removeUnreferencedEpochs(in: directory)
    }

    /// Deletes `checkpoints/epoch-*` folders that neither `checkpoint.json` nor `best/checkpoint.json` names
    /// (older epochs, and the remains of a save that was interrupted before its pointer was written), and
    /// temporary files a killed process left behind.
    static func removeUnreferencedEpochs(in directory: String) {
        let manager = FileManager.default
        var kept = Set<String>()
        for (pointerFolder, prefix) in [(directory, ""), (directory + "/" + bestFolder, "../")] {
            guard let state = try? loadState(from: pointerFolder) else { continue }
            for file in [state.weightsFile] + (state.optimizerFile.map { [$0] } ?? []) {
                let relative = file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : file
                let parts = relative.split(separator: "/")
                if parts.count == 3, parts[0] == Substring(epochsFolder) { kept.insert(String(parts[1])) }
            }
        }
        let epochs = directory + "/" + epochsFolder
        for name in (try? manager.contentsOfDirectory(atPath: epochs)) ?? [] where name.hasPrefix("epoch-") && !kept.contains(name) {
            try? manager.removeItem(atPath: epochs + "/" + name)
        }
        for folder in [directory, directory + "/" + bestFolder] {
            for name in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
                try? manager.removeItem(atPath: folder + "/" + name)
            }
        }
    }

    static func writeState(_ state: CheckpointState, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(state)), to: path)
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TrainingError("\(path): cannot create the checkpoint folder (\(error.localizedDescription))")
        }
    }

    public static func loadState(from directory: String) throws -> CheckpointState {
        let path = directory + "/" + stateFile
        let bytes = try AtomicFile.read(path, maximumBytes: 1 << 20)
        let state: CheckpointState
        do {
            state = try JSONDecoder().decode(CheckpointState.self, from: Data(bytes))
        } catch {
            throw FormatError(message: "\(path): not a VAEKit checkpoint (\(oneLine(error)))")
        }
        for (field, file) in [("weightsFile", state.weightsFile), ("optimizerFile", state.optimizerFile ?? "x")]
        where file.isEmpty || file.hasPrefix("/") {
            throw FormatError(message: "\(path): \(field) must be a path relative to \(directory), got '\(file)'")
        }
        guard state.epoch >= 0, state.step >= 0 else {
            throw FormatError(message: "\(path): epoch and step must be 0 or greater, got \(state.epoch) and \(state.step)")
        }
        return state
    }

    /// Copies the weights `state` names (relative to `directory`) into `model`, checking every name and shape and
    /// that they carry the state's epoch.
    public static func loadWeights(into model: any VariationalAutoencoder, from directory: String,
                                   state: CheckpointState) throws {
        try loadWeights(into: model, file: directory + "/" + state.weightsFile, expectedEpoch: state.epoch)
    }

    /// Copies weights from the safetensors `file` into `model`, checking every name and shape; `expectedEpoch`
    /// guards against weights from a different save than the JSON sidecar.
    public static func loadWeights(into model: any VariationalAutoencoder, file path: String,
                                   expectedEpoch: Int? = nil) throws {
        let (tensors, metadata) = try SafeTensors.decode(try AtomicFile.read(path), source: path)
        if let expectedEpoch, metadata["epoch"] != String(expectedEpoch) {
            throw FormatError(message: "\(path): holds epoch \(metadata["epoch"] ?? "?") but \(stateFile) says \(expectedEpoch); the save was interrupted")
        }
        try assign(tensors, to: model.namedStates, source: path)
    }

    /// Each slot's state for each parameter, named `slot.parameter` (`exp_avg.encoder.layers.0.weight`).
    static func moments(of optimizer: any Optimizer, for parameters: [(name: String, parameter: Parameter)]) -> [SafeTensorEntry] {
        var moments: [SafeTensorEntry] = []
        for (index, named) in parameters.enumerated() {
            for slot in optimizer.slotNames {
                guard let value = optimizer.state(slot: slot, parameter: index) else { continue }
                moments.append(SafeTensorEntry(name: "\(slot).\(named.name)", shape: named.parameter.shape, values: value.scalars))
            }
        }
        return moments
    }

    /// Restores optimiser moments saved by ``save(model:optimizer:auxiliary:state:in:)`` from `file`: the model's,
    /// or with `auxiliary`, those of its `AuxiliaryTraining` weights.
    public static func loadOptimizer(_ optimizer: any Optimizer, for model: any VariationalAutoencoder,
                                     auxiliary: Bool = false, file path: String, step: Int) throws {
        let parameters = auxiliary ? model.auxiliaryTraining?.namedParameters ?? [] : model.namedParameters
        let (tensors, _) = try SafeTensors.decode(try AtomicFile.read(path), source: path)
        // Files written before parameter names were snake_case hold `exp_avg.logVariance.weight`: mapped on reading.
        let byName = Dictionary(tensors.map { (snakeCased($0.name), $0) }, uniquingKeysWith: { first, _ in first })
        var slots: [String: [Tensor]] = [:]
        for slot in optimizer.slotNames {
            slots[slot] = try parameters.map { named in
                guard let entry = byName["\(slot).\(named.name)"], entry.values.count == named.parameter.value.count else {
                    throw FormatError(message: "\(path): missing or mis-sized '\(slot).\(named.name)'")
                }
                return Tensor(shape: [entry.values.count], scalars: entry.values)
            }
        }
        try optimizer.restore(step: step, slots: slots)
    }

    /// The first line of an error's description (decoding errors can be long).
    static func oneLine(_ error: Error) -> String {
        let text = (error as? DecodingError).map { error -> String in
            switch error {
            case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return (path.isEmpty ? "" : "field '\(path)': ") + context.debugDescription
            @unknown default: return "\(error)"
            }
        } ?? error.localizedDescription
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func assign(_ tensors: [SafeTensorEntry], to parameters: [(name: String, parameter: Parameter)],
                       source: String) throws {
        // Checkpoints written before parameter names were snake_case (`logVariance.weight`, BatchNorm's
        // `runningMean`) are read by mapping each stored name the same way.
        let byName = Dictionary(tensors.map { (snakeCased($0.name), $0) }, uniquingKeysWith: { first, _ in first })
        for (name, parameter) in parameters {
            guard let entry = byName[name] else {
                throw FormatError(message: "\(source): no tensor '\(name)' (this file was written for a different model)")
            }
            guard entry.shape == parameter.shape else {
                throw FormatError(message: "\(source): '\(name)' has shape \(entry.shape), the model expects \(parameter.shape)")
            }
            parameter.value = Tensor(shape: entry.shape, scalars: entry.values)
        }
        let expected = Set(parameters.map(\.name))
        if let extra = tensors.first(where: { !expected.contains(snakeCased($0.name)) }) {
            throw FormatError(message: "\(source): unexpected tensor '\(extra.name)' (this file was written for a different model)")
        }
    }
}
