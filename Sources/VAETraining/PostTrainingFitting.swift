import Foundation
import VAEData
import VAEModels
import VAETensor

/// Runs a model's ``PostTrainingFit`` after the main epochs: the trained weights stay fixed, each training
/// image's targets are computed once (binarised once from the "prior-binarization" stream when the run binarises),
/// and the fitted module is trained on their mean loss with the run's optimiser settings, batches of
/// `data_params.batch_size` images in an order from the "prior-shuffle" stream.
struct PostTrainingFitting {
    let fit: any PostTrainingFit
    let model: any VariationalAutoencoder
    let config: RunConfig

    /// Per epoch, `report` gets a line with the mean loss per image on the training and test images.
    func run(train: any Dataset, testImages: Tensor, report: (String) -> Void) throws {
        let epochs = fit.epochs
        guard epochs > 0 else { return }
        model.setTraining(false)
        let seed = config.experiment.seed
        var binarization = RandomStream(seed: seed, name: "prior-binarization")
        let trainTargets = targets(count: train.count) { range in
            var augmentation = BatchAugmentation(binarizing: config.data.binarize ? binarization : nil)
            defer { if let binarizing = augmentation.binarizing { binarization = binarizing } }
            return train.batch(range, augmentation: &augmentation)
        }
        let testTargets = targets(count: testImages.shape[0]) { testImages.slice($0) }
        let width = fit.targetsPerImage
        let optimizer = try Factory.optimizer(config)
        let parameters = fit.module.parameters
        var shuffle = RandomStream(seed: seed, name: "prior-shuffle")
        let batchSize = config.data.batchSize
        for epoch in 1...epochs {
            let started = Date()
            let order = shuffle.permutation(train.count)
            var total = 0.0
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let images = order[start..<min(start + batchSize, order.count)]
                let batch = images.flatMap { trainTargets[($0 * width)..<(($0 + 1) * width)] }
                let (loss, gradients) = fit.module.valueWithGradients(for: parameters) { fit.losses(batch).mean() }
                guard loss.scalar.isFinite, gradients.allSatisfy(\.isFinite) else {
                    throw TrainingError("\(fit.name) fitting stopped at epoch \(epoch): the loss is \(loss.scalar); try a lower --learning-rate")
                }
                optimizer.update(parameters, gradients: gradients)
                total += Double(loss.scalar) * Double(images.count)
            }
            report(String(format: "%@ epoch %d/%d  train %.2f  test %.2f %@ (unfitted %.2f)  %.2f s", fit.name, epoch, epochs,
                          total / Double(train.count), meanLoss(testTargets), fit.unit, fit.unfittedLoss,
                          Date().timeIntervalSince(started)))
        }
        fit.markFitted()
    }

    /// Targets of `count` images, 1000 at a time.
    func targets(count: Int, images: (Range<Int>) -> Tensor) -> [Int] {
        stride(from: 0, to: count, by: 1000).flatMap { start in fit.targets(images(start..<min(start + 1000, count))) }
    }

    func meanLoss(_ targets: [Int]) -> Double {
        let chunk = fit.targetsPerImage * 1000
        let sum = withoutGradients {
            stride(from: 0, to: targets.count, by: chunk).reduce(0.0) { sum, start in
                sum + Double(fit.losses(Array(targets[start..<min(start + chunk, targets.count)])).sum().scalar)
            }
        }
        return sum / Double(max(targets.count / fit.targetsPerImage, 1))
    }
}
