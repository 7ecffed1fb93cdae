import VAEFormats
import VAETensor

/// A building block with parameters and sub-modules, found by reflection.
///
/// Parameters are named by their dotted path through stored properties, in declaration order, as PyTorch
/// names them: a property `encoder` holding an ``MLP`` whose `layers` array holds ``Linear``s gives
/// `encoder.layers.0.weight`, `encoder.layers.0.bias`, …; camelCase property names are written in snake_case
/// (`logVariance` → `log_variance`, BatchNorm's `runningMean` → `running_mean`), so that a PyTorch module of the
/// same layout loads a checkpoint with `load_state_dict(strict=True)`.
open class Module {
    /// Whether the module is training (dropout active, batch statistics) or evaluating.
    public private(set) var isTraining = true

    /// False for a module that only groups others: its parameters are named as if its stored properties belonged
    /// to the module holding it (a model's network part holds `encoder`, `decoder_input`, … and they keep those
    /// names in checkpoints). True by default: a child's name is a path component.
    open var namesItsChildren: Bool { true }

    /// Children that are not stored properties, with their names: weights a part of the model brings along (an
    /// objective's discriminator), found and named as if they were properties. None by default.
    open var additionalChildren: [(name: String, module: Module)] { [] }

    /// Parameters that are not stored properties, with their names relative to this module: a layer whose
    /// parameter count varies and whose names follow PyTorch's (a recurrent stack's `weight_ih_l0`,
    /// `weight_ih_l1`, …). None by default.
    open var additionalParameters: [(name: String, parameter: Parameter)] { [] }

    public init() {}

    /// Every trainable parameter with its dotted name, in declaration order (superclass properties first).
    /// A model may override it to leave out parameters another procedure fits (VQ-VAE's prior).
    open var namedParameters: [(name: String, parameter: Parameter)] {
        namedStates.filter { $0.parameter.isTrainable }
    }

    /// Trainable parameters and buffers (running statistics), in declaration order: what a checkpoint holds,
    /// like PyTorch's `state_dict()`.
    public var namedStates: [(name: String, parameter: Parameter)] {
        var found: [(String, Parameter)] = []
        Module.collect(self, prefix: "", into: &found)
        return found
    }

    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// Every sub-module below this one (children, their children, …), depth first in declaration order.
    public var modules: [Module] {
        var found: [Module] = []
        Module.collectModules(self, into: &found)
        return found
    }

    /// Moves every parameter and buffer to `backend` (nil: to the host), once, before a run's steps: the ops that
    /// read them then run there.
    public func move(to backend: (any TensorBackend)?) {
        for (_, parameter) in namedStates { parameter.placement = backend }
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Switches this module and all below it between training and evaluation behaviour.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for module in modules { module.isTraining = training }
    }

    private static func collect(_ module: Module, prefix: String, into found: inout [(String, Parameter)]) {
        collect(Mirror(reflecting: module), prefix: prefix, into: &found)
        for (name, parameter) in module.additionalParameters { found.append((prefix + name, parameter)) }
        for (name, child) in module.additionalChildren {
            visit(child, prefix: prefix, name: prefix + name, into: &found)
        }
    }

    private static func collect(_ mirror: Mirror, prefix: String, into found: inout [(String, Parameter)]) {
        if let parent = mirror.superclassMirror { collect(parent, prefix: prefix, into: &found) }
        for child in mirror.children {
            guard let label = child.label else { continue }
            visit(child.value, prefix: prefix, name: prefix + snakeCased(label), into: &found)
        }
    }

    private static func visit(_ value: Any, prefix: String, name: String, into found: inout [(String, Parameter)]) {
        switch value {
        case let parameter as Parameter:
            found.append((name, parameter))
        case let module as Module:
            collect(module, prefix: module.namesItsChildren ? name + "." : prefix, into: &found)
        case let list as [Any]:
            for (index, element) in list.enumerated() {
                visit(element, prefix: name + ".", name: "\(name).\(index)", into: &found)
            }
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
                visit(wrapped.value, prefix: prefix, name: name, into: &found)
            }
        }
    }

    private static func collectModules(_ module: Module, into found: inout [Module]) {
        collectModules(Mirror(reflecting: module), into: &found)
        for (_, child) in module.additionalChildren { visitModules(child, into: &found) }
    }

    private static func collectModules(_ mirror: Mirror, into found: inout [Module]) {
        if let parent = mirror.superclassMirror { collectModules(parent, into: &found) }
        for child in mirror.children { visitModules(child.value, into: &found) }
    }

    private static func visitModules(_ value: Any, into found: inout [Module]) {
        switch value {
        case let module as Module:
            found.append(module)
            collectModules(module, into: &found)
        case let list as [Any]:
            for element in list { visitModules(element, into: &found) }
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
                visitModules(wrapped.value, into: &found)
            }
        }
    }
}

extension Module {
    /// Runs `loss` with a fresh tape and returns its value with the gradient for every parameter, in
    /// ``parameters`` order.
    public func valueWithGradients(_ loss: () throws -> Tensor) rethrows -> (value: Tensor, gradients: [Tensor]) {
        try valueWithGradients(for: parameters, loss)
    }

    /// The same for a given list of this module's parameters (gradients in its order). A training loop passes
    /// the list it holds: finding the parameters walks the module tree by reflection, which cost about 3 % of an
    /// `mlp` step when done for every shard of every step.
    public func valueWithGradients(for parameters: [Parameter], _ loss: () throws -> Tensor) rethrows
        -> (value: Tensor, gradients: [Tensor]) {
        let tape = GradientTape()
        let (value, tracked) = try tape.recording { () throws -> (Tensor, [Tensor]) in
            let tracked = parameters.map(\.tensor)
            return (try loss(), tracked)
        }
        // The tape (and with it the tracked copies that share the parameters' buffers) is released on return,
        // so an optimiser's in-place update finds each buffer uniquely referenced and does not copy it.
        return (value, tape.gradients(of: value, withRespectTo: tracked))
    }

    /// Parameter and buffer values by name, e.g. for checkpoints.
    public var stateDictionary: [(name: String, value: Tensor)] { namedStates.map { ($0.name, $0.parameter.value) } }
}

