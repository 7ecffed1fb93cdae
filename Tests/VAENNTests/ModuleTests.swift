import Foundation
import Testing
import VAETensor
@testable import VAENN

/// A superclass with its own parameter: subclasses must list it first.
class ScaledBlock: Module {
    let scale: Parameter
    init(size: Int) {
        scale = Parameter(.ones([size]))
        super.init()
    }
}

/// Inherits `scale`; holds a Linear, an array of Linears, a present and an absent optional Linear.
final class GatedBlock: ScaledBlock {
    let projection: Linear
    let stages: [Linear]
    let gate: Linear?
    let skipped: Linear?
    let shift: Parameter

    init(size: Int, random: inout RandomStream) {
        projection = Linear(inputSize: size, outputSize: size, random: &random)
        stages = [Linear(inputSize: size, outputSize: size, random: &random),
                  Linear(inputSize: size, outputSize: size, bias: false, random: &random)]
        gate = Linear(inputSize: size, outputSize: 1, random: &random)
        skipped = nil
        shift = Parameter(.zeros([size]))
        super.init(size: size)
    }
}

final class Network: Module {
    let blocks: [GatedBlock]
    let missing: Linear?
    let head: Linear

    init(random: inout RandomStream) {
        blocks = [GatedBlock(size: 3, random: &random), GatedBlock(size: 3, random: &random)]
        missing = nil
        head = Linear(inputSize: 3, outputSize: 2, random: &random)
        super.init()
    }
}

extension VAENNTests {
    @Suite("Module: parameter discovery, training mode, gradients")
    struct ModuleTests {
        @Test func nestedNamesAndOrder() {
            var random = RandomStream(seed: 1, name: "init")
            let network = Network(random: &random)
            let block = ["scale", "projection.weight", "projection.bias", "stages.0.weight", "stages.0.bias",
                         "stages.1.weight", "gate.weight", "gate.bias", "shift"]
            let expected = block.map { "blocks.0." + $0 } + block.map { "blocks.1." + $0 } + ["head.weight", "head.bias"]
            #expect(network.namedParameters.map(\.name) == expected)
            // Names point at the right objects, and `parameters` follows the same order.
            let named = network.namedParameters
            #expect(named[1].parameter === network.blocks[0].projection.weight)
            #expect(named[0].parameter === network.blocks[0].scale)
            #expect(named[6].parameter === network.blocks[0].gate!.weight)
            #expect(named.last!.parameter === network.head.bias!)
            #expect(zip(network.parameters, named).allSatisfy { $0 === $1.parameter })
            let shapes = named.map(\.parameter.shape)
            #expect(shapes[0] == [3] && shapes[1] == [3, 3] && shapes[6] == [1, 3] && shapes[7] == [1])
            #expect(network.parameterCount == 2 * (3 + 9 + 3 + 9 + 3 + 9 + 3 + 1 + 3) + 6 + 2)
            #expect(network.stateDictionary.map(\.name) == expected)
        }

        @Test func linearWithoutBiasHasOnlyWeight() {
            var random = RandomStream(seed: 2, name: "init")
            let layer = Linear(inputSize: 5, outputSize: 2, bias: false, random: &random)
            #expect(layer.bias == nil)
            #expect(layer.namedParameters.map(\.name) == ["weight"])
            #expect(layer.namedParameters.map(\.parameter.shape) == [[2, 5]])
        }

        @Test func mlpNames() {
            var random = RandomStream(seed: 3, name: "init")
            let mlp = MLP(sizes: [4, 6, 2], activation: .relu, random: &random)
            #expect(mlp.namedParameters.map(\.name)
                    == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
            #expect(mlp.namedParameters.map(\.parameter.shape) == [[6, 4], [6], [2, 6], [2]])
        }

        /// Every module below the root, found by walking properties independently of `Module.modules`.
        static func allModules(_ network: Network) -> [Module] {
            var found: [Module] = [network.head]
            for block in network.blocks {
                found.append(block)
                found.append(block.projection)
                found.append(contentsOf: block.stages)
                found.append(block.gate!)
            }
            return found
        }

        @Test func setTrainingReachesArrayMembers() {
            var random = RandomStream(seed: 4, name: "init")
            let network = Network(random: &random)
            #expect(network.isTraining)
            network.setTraining(false)
            #expect(!network.isTraining)
            for block in network.blocks {
                #expect(!block.isTraining)
                #expect(!block.projection.isTraining)
                #expect(block.stages.allSatisfy { !$0.isTraining })
            }
            #expect(!network.head.isTraining)
            network.setTraining(true)
            let allTraining = ModuleTests.allModules(network).allSatisfy { $0.isTraining }
            #expect(network.isTraining && allTraining)
        }

        @Test func setTrainingReachesOptionalSubmodules() {
            var random = RandomStream(seed: 4, name: "init")
            let network = Network(random: &random)
            network.setTraining(false)
            #expect(network.blocks.allSatisfy { !$0.gate!.isTraining })
            // The present optional is a sub-module of its block; the absent one adds nothing.
            let direct = network.blocks[0].modules
            #expect(direct.count == 4)  // projection, stages.0, stages.1, gate
            #expect(direct.contains { $0 === network.blocks[0].gate! })
            #expect(network.modules.count == 3 + 2 * 4)  // blocks.0, blocks.1, head and the blocks' 4 each
        }

        @Test func modulesListsNestedSubmodulesAsDocumented() {
            var random = RandomStream(seed: 5, name: "init")
            let network = Network(random: &random)
            #expect(network.modules.contains { $0 === network.blocks[0].projection })
            #expect(network.modules.count == 3 + 2 * 4)
        }

        /// Tapes on two threads over the same module (data-parallel shards): each thread's gradients equal what it
        /// gets alone, since the tracked copies live on the tapes, not in the shared parameters.
        @Test func concurrentTapesOverOneModuleMatchSerialOnes() {
            var random = RandomStream(seed: 12, name: "concurrent-tapes")
            let network = Network(random: &random)
            let inputs = (0..<2).map { _ in random.normal(shape: [5, 3]) }
            func gradients(_ input: Tensor) -> [[Float]] {
                network.valueWithGradients {
                    let hidden = network.blocks[1].projection(network.blocks[0].projection(input)).relu()
                    return (network.head(hidden) * network.blocks[0].scale.tensor.sum()).squared().sum()
                }.gradients.map(\.scalars)
            }
            let serial = inputs.map(gradients)
            for _ in 0..<20 {
                var results = [[[Float]]](repeating: [], count: 2)
                results.withUnsafeMutableBufferPointer { slots in
                    DispatchQueue.concurrentPerform(iterations: 2) { slots[$0] = gradients(inputs[$0]) }
                }
                #expect(results == serial)
            }
        }
    }
}
