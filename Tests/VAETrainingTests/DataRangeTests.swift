import Testing
import VAEData
import VAEModels
import VAENN
import VAETensor
@testable import VAETraining

@Suite struct DataRangeTests {
    func model(likelihood: String) throws -> any VariationalAutoencoder {
        var random = RandomStream(seed: 1, name: "init")
        let settings: ModelSettings = ["hidden_sizes": [4], "latent_size": 2, "likelihood": .text(likelihood)]
        return try ModelRegistry.make(ModelSpecification(name: "mlp", inputShape: [1, 2, 2], settings: settings),
                                      random: &random)
    }

    @Test func bernoulliDecoderRejectsDataOutsideTheUnitInterval() throws {
        // Images normalised to [−1, 1], as PyTorch-VAE does, with a cross-entropy (Bernoulli) decoder.
        let values = Tensor(shape: [2, 4], scalars: [-1, -0.5, 0, 0.5, 1, 0.25, -0.25, 0.75])
        let images = ImageDataset(images: values, labels: [], imageShape: [1, 2, 2], source: "data/faces")
        let unitInterval = ImageDataset(images: values * 0.5 + 0.5, labels: [], imageShape: [1, 2, 2], source: "data/faces")
        let error = #expect(throws: DataError.self) {
            try Factory.checkDataRange(images, model: try model(likelihood: "bernoulli"))
        }
        let message = try #require(error).description
        #expect(message.hasPrefix("data/faces: "))
        #expect(message.contains("[-1.0, 1.0]"))
        #expect(message.contains("bernoulli"))
        #expect(message.contains("[0.0, 1.0]"))
        // The same data with a Gaussian decoder, and unit-interval data with a Bernoulli one, are fine.
        try Factory.checkDataRange(images, model: try model(likelihood: "gaussian"))
        try Factory.checkDataRange(unitInterval, model: try model(likelihood: "bernoulli"))
    }
}
