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
    /// The same draws made where `backend` is (nil: the host), so a loss on a device does not copy them there in the
    /// middle of a step. A default: drawn by ``sample(count:dimensions:random:)``, then moved.
    func sample(count: Int, dimensions: Int, random: inout RandomStream, on backend: (any TensorBackend)?) -> Tensor
    /// Gives a prior built from the model's own encoder (the VampPrior) q(z|x) for any input; called once when
    /// the model is built. Others ignore it.
    func attach(posterior: @escaping (Tensor) -> DiagonalNormal)
}

extension LatentPrior {
    public func attach(posterior: @escaping (Tensor) -> DiagonalNormal) {}

    public func sample(count: Int, dimensions: Int, random: inout RandomStream, on backend: (any TensorBackend)?) -> Tensor {
        sample(count: count, dimensions: dimensions, random: &random).moved(to: backend)
    }
}

/// How a latent part builds its prior: the settings it reads and the build (its weights drawn from the init stream
/// after the latent's heads).
public struct PriorPart: Sendable {
    public let settings: [SettingDeclaration]
    let make: @Sendable (ModelSpecification, inout RandomStream) throws -> any LatentPrior

    public init(settings: [SettingDeclaration],
                make: @escaping @Sendable (ModelSpecification, inout RandomStream) throws -> any LatentPrior) {
        self.settings = settings
        self.make = make
    }
}
