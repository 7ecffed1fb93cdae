import Foundation
import VAEFormats
import VAEModels
import VAEPictures
import VAETensor

/// What a run writes for TensorBoard (`trainer_params.tensorboard`, on by default), beside metrics.csv: each step's
/// loss (`loss/train`), training terms (`train/<term>`, `train/learning_rate`) and schedule values
/// (`schedule/beta`, `capacity`, `discrete_capacity`, `kl_weight`, `temperature`: ``ScheduledValues``); each epoch's test −ELBO (`loss/test`), mean training loss
/// (`loss/train_epoch`), test terms (`test/reconstruction`, `test/kl`) and speed (`speed/images_per_second`); the
/// sample and reconstruction grids whenever the pictures are drawn (`pictures/samples`, `pictures/reconstructions`);
/// and a histogram of the posterior means of each latent dimension over the first 1000 test images
/// (`posterior_mean/dim_NN`, the first 64 dimensions). Steps count optimiser steps from 1; the `loss` group comes
/// first in TensorBoard's alphabetical order.
///
/// A resumed run writes a new event file that starts with a `SessionLog.START` at its first step: TensorBoard then
/// drops what the interrupted run had logged from that step on, so no step appears twice.
final class TensorBoardLog {
    static let histogramImages = 1000
    static let histogramDimensions = 64
    let file: TensorBoardEventFile

    /// `resumingAfter`: the checkpoint's step when the run continues one.
    init(directory: String, resumingAfter step: Int?) throws {
        file = try TensorBoardEventFile(directory: directory)
        if let step { try file.write(TensorBoardEvent.sessionStart(step: step + 1, wallTime: Self.now)) }
    }

    private static var now: Double { Date().timeIntervalSince1970 }

    /// `schedule`: the model's schedule values at the step's loss (``ScheduledValues``), as `schedule/<name>`.
    func logStep(_ step: Int, loss: Float, terms: [(name: String, value: Float)], learningRate: Float,
                 schedule: [(name: String, value: Double)]) throws {
        let values = [("loss/train", loss)] + terms.map { ("train/" + $0.name, $0.value) } + [("train/learning_rate", learningRate)]
            + schedule.map { ("schedule/" + $0.name, Float($0.value)) }
        try file.write(TensorBoardEvent.scalars(values, step: step, wallTime: Self.now))
    }

    func logEpoch(_ metrics: EpochMetrics, step: Int, model: any VariationalAutoencoder, testImages: Tensor) throws {
        try file.write(TensorBoardEvent.scalars([
            ("loss/test", Float(metrics.testLoss)), ("loss/train_epoch", Float(metrics.trainLoss)),
            ("test/reconstruction", Float(metrics.reconstruction)), ("test/kl", Float(metrics.kl)),
            ("speed/images_per_second", Float(metrics.imagesPerSecond)),
        ], step: step, wallTime: Self.now))
        let rows = min(Self.histogramImages, testImages.shape[0])
        guard rows > 0 else { return }
        // 100 images at a time (the model is in evaluation mode, so rows are independent): 1000 64×64 images in
        // one batch took 500 MB of im2col columns in the burgess network's second layer.
        let code = Tensor.stackingRows(rows, chunk: 100) { range in withoutGradients { model.latentSummary(testImages.slice(range)).code } }
        let width = code.shape[1]
        for dimension in 0..<min(width, Self.histogramDimensions) {
            let values = (0..<rows).map { Double(code.scalars[$0 * width + dimension]) }
            try file.write(TensorBoardEvent.histogram(tag: String(format: "posterior_mean/dim_%02d", dimension),
                                                      values: values, step: step, wallTime: Self.now))
        }
    }

    func logPictures(_ pictures: [RenderedPicture], step: Int) throws {
        for picture in pictures where picture.kind == .samples || picture.kind == .reconstructions {
            try file.write(TensorBoardEvent.image(tag: "pictures/" + picture.kind.rawValue, png: picture.bytes,
                                                  step: step, wallTime: Self.now))
        }
    }
}
