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
/// Used when the run trains on a device in one process, the model takes its input there, and no binarisation draws
/// per batch (it is made on the host); and when the examples take at most ``limitBytes``, since the epoch's order
/// is a second copy. Horizontal flips are made there (``batch(_:of:flipping:)``), from the same draws.
struct DeviceTrainingSet {
    /// The most the examples may take on the device (the epoch's gathered copy takes as much again).
    static let limitBytes = 1 << 30

    /// `[count, example size]` on the device.
    let examples: Tensor
    /// The test images there.
    let testImages: Tensor

    init?(_ train: any Dataset, testImages: Tensor, config: RunConfig, model: any VariationalAutoencoder,
          backend: (any TensorBackend)?, processes: Int) {
        let bytes = (train.count * train.exampleSize + testImages.count) * MemoryLayout<Float>.size
        guard let backend, processes == 1, !model.readsInputOnHost, !config.data.binarize,
              !config.data.horizontalFlip || train is ImageDataset, train.count > 0, bytes <= Self.limitBytes else { return nil }
        examples = withoutGradients { train.batch(0..<train.count).moved(to: backend) }
        self.testImages = withoutGradients { testImages.moved(to: backend) }
    }

    /// The examples in `order`, on the device: the epoch's batches are consecutive slices of it.
    func epoch(_ order: [Int]) -> Tensor { withoutGradients { examples.gathering(order) } }

    /// Rows `rows` of an epoch's examples, each image mirrored left–right where its draw from `flipping` (when
    /// given) is below ½, as the host's `ImageDataset.batch(_:augmentation:)` mirrors them.
    func batch(_ rows: Range<Int>, of epoch: Tensor, flipping: inout RandomStream?, width: Int) -> Tensor {
        let batch = epoch.slice(rows)
        guard var stream = flipping else { return batch }
        defer { flipping = stream }
        return batch.mirroringLines(width: width, where: stream.uniform(shape: [rows.count], on: batch.backend))
    }
}
