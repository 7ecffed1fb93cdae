import VAEData
import VAEModels
import VAETensor

/// A run's training examples kept on its device, so that a training step copies nothing there (a copy from the
/// host's pageable memory waits for the device's queued work, and a batch of 1024 Fashion-MNIST images is 3.2 MB):
/// the examples go there once, each epoch gathers them in its shuffled order there (one copy of its indices), and
/// each batch is a slice of that epoch's rows (a view). The batches' values are the host's. The test images go
/// there once too, for each epoch's test −ELBO and TensorBoard's histograms (from the host, each op of a pass that
/// read its input copied it).
///
/// Used when the run trains on a device in one process and the model takes its input there, and when the examples
/// take at most ``limit(on:)``: a quarter of the device's free memory, since the epoch's order is a second copy. Dynamic binarisation and horizontal flips
/// are made there (``batch(_:of:augmentation:width:)``), from the host's draws, in the host's order.
struct DeviceTrainingSet {
    /// The most the examples may take on a device that does not say how much memory it has free (the epoch's
    /// gathered copy takes as much again).
    static let limitBytes = 1 << 30

    /// The most the examples and test images may take on `backend`: a quarter of its free memory (the epoch's copy
    /// takes as much again, which leaves half for the model, its optimiser and a step's temporaries), or
    /// ``limitBytes`` where the device does not say.
    static func limit(on backend: any TensorBackend) -> Int { backend.availableBytes.map { $0 / 4 } ?? limitBytes }

    /// `[count, example size]` on the device.
    let examples: Tensor
    /// The test images there.
    let testImages: Tensor

    init?(_ train: any Dataset, testImages: Tensor, config: RunConfig, model: any VariationalAutoencoder,
          backend: (any TensorBackend)?, processes: Int) {
        let bytes = (train.count * train.exampleSize + testImages.count) * MemoryLayout<Float>.size
        guard let backend, processes == 1, !model.readsInputOnHost,
              !(config.data.horizontalFlip || config.data.binarize) || train is ImageDataset, train.count > 0, bytes <= Self.limit(on: backend) else { return nil }
        examples = withoutGradients { train.batch(0..<train.count).moved(to: backend) }
        self.testImages = withoutGradients { testImages.moved(to: backend) }
    }

    /// The examples in `order`, on the device: the epoch's batches are consecutive slices of it.
    func epoch(_ order: [Int]) -> Tensor { withoutGradients { examples.gathering(order) } }

    /// Rows `rows` of an epoch's examples, augmented as the host's `ImageDataset.batch(_:augmentation:)` does it:
    /// binarised with draws from `augmentation.binarizing` (when given), then each image mirrored left–right where
    /// its draw from `augmentation.flipping` (when given) is below ½. The draws are made on the device, the host's
    /// values; the streams move as on the host.
    func batch(_ rows: Range<Int>, of epoch: Tensor, augmentation: inout BatchAugmentation, width: Int) -> Tensor {
        var batch = epoch.slice(rows)
        if var stream = augmentation.binarizing {
            batch = batch.binarized(by: stream.uniform(shape: batch.shape, on: batch.backend))
            augmentation.binarizing = stream
        }
        if var stream = augmentation.flipping {
            batch = batch.mirroringLines(width: width, where: stream.uniform(shape: [rows.count], on: batch.backend))
            augmentation.flipping = stream
        }
        return batch
    }
}
