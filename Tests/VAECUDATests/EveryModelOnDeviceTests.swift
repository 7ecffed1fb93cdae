import Testing
import VAECUDA
import VAEModels
import VAENN
import VAETensor

/// Every image model of the registry, small, one training step with its parameters and batch on the emulated
/// device: the loss and each parameter's gradient as on the CPU, and the ops of the step that ran on host copies
/// no more than the model's entry below allows (the ops still without a device version; docs/cuda.md).
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct EveryModelOnDeviceTests {
    static let gaussian: ModelSettings = ["hidden_sizes": [8], "latent_size": 3]
    /// Each model, its specification and the ops it may still run on the host.
    static let cases: [(ModelSpecification, labels: Bool, hostOps: Set<String>)] = [
        (ModelSpecification(name: "mlp", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "conv", inputShape: [1, 8, 8], settings: ["hidden_sizes": [4, 6], "latent_size": 2, "dense_size": 8]), false, []),
        (ModelSpecification(name: "conv64", inputShape: [1, 8, 8], settings: ["hidden_sizes": [4, 6], "latent_size": 2]), false, []),
        (ModelSpecification(name: "beta-vae", network: "burgess", inputShape: [1, 64, 64], settings: ["hidden_sizes": [4, 4, 4, 4], "latent_size": 3, "dense_sizes": [8]]), false, []),
        (ModelSpecification(name: "beta-vae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "iwae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "miwae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "cvae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_size": 3, "class_count": 3]), true, []),
        (ModelSpecification(name: "categorical-vae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "categorical_size": 2, "categories": 4]), false, []),
        (ModelSpecification(name: "warmup-vae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "wae-mmd", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "swae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "info-vae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "logcosh-vae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "mssim-vae", inputShape: [1, 16, 16], settings: gaussian), false, []),
        (ModelSpecification(name: "vamp-prior", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_size": 3, "pseudo_inputs": 5]), false, []),
        (ModelSpecification(name: "hvae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_sizes": [3, 2], "latent_hidden_sizes": [4], "latent_hidden_layers": 1]), false, []),
        (ModelSpecification(name: "ladder-vae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_sizes": [3, 2], "latent_hidden_sizes": [4], "latent_hidden_layers": 1]), false, []),
        (ModelSpecification(name: "ladder-vae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "batch_norm": true, "latent_sizes": [3, 2], "latent_hidden_sizes": [4], "latent_hidden_layers": 1]), false, []),
        (ModelSpecification(name: "beta-tcvae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "factor-vae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_size": 3, "discriminator_sizes": [8, 8]]), false, []),
        (ModelSpecification(name: "dip-vae", inputShape: [1, 4, 4], settings: gaussian), false, []),
        (ModelSpecification(name: "joint-vae", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_size": 2, "categorical_size": 1, "categories": 4]), false, []),
        (ModelSpecification(name: "vq-vae", inputShape: [1, 8, 8], settings: ["hidden_sizes": [8]]), false, []),
        (ModelSpecification(name: "vq-vae", inputShape: [1, 8, 8], settings: ["hidden_sizes": [8], "ema_decay": 0.9, "codebook_size": 6]), false, []),
    ]

    @Test(arguments: cases.indices) func aStepAsOnTheCPU(_ index: Int) throws {
        let (specification, labelled, allowed) = Self.cases[index]
        var data = RandomStream(seed: 2, name: "x")
        try expectSameStep(specification, data.uniform(shape: [4, specification.inputSize]), labelled: labelled, allowed: allowed)
    }

    /// The text models: rows of token ids (padded), GRU and LSTM cells.
    @Test(arguments: ["sentence-vae/gru", "sentence-vae/lstm", "rnnlm/gru"]) func aTextModelStepAsOnTheCPU(_ which: String) throws {
        let parts = which.split(separator: "/").map(String.init)
        var settings: ModelSettings = ["vocabulary_size": 12, "embedding_size": 6, "hidden_size": 8, "word_dropout": 0.25]
        settings["rnn_cell"] = .text(parts[1])
        if parts[0] == "sentence-vae" { settings["latent_size"] = .integer(3) }
        let specification = ModelSpecification(name: parts[0], inputShape: [7], settings: settings)
        let tokens = SentenceVAE.rows([[4, 5, 6, 3], [7, 8, 3], [9, 10, 11, 4, 5, 3], [5, 3]], width: 7)
        try expectSameStep(specification, tokens, labelled: false, allowed: [])
    }

    /// Copies to the device in a training step after the first, where a model makes any (each waits for the
    /// device's queued work): the bound labels, once per batch; a text batch's ids, masks and positions, one
    /// `PackedUpload` (they were 10 copies for `sentence-vae`, 11 with LSTM cells, 6 for `rnnlm`).
    static let copiesInAStep = ["cvae": 1, "sentence-vae": 1, "sentence-vae/lstm": 1, "rnnlm": 1]
    /// Copies back in such a step (the trainer's read of the loss comes after it): VQ-VAE reads its entries' usage
    /// to pick those to restart; the text models read their token ids, which this test puts on the device (the
    /// trainer keeps a text batch on the host: `readsInputOnHost`).
    static let copiesBackInAStep = ["vq-vae": 1, "sentence-vae": 1, "rnnlm": 1]

    /// One training step, then the loss in evaluation mode, on the host and on the emulated device: the loss, the
    /// gradients and every buffer agree, nothing left the device, only `allowed` ops ran on host copies, and a
    /// step after the first copies to the device only what ``copiesInAStep`` says (its constants were made there once).
    func expectSameStep(_ specification: ModelSpecification, _ images: Tensor, labelled: Bool, allowed: Set<String>) throws {
        let label = "\(specification.name)/\(specification.network)"
        let (counting, backend) = try emulatedCachingBackend()
        let rows = images.shape[0]
        /// Two training steps (the second's loss and gradients kept), then the loss in evaluation mode (running
        /// averages, no noise), on the host or the device.
        func run(on device: CUDABackend?) throws -> (model: any VariationalAutoencoder, loss: Tensor, gradients: [Tensor], evaluation: Tensor) {
            var random = RandomStream(seed: 1, name: "init")
            let model = try ModelRegistry.make(specification, random: &random)
            model.move(to: device)
            let input = images.moved(to: device)
            func step(_ seed: UInt64) -> (Tensor, [Tensor]) {
                let bound = labelled ? model.conditioned(on: (0..<rows).map { $0 % 3 }) : model
                return model.valueWithGradients {
                    bound.loss(input, context: LossContext(noise: RandomStream(seed: seed, name: "noise"), step: 0)).total
                }
            }
            _ = step(5)
            let (copies, copiesBack) = (counting.copiesToDevice, counting.copiesToHost)
            let (loss, gradients) = step(3)
            if device != nil {
                let back = Self.copiesBackInAStep[specification.name] ?? 0
                #expect(counting.copiesToHost - copiesBack == back, "\(label): \(counting.copiesToHost - copiesBack) copies back in a step, expected \(back)")
                let cell = specification.settings["rnn_cell"] == .text("lstm") ? "/lstm" : ""
                let expected = Self.copiesInAStep[specification.name + cell] ?? 0
                #expect(counting.copiesToDevice - copies == expected, "\(label): \(counting.copiesToDevice - copies) copies to the device in a step, expected \(expected)")
            }
            let bound = labelled ? model.conditioned(on: (0..<rows).map { $0 % 3 }) : model
            model.setTraining(false)
            let evaluation = withoutGradients { bound.loss(input, context: LossContext(noise: RandomStream(seed: 4, name: "noise"), step: 1)).total }
            return (model, loss, gradients, evaluation)
        }
        func worst(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0 }
        let (cpu, device) = (try run(on: nil), try run(on: backend))
        #expect(backend.failure == nil, "\(label): \(String(describing: backend.failure))")
        #expect(device.loss.backend === backend, "\(label): the loss is not on the device")
        #expect(worst(device.loss, cpu.loss) <= 1e-5, "\(label): loss \(device.loss.scalar) vs \(cpu.loss.scalar)")
        #expect(worst(device.evaluation, cpu.evaluation) <= 1e-5, "\(label): evaluation \(device.evaluation.scalar) vs \(cpu.evaluation.scalar)")
        for ((name, _), (onDevice, onCPU)) in zip(device.model.namedParameters, zip(device.gradients, cpu.gradients)) {
            #expect(onDevice.backend === backend, "\(label): \(name)'s gradient is not on the device")
            #expect(worst(onDevice, onCPU) <= 1e-4, "\(label): \(name)'s gradient differs by \(worst(onDevice, onCPU))")
        }
        // Buffers too (batch normalisation's running averages): updated where they live; a step count stays on the host.
        for ((name, onDevice), (_, onCPU)) in zip(device.model.namedStates, cpu.model.namedStates) {
            #expect(onDevice.value.backend === (onDevice.isKeptOnHost ? nil : backend), "\(label): \(name) is not where it belongs")
            #expect(worst(onDevice.value, onCPU.value) <= 1e-5, "\(label): \(name) differs by \(worst(onDevice.value, onCPU.value))")
        }
        let extra = Set(backend.hostFallbacks.keys).subtracting(allowed)
        #expect(extra.isEmpty, "\(label) ran on the host: \(backend.hostFallbacks.sorted { $0.key < $1.key })")
    }
}
