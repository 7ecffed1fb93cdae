import VAEDistributions
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
    /// Adam's settings for the second optimiser; nil (the default): the run's optimiser settings.
    var optimizerSettings: AuxiliaryOptimizerSettings? { get }
}

/// An objective that brings weights of its own, trained by a second optimiser (FactorVAE's discriminator): a
/// ``ComposedVAE`` with it names them `<name>.…` in checkpoints, keeps them out of its own parameters, hands them
/// to the trainer as its ``VariationalAutoencoder/auxiliaryTraining``, and attaches its encoder's posterior.
public protocol AuxiliaryObjective: Objective {
    var auxiliary: any AuxiliaryTraining { get }
    func attach(posterior: @escaping (Tensor) -> DiagonalNormal)
}

/// The step size and moment decays of an auxiliary Adam (FactorVAE's discriminator: 1e-4, 0.5, 0.9).
public struct AuxiliaryOptimizerSettings: Equatable, Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double

    public init(learningRate: Double, beta1: Double, beta2: Double) {
        (self.learningRate, self.beta1, self.beta2) = (learningRate, beta1, beta2)
    }
}

extension AuxiliaryTraining {
    public var optimizerSettings: AuxiliaryOptimizerSettings? { nil }

    /// The module's parameters under their names in the model (`discriminator.layers.0.weight`).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        module.namedParameters.map { (name + "." + $0.name, $0.parameter) }
    }
}
