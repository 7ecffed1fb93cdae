import VAEData
import VAETensor

extension Dataset {
    /// The whole set as evaluation sees it: binarised once, from the "test-binarization" stream of the run's
    /// seed, when the run binarises; so every epoch, `vae eval` and `vae plot` score the same inputs.
    public func evaluationInputs(_ config: RunConfig) -> Tensor {
        var augmentation = BatchAugmentation(
            binarizing: config.data.binarize ? RandomStream(seed: config.experiment.seed, name: "test-binarization") : nil)
        return batch(0..<count, augmentation: &augmentation)
    }
}

extension TrainedRun {
    /// The test split of the run's data (or of `dataDirectory`), at most `limit` examples (0 = all; nil = the
    /// run's `test_limit`, so the pictures are drawn from what training drew them from), and its
    /// inputs as training evaluated them. Examples of another shape than the model's, or labels a conditional
    /// model cannot take, are an error naming the data.
    public func testData(dataDirectory: String? = nil, limit: Int? = nil) throws -> (dataset: any Dataset, inputs: Tensor) {
        var config = self.config
        if let dataDirectory { config.data.dataDirectory = dataDirectory }
        let test = try Factory.dataset(config, split: .test, limit: limit ?? config.data.testLimit, vocabulary: vocabulary)
        guard test.exampleShape == state.inputShape else {
            throw TrainingError("\(config.data.dataDirectory): images are \(test.exampleShape) but the model was trained on \(state.inputShape)")
        }
        try model.checkLabels(test.labels, rows: test.count, source: test.source)
        return (test, test.evaluationInputs(config))
    }
}
