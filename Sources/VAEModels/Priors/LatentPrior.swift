import VAEDistributions
import VAENN
import VAETensor

/// The prior p(z) of a continuous latent: what its KL term, its importance weights and its samples use. A latent
/// holds one as a child module (a prior with parameters, such as a VampPrior's pseudo-inputs or a mixture's
/// components, trains with the model and is saved as `prior.…`). ``StandardNormalPrior`` is N(0, I).
public protocol LatentPrior: Module {
    /// KL(q(z|x) ‖ p(z)) per row, for a diagonal Gaussian posterior and a draw `z` from it: in closed form where
    /// the prior allows (the draw is then unused), else the one-sample estimate log q(z|x) − log p(z).
    func kl(_ posterior: DiagonalNormal, draw z: Tensor) -> Tensor
    /// The KL split over the coordinates `[rows, dimensions]` (what active units and the latent pictures use).
    func klPerDimension(_ posterior: DiagonalNormal) -> Tensor
    /// log p(z) per row.
    func logProbability(_ z: Tensor) -> Tensor
    /// `count` draws of `dimensions` coordinates.
    func sample(count: Int, dimensions: Int, random: inout RandomStream) -> Tensor
}
