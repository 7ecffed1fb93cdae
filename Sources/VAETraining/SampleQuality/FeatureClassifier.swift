import Foundation
import VAEData
import VAEFormats
import VAENN
import VAEOptimizers
import VAETensor

/// The classifier whose features the sample-quality numbers compare in: an MLP input-256-128-classes (ReLU) trained
/// with cross-entropy on the dataset's labels (Adam 1e-3, batch 128, 5 epochs, the "classifier" stream of seed 0), the
/// usual stand-in for Inception features on MNIST-like data. Features are the 128 activations before the last layer.
/// Trained once per dataset and cached (`load(from:)`, `save(to:)`).
public final class FeatureClassifier: Module {
    public let body: MLP
    public let head: Linear

    public init(inputSize: Int, classes: Int, random: inout RandomStream) {
        body = MLP(sizes: [inputSize, 256, 128], activation: .relu, activatesOutput: true, random: &random)
        head = Linear(inputSize: 128, outputSize: classes, random: &random)
        super.init()
    }

    public func features(_ input: Tensor) -> Tensor { body(input) }
    public func logits(_ input: Tensor) -> Tensor { head(body(input)) }

    /// Mean cross-entropy of `labels` under the logits of `input`.
    public func crossEntropy(_ input: Tensor, labels: [Int]) -> Tensor {
        let logits = logits(input)
        let classes = logits.shape[1]
        let picked = logits.reshaped([logits.count, 1]).gathering(labels.enumerated().map { $0.offset * classes + $0.element })
        return (logits.logSumExp(alongAxis: 1) - picked.reshaped([labels.count])).mean()
    }

    /// Trains a classifier on `train` (which must have labels) and returns it with its accuracy on `test`.
    public static func train(on train: any Dataset, test: any Dataset, epochs: Int = 5) throws -> (FeatureClassifier, accuracy: Double) {
        guard !train.labels.isEmpty, !test.labels.isEmpty else {
            throw DataError("\(train.source): the sample-quality numbers need class labels to train their feature classifier")
        }
        var random = RandomStream(seed: 0, name: "classifier")
        let classifier = FeatureClassifier(inputSize: train.exampleSize, classes: max(train.classCount, test.classCount), random: &random)
        let optimizer = Adam(learningRate: 1e-3)
        let parameters = classifier.parameters
        for _ in 0..<epochs {
            let order = random.permutation(train.count)
            for start in stride(from: 0, to: order.count, by: 128) {
                let indices = Array(order[start..<min(start + 128, order.count)])
                let (input, labels) = (train.batch(indices), indices.map { train.labels[$0] })
                let (_, gradients) = classifier.valueWithGradients(for: parameters) { classifier.crossEntropy(input, labels: labels) }
                optimizer.update(parameters, gradients: gradients)
            }
        }
        return (classifier, classifier.accuracy(test))
    }

    /// The fraction of `data`'s examples whose largest logit is their label.
    public func accuracy(_ data: any Dataset) -> Double {
        var correct = 0
        for start in stride(from: 0, to: data.count, by: 1000) {
            let range = start..<min(start + 1000, data.count)
            let logits = withoutGradients { self.logits(data.batch(range)) }
            let classes = logits.shape[1]
            for (row, index) in range.enumerated() {
                let scores = logits.scalars[(row * classes)..<((row + 1) * classes)]
                if scores.indices.max(by: { scores[$0] < scores[$1] })! - row * classes == data.labels[index] { correct += 1 }
            }
        }
        return Double(correct) / Double(max(data.count, 1))
    }

    public func save(to path: String, accuracy: Double) throws {
        let entries = stateDictionary.map { SafeTensorEntry(name: $0.name, shape: $0.value.shape, values: $0.value.scalars) }
        try AtomicFile.write(try SafeTensors.encode(entries, metadata: [("accuracy", String(accuracy))]), to: path)
    }

    /// A classifier saved by ``save(to:accuracy:)``, and its test accuracy.
    public static func load(from path: String, inputSize: Int, classes: Int) throws -> (FeatureClassifier, accuracy: Double) {
        let (tensors, metadata) = try SafeTensors.decode(try AtomicFile.read(path), source: path)
        var random = RandomStream(seed: 0, name: "classifier")
        let classifier = FeatureClassifier(inputSize: inputSize, classes: classes, random: &random)
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, parameter) in classifier.namedStates {
            guard let entry = byName[name], entry.shape == parameter.value.shape else {
                throw FormatError(source: path, "missing or mis-shaped '\(name)' (delete the file to train the classifier again)")
            }
            parameter.value = Tensor(shape: entry.shape, scalars: entry.values)
        }
        return (classifier, Double(metadata["accuracy"] ?? "") ?? .nan)
    }
}
