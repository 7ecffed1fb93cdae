import VAEDistributions
import VAENN
import VAETensor

/// The conditional VAE (`cvae`, Sohn, Lee & Yan 2015): the MLP VAE with a one-hot class label appended to the
/// encoder's input, q(z|x, y), and to the decoder's input, p(x|z, y); the prior stays N(0, I). Decoding one z
/// with different labels draws the same "style" as different classes.
///
/// Training, evaluation and the pictures bind one label per row with ``conditioned(on:)`` and use the returned
/// view, which shares these parameters. Called without labels (e.g. by `vae bench`), the model conditions on an
/// all-zero label vector, a class it was never trained on.
///
/// ```yaml
/// model_params: {name: cvae, hidden_sizes: [400], latent_size: 20, class_count: 10}   # 0 = from the labels
/// ```
public final class ConditionalVAE: Module, GaussianLatentAutoencoder {
    public let specification: ModelSpecification
    public let encoder: MLP        // [x, y] → hidden
    public let mean: Linear        // hidden → μ
    public let logVariance: Linear // hidden → log σ²
    public let decoder: MLP        // [z, y] → logits of p(x|z, y)
    public let observation: ObservationModel

    public var conditionClasses: Int { specification.objective.classCount }
    /// Each shard binds its own rows' labels (``VariationalAutoencoder/bound(_:)``).
    public var lossSplitsOverRows: Bool { true }

    public init(_ specification: ModelSpecification, random: inout RandomStream) throws {
        let classes = specification.objective.classCount
        guard classes >= 1 else {
            throw ModelError("model_params.class_count: cvae needs the number of classes (or labelled data to count them), got \(classes)")
        }
        self.specification = specification
        let hidden = specification.hiddenSizes
        encoder = MLP(sizes: [specification.inputSize + classes] + hidden, activation: specification.activation,
                      activatesOutput: true, random: &random)
        mean = Linear(inputSize: hidden.last!, outputSize: specification.latentSize, random: &random)
        logVariance = Linear(inputSize: hidden.last!, outputSize: specification.latentSize, random: &random)
        decoder = MLP(sizes: [specification.latentSize + classes] + hidden.reversed() + [specification.inputSize],
                      activation: specification.activation, random: &random)
        observation = try ObservationModel(specification)
        super.init()
    }

    /// q(z|x, y) for one label per row of `input`.
    public func encode(_ input: Tensor, labels: Tensor) -> DiagonalNormal {
        let hidden = encoder(Tensor.concatenate([input, labels], alongAxis: 1))
        return DiagonalNormal(mean: mean(hidden), logVariance: logVariance(hidden))
    }

    /// p(x|z, y) for one label per row of `latent`.
    public func decode(_ latent: Tensor, labels: Tensor) -> any Likelihood {
        observation(decoder(Tensor.concatenate([latent, labels], alongAxis: 1)))
    }

    public func encode(_ input: Tensor) -> DiagonalNormal { encode(input, labels: .zeros([input.shape[0], conditionClasses])) }
    public func decode(_ latent: Tensor) -> any Likelihood { decode(latent, labels: .zeros([latent.shape[0], conditionClasses])) }

    public func conditioned(on labels: [Int]) -> any VariationalAutoencoder {
        LabelledCVAE(model: self, labels: Self.oneHot(labels, classes: conditionClasses))
    }

    /// One-hot rows `[labels.count, classes]`; every label must be in 0..<classes (callers check user data).
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var scalars = [Float](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() {
            precondition((0..<classes).contains(label), "label \(label) outside 0..<\(classes)")
            scalars[row * classes + label] = 1
        }
        return Tensor(shape: [labels.count, classes], scalars: scalars)
    }
}

/// A ``ConditionalVAE`` with one label per row bound: encode and decode are the model's, conditioned on them.
/// Rows of `k` importance samples repeat their image's label, so `logImportanceWeights` is conditioned too.
final class LabelledCVAE: Module, GaussianLatentAutoencoder {
    let model: ConditionalVAE
    let labels: Tensor

    init(model: ConditionalVAE, labels: Tensor) {
        self.model = model
        self.labels = labels
        super.init()
    }

    var specification: ModelSpecification { model.specification }
    var conditionClasses: Int { model.conditionClasses }

    func encode(_ input: Tensor) -> DiagonalNormal { model.encode(input, labels: rows(input.shape[0])) }
    func decode(_ latent: Tensor) -> any Likelihood { model.decode(latent, labels: rows(latent.shape[0])) }
    func conditioned(on labels: [Int]) -> any VariationalAutoencoder { model.conditioned(on: labels) }

    /// The bound labels for `count` rows: as bound, or each repeated `count / bound` times (importance samples
    /// are image-major).
    private func rows(_ count: Int) -> Tensor {
        let bound = labels.shape[0]
        if count == bound { return labels }
        precondition(bound > 0 && count % bound == 0, "\(count) rows for \(bound) bound labels")
        return labels.gathering(repeatedRows(bound, samples: count / bound))
    }
}
