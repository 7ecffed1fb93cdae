import VAENN
import VAETensor

/// A module fitted after training to fixed targets computed from the trained model, e.g. VQ-VAE's prior over the
/// code maps of the training images. The trainer runs the fit (``VariationalAutoencoder/postTrainingFit``):
/// it computes every training image's targets once, then minimises `loss(_:)` over shuffled batches of them
/// (their mean) for ``epochs`` epochs with the run's optimiser settings, and calls ``markFitted()``.
public protocol PostTrainingFit: AnyObject {
    /// What is fitted, for log lines ("prior").
    var name: String { get }
    /// Epochs of fitting; 0 skips the fit.
    var epochs: Int { get }
    /// The module whose trainable parameters are fitted.
    var module: Module { get }
    /// Whether the fit has been done (saved with the weights).
    var isFitted: Bool { get }
    /// Marks the fit done, or stale when training goes on (the targets change with the weights).
    func markFitted()
    func invalidate()
    /// Targets per image, ``targetsPerImage`` integers each, for a batch of images.
    func targets(_ images: Tensor) -> [Int]
    var targetsPerImage: Int { get }
    /// The loss of each image `[images]` from the targets of a batch of images (concatenated).
    func losses(_ targets: [Int]) -> Tensor
    /// The unit of the loss in log lines ("nats per code map") and its value before fitting (the uniform prior).
    var unit: String { get }
    var unfittedLoss: Double { get }
}
