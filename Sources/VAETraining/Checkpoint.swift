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
            throw FormatError(message: "checkpoint.json: \(field) is not a valid random-stream state")
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
    /// Random streams by role: "shuffle", "noise", "binarization".
    public var random: [String: SavedStream]
    public var weightsFile = Checkpoint.weightsFile
    public var optimizerFile = Checkpoint.optimizerFile
}

/// Saving and loading a model with its optimiser and training state.
///
/// Files: `model.safetensors` (weights, PyTorch-style names), `optimizer.safetensors` (moments, named
/// `<slot>.<parameter>`, as in PyTorch's optimizer state) and `checkpoint.json`. Each is written atomically
/// (temporary file, fsync, rename); the JSON is written last and names the epoch the weights carry in their
/// metadata, so a crash between writes is detected on load instead of mixing epochs.
public enum Checkpoint {
    public static let weightsFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "checkpoint.json"

    public static func save(model: any VariationalAutoencoder, optimizer: any Optimizer, state: CheckpointState,
                            in directory: String) throws {
        let epochTag = [("epoch", String(state.epoch)), ("model", state.model), ("format", "pt")]
        let weights = model.stateDictionary.map { SafeTensorEntry(name: $0.name, shape: $0.value.shape, values: $0.value.scalars) }
        try AtomicFile.write(try SafeTensors.encode(weights, metadata: epochTag), to: directory + "/" + weightsFile)

        var moments: [SafeTensorEntry] = []
        for (index, named) in model.namedParameters.enumerated() {
            for slot in optimizer.slotNames {
                guard let value = optimizer.state(slot: slot, parameter: index) else { continue }
                moments.append(SafeTensorEntry(name: "\(slot).\(named.name)", shape: named.parameter.shape, values: value.scalars))
            }
        }
        try AtomicFile.write(try SafeTensors.encode(moments, metadata: epochTag + [("step", String(optimizer.step))]),
                             to: directory + "/" + optimizerFile)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(state)), to: directory + "/" + stateFile)
    }

    public static func loadState(from directory: String) throws -> CheckpointState {
        let path = directory + "/" + stateFile
        let bytes = try AtomicFile.read(path, maximumBytes: 1 << 20)
        do {
            return try JSONDecoder().decode(CheckpointState.self, from: Data(bytes))
        } catch {
            throw FormatError(message: "\(path): not a VAEKit checkpoint (\(error.localizedDescription))")
        }
    }

    /// Copies weights from `directory` into `model`, checking every name and shape; `expectedEpoch` guards
    /// against weights from a different save than the JSON sidecar.
    public static func loadWeights(into model: any VariationalAutoencoder, from directory: String,
                                   expectedEpoch: Int? = nil) throws {
        let path = directory + "/" + weightsFile
        let (tensors, metadata) = try SafeTensors.decode(try AtomicFile.read(path), source: path)
        if let expectedEpoch, metadata["epoch"] != String(expectedEpoch) {
            throw FormatError(message: "\(path): holds epoch \(metadata["epoch"] ?? "?") but \(stateFile) says \(expectedEpoch); the save was interrupted")
        }
        try assign(tensors, to: model.namedParameters, source: path)
    }

    /// Restores optimiser moments saved by ``save(model:optimizer:state:in:)``.
    public static func loadOptimizer(_ optimizer: any Optimizer, for model: any VariationalAutoencoder,
                                     from directory: String, step: Int) throws {
        let path = directory + "/" + optimizerFile
        let (tensors, _) = try SafeTensors.decode(try AtomicFile.read(path), source: path)
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var slots: [String: [Tensor]] = [:]
        for slot in optimizer.slotNames {
            slots[slot] = try model.namedParameters.map { named in
                guard let entry = byName["\(slot).\(named.name)"], entry.values.count == named.parameter.value.count else {
                    throw FormatError(message: "\(path): missing or mis-sized '\(slot).\(named.name)'")
                }
                return Tensor(shape: [entry.values.count], scalars: entry.values)
            }
        }
        try optimizer.restore(step: step, slots: slots)
    }

    static func assign(_ tensors: [SafeTensorEntry], to parameters: [(name: String, parameter: Parameter)],
                       source: String) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
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
        if let extra = tensors.first(where: { !expected.contains($0.name) }) {
            throw FormatError(message: "\(source): unexpected tensor '\(extra.name)' (this file was written for a different model)")
        }
    }
}
