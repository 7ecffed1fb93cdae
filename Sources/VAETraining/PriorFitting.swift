import Foundation
import VAEData
import VAEDistributions
import VAEModels
import VAETensor

/// Fits a ``VQVAE``'s autoregressive ``CodePrior`` to the code maps of the training set, after the main epochs
/// (`model_params.prior_epochs`): the encoder and codebook stay fixed, each image's code map is computed once
/// (binarised once from the "prior-binarization" stream when the run binarises), and the prior is trained by
/// maximum likelihood with the run's optimiser settings, batches of `data_params.batch_size` maps in an order
/// from the "prior-shuffle" stream. Afterwards the model's KL term, NLL and samples use the fitted prior.
struct PriorFitting {
    let model: VQVAE
    let config: RunConfig

    /// Per epoch, `report` gets a line with the mean −log p(codes) per map on the training and test maps.
    func fit(train: ImageDataset, testImages: Tensor, report: (String) -> Void) throws {
        let epochs = config.model.priorEpochs
        guard epochs > 0 else { return }
        model.setTraining(false)
        let seed = config.experiment.seed
        var binarization = RandomStream(seed: seed, name: "prior-binarization")
        let trainMaps = codeMaps(count: train.count) { range in
            var binarizing: RandomStream? = config.data.binarize ? binarization : nil
            defer { if let binarizing { binarization = binarizing } }
            return train.batch(range, binarizing: &binarizing)
        }
        let testMaps = codeMaps(count: testImages.shape[0]) { testImages.slice($0) }
        let positions = model.positions
        let uniform = -Double(Categorical.uniformLogProbability(variables: positions, categories: model.codes))
        let optimizer = try Factory.optimizer(config)
        let parameters = model.prior.parameters
        var shuffle = RandomStream(seed: seed, name: "prior-shuffle")
        let batchSize = config.data.batchSize
        for epoch in 1...epochs {
            let started = Date()
            let order = shuffle.permutation(train.count)
            var total = 0.0
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let images = order[start..<min(start + batchSize, order.count)]
                let maps = images.flatMap { trainMaps[($0 * positions)..<(($0 + 1) * positions)] }
                let (loss, gradients) = model.prior.valueWithGradients {
                    model.prior.negativeLogProbability(maps).mean()
                }
                guard loss.scalar.isFinite, gradients.allSatisfy(\.isFinite) else {
                    throw TrainingError("prior fitting stopped at epoch \(epoch): the loss is \(loss.scalar); try a lower --learning-rate")
                }
                optimizer.update(parameters, gradients: gradients)
                total += Double(loss.scalar) * Double(images.count)
            }
            let test = meanNegativeLogProbability(testMaps)
            report(String(format: "prior epoch %d/%d  train %.2f  test %.2f nats per code map (uniform %.2f)  %.2f s",
                          epoch, epochs, total / Double(train.count), test, uniform, Date().timeIntervalSince(started)))
        }
        model.priorFitted.value = Tensor(1)
    }

    /// Code maps of `count` images, 1000 at a time.
    func codeMaps(count: Int, images: (Range<Int>) -> Tensor) -> [Int] {
        stride(from: 0, to: count, by: 1000).flatMap { start in model.codeMaps(images(start..<min(start + 1000, count))) }
    }

    func meanNegativeLogProbability(_ maps: [Int]) -> Double {
        let perMap = model.positions * 1000
        let sum = withoutGradients {
            stride(from: 0, to: maps.count, by: perMap).reduce(0.0) { sum, start in
                sum + Double(model.prior.negativeLogProbability(Array(maps[start..<min(start + perMap, maps.count)])).sum().scalar)
            }
        }
        return sum / Double(max(maps.count / model.positions, 1))
    }
}
