import VAENN
import VAETensor

/// Weights trained beside the model's by a second optimiser, on a loss of their own: FactorVAE's discriminator
/// (Kim & Mnih 2018) learns to tell codes drawn from q(z) from codes whose dimensions were permuted across the
/// batch, while the model's loss uses its output. The trainer (``VariationalAutoencoder/auxiliaryTraining``) takes
/// one step of it after each step of the model, on the same batch, with an optimiser of the run's settings, and
/// saves that optimiser's moments with the model's; it never needs to know which model it trains.
///
/// ``module`` is part of the model, so its weights travel in checkpoints as `name.…`, but it is not among the
/// model's `Module/namedParameters`: the model's optimiser never moves it.
public protocol AuxiliaryTraining: AnyObject {
    /// The module's name in the model ("discriminator"): the prefix of its weights and optimiser moments.
    var name: String { get }
    var module: Module { get }
    /// The scalar loss to minimise over ``module``'s parameters, for the batch the model has just trained on.
    func loss(_ input: Tensor, context: LossContext) -> Tensor
}

extension AuxiliaryTraining {
    /// The module's parameters under their names in the model (`discriminator.layers.0.weight`).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        module.namedParameters.map { (name + "." + $0.name, $0.parameter) }
    }
}
