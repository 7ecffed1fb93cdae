import VAEDistributions
import VAENN
import VAETensor

/// VQ-VAE's ``PostTrainingFit``: the autoregressive ``CodePrior`` fitted by maximum likelihood to the training
/// images' code maps once the encoder and codebook are final (`prior_epochs`); afterwards the model's KL term,
/// NLL and samples use it.
final class CodePriorFit: PostTrainingFit {
    unowned let model: VQVAE

    init(_ model: VQVAE) { self.model = model }

    static let epochsSetting = Setting<Int>(
        "prior_epochs", default: 10, .integers(0...100_000),
        doc: "epochs of fitting the prior over code maps after training (0 = uniform prior)")

    var name: String { "prior" }
    var epochs: Int { model.specification[Self.epochsSetting] }
    var module: Module { model.prior }
    var isFitted: Bool { model.isPriorFitted }
    func markFitted() { model.priorFitted.value = Tensor(1) }
    func invalidate() { model.priorFitted.value = Tensor(0) }
    func targets(_ images: Tensor) -> [Int] { model.codeMaps(images) }
    var targetsPerImage: Int { model.positions }
    func losses(_ targets: [Int]) -> Tensor { model.prior.negativeLogProbability(targets) }
    var unit: String { "nats per code map" }
    var unfittedLoss: Double {
        -Double(Categorical.uniformLogProbability(variables: model.positions, categories: model.codes))
    }
}

extension VQVAE {
    public var postTrainingFit: (any PostTrainingFit)? { CodePriorFit(self) }
}
