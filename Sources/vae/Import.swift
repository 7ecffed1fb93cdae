import ArgumentParser
import Foundation
import VAEData
import VAETraining

/// `vae import`: a run directory whose weights come from elsewhere (PyTorch, another VAEKit run), ready for
/// `vae eval`, `vae sample` and `vae train --resume`.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Start a run directory from a .safetensors file of weights with PyTorch names (e.g. from safetensors.torch.save_file).",
        discussion: """
            The file must hold exactly the model's tensors, by name and shape (`vae train` writes the same names: \
            encoder.layers.0.weight [400, 784], …); F32, F64, F16 and BF16 are read. The run starts at epoch 0 \
            with a fresh optimiser: continue training with `vae train --resume RUN_DIR --epochs N`.
            """)

    @Argument(help: "A .safetensors file of model weights.")
    var weights: String
    @Option(help: "Built-in config name (\(ConfigLoader.builtInNames.joined(separator: ", "))) or a YAML file describing the model.")
    var config = "mlp"
    @Option(help: "Run directory to create (it must not hold a run already).")
    var output: String
    @Option(help: "Shape of one input image as C,H,W (default: read from the data directory's test images).")
    var inputShape: String?
    @Option(help: "Directory of IDX files (overrides data_params.data_dir; used by eval and --resume).")
    var data: String?

    func validate() throws {
        if let inputShape, parsedShape(inputShape) == nil {
            throw ValidationError("--input-shape must be three positive integers C,H,W such as 1,28,28, got '\(inputShape)'")
        }
    }

    private func parsedShape(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ ($0 ?? 0) > 0 && $0! <= 1 << 16 }) else { return nil }
        return parts.map { $0! }
    }

    func run() throws {
        try reportingErrors {
            var resolved = try ConfigLoader.load(config)
            if let data { resolved.data.dataDirectory = data }
            try resolved.validate()
            let shape: [Int]
            if let inputShape, let parsed = parsedShape(inputShape) {
                shape = parsed
            } else {
                do {
                    shape = try Factory.dataset(resolved, split: .test, limit: 1).exampleShape
                } catch {
                    throw TrainingError("cannot tell the input image shape from \(resolved.data.dataDirectory) (\(error)); give --input-shape C,H,W")
                }
            }
            let model = try Factory.model(resolved, inputShape: shape)
            try Checkpoint.loadWeights(into: model, file: weights)
            if let bad = model.namedParameters.first(where: { !$0.parameter.value.isFinite }) {
                throw TrainingError("\(weights): tensor '\(bad.name)' holds NaN or infinite values")
            }
            let directory = try RunDirectory.choose(for: resolved, explicit: output)
            try RunDirectory.create(directory)
            try RunDirectory.write(resolved.yaml(), to: directory + "/config.yaml")
            try RunDirectory.write(RunDirectory.environment(command: CommandLine.arguments), to: directory + "/environment.json")
            let state = CheckpointState(model: resolved.model.name, inputShape: shape, epoch: 0, step: 0,
                                        optimizer: resolved.experiment.optimizer, learningRate: resolved.experiment.learningRate,
                                        bestTestLoss: nil, random: [:])
            try Checkpoint.save(model: model, optimizer: nil, state: state, in: directory)
            print("imported \(model.namedParameters.count) tensors (\(model.parameterCount) parameters) from \(weights) → \(directory)")
            print("next: vae eval \(directory), vae sample \(directory) --output samples.png, or vae train --resume \(directory) --epochs N")
        }
    }
}
