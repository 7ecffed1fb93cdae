import Foundation
import VAEData
import VAEFormats
import VAEModels
import VAETensor

/// How good a run's samples are, in the features of a ``FeatureClassifier``: the Fréchet distance between the
/// features of generated and of test images (``FrechetDistance``; lower is better) and the precision and recall of
/// the samples (Kynkäänniemi et al. 2019: the share of generated images inside the k-nearest-neighbour balls of the
/// test images, k = 3, and the share of test images inside those of the generated ones).
public struct SampleQuality: Codable, Equatable, Sendable {
    public var frechetDistance: Double
    public var precision: Double
    public var recall: Double
    /// Test accuracy of the classifier whose features these are.
    public var classifierAccuracy: Double
    public var images: Int

    enum CodingKeys: String, CodingKey {
        case precision, recall, images
        case frechetDistance = "frechet_classifier_distance", classifierAccuracy = "classifier_accuracy"
    }

    /// For `run`: as many samples (decoder means of codes from `sampler`, the "sampling" stream of `seed`) as there
    /// are test images (`limit`, 0 = all); the classifier is cached in `classifierFolder` (one per dataset and shape).
    public static func measure(_ run: TrainedRun, limit: Int, seed: UInt64, sampler: PostHocSampler = .normal,
                               classifierFolder: String, report: (String) -> Void = { _ in }) throws -> SampleQuality {
        let (test, inputs) = try run.testData(limit: limit)
        let classifier = try cachedClassifier(run, test: test, folder: classifierFolder, report: report)
        let count = test.count
        let latents = try sampler.latents(run, count: count, seed: seed, report: report)
        let generated = Tensor.stackingRows(count, chunk: 1000) { range in withoutGradients { run.model.decode(latents.slice(range)).mean } }
        let real = features(classifier.model, inputs)
        let fake = features(classifier.model, generated)
        let (precision, recall) = precisionRecall(real: real, generated: fake, k: 3)
        return SampleQuality(frechetDistance: FrechetDistance.between(rows(real), rows(fake)), precision: precision,
                             recall: recall, classifierAccuracy: classifier.accuracy, images: count)
    }

    static func cachedClassifier(_ run: TrainedRun, test: any Dataset, folder: String,
                                 report: (String) -> Void) throws -> (model: FeatureClassifier, accuracy: Double) {
        let key = (run.config.data.dataDirectory + "-" + test.exampleShape.map(String.init).joined(separator: "x"))
            .map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let path = folder + "/" + String(key) + ".safetensors"
        let classes = test.classCount
        if FileManager.default.fileExists(atPath: path) {
            return try FeatureClassifier.load(from: path, inputSize: test.exampleSize, classes: classes)
        }
        let train = try Factory.dataset(run.config, split: .train, limit: 0)
        let started = Date()
        let (classifier, accuracy) = try FeatureClassifier.train(on: train, test: test)
        try RunDirectory.create(folder)
        try classifier.save(to: path, accuracy: accuracy)
        report(String(format: "trained the feature classifier on %d images (%.1f s): test accuracy %.4f → %@",
                      train.count, Date().timeIntervalSince(started), accuracy, path))
        return (try FeatureClassifier.load(from: path, inputSize: test.exampleSize, classes: classes).0, accuracy)
    }

    static func features(_ classifier: FeatureClassifier, _ images: Tensor) -> Tensor {
        Tensor.stackingRows(images.shape[0], chunk: 1000) { range in withoutGradients { classifier.features(images.slice(range)) } }
    }

    static func rows(_ tensor: Tensor) -> [[Double]] {
        let (width, values) = (tensor.shape[1], tensor.scalars)
        return (0..<tensor.shape[0]).map { row in (0..<width).map { Double(values[row * width + $0]) } }
    }

    /// Improved precision and recall (Kynkäänniemi et al. 2019) with k-nearest-neighbour radii.
    static func precisionRecall(real: Tensor, generated: Tensor, k: Int) -> (precision: Double, recall: Double) {
        let (realRadii, generatedRadii) = (radii(real, k: k), radii(generated, k: k))
        return (coverage(of: generated, by: real, radii: realRadii), coverage(of: real, by: generated, radii: generatedRadii))
    }

    /// Squared distance from each row of `set` to its k-th nearest other row.
    static func radii(_ set: Tensor, k: Int) -> [Float] {
        var result: [Float] = []
        forEachDistanceRow(set, set) { distances in
            result.append(distances.sorted()[min(k, distances.count - 1)])   // index 0 is the row itself (0)
        }
        return result
    }

    /// The share of `points` within the radius of at least one row of `reference`.
    static func coverage(of points: Tensor, by reference: Tensor, radii: [Float]) -> Double {
        var inside = 0
        forEachDistanceRow(points, reference) { distances in
            if distances.indices.contains(where: { distances[$0] <= radii[$0] }) { inside += 1 }
        }
        return Double(inside) / Double(max(points.shape[0], 1))
    }

    /// Squared distances from each row of `a` to every row of `b`, 512 rows of `a` at a time (one product each).
    static func forEachDistanceRow(_ a: Tensor, _ b: Tensor, _ body: ([Float]) -> Void) {
        let normsB = withoutGradients { b.squared().sum(alongAxis: 1) }.scalars
        let m = b.shape[0]
        for start in stride(from: 0, to: a.shape[0], by: 512) {
            let chunk = a.slice(start..<min(start + 512, a.shape[0]))
            let (products, normsA) = withoutGradients { (chunk.matmul(b, transposingOther: true).scalars, chunk.squared().sum(alongAxis: 1).scalars) }
            for row in 0..<chunk.shape[0] {
                body((0..<m).map { max(0, normsA[row] + normsB[$0] - 2 * products[row * m + $0]) })
            }
        }
    }
}
