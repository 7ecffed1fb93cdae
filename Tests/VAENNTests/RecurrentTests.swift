import Foundation
import Testing
import TestSupport
import VAETensor
@testable import VAENN

/// GRU and LSTM stacks: PyTorch's names and shapes, gradients against finite differences over several steps with
/// padding, padding that changes nothing for the items it pads, and the same numbers as `torch.nn.GRU/LSTM`.
@Suite struct RecurrentTests {
    static func stack(_ cell: RecurrentCell, input: Int = 2, hidden: Int = 3, layers: Int = 2, seed: UInt64 = 1) -> RecurrentStack {
        var random = RandomStream(seed: seed, name: "recurrent")
        return cell == .gru ? GRU(inputSize: input, hiddenSize: hidden, layers: layers, random: &random)
            : LSTM(inputSize: input, hiddenSize: hidden, layers: layers, random: &random)
    }

    /// Outputs and every layer's final state of `stack` on `input`, as one row-major list.
    static func flat(_ stack: RecurrentStack, _ input: Tensor, lengths: [Int], initial: [RecurrentState]? = nil) -> Tensor {
        let (outputs, finals) = stack(input, lengths: lengths, initial: initial)
        let states = finals.flatMap { [$0.hidden] + ($0.cell.map { [$0] } ?? []) }
        return Tensor.concatenate(([outputs] + states).map { $0.reshaped([$0.count]) }, alongAxis: 0)
    }

    @Test(arguments: [RecurrentCell.gru, .lstm])
    func namesAndShapesArePyTorchs(cell: RecurrentCell) {
        let stack = Self.stack(cell, input: 5, hidden: 4, layers: 2)
        let gates = cell == .gru ? 3 : 4
        #expect(stack.namedParameters.map(\.name) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                                      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"])
        #expect(stack.namedParameters.map(\.parameter.shape) == [[gates * 4, 5], [gates * 4, 4], [gates * 4], [gates * 4],
                                                                  [gates * 4, 4], [gates * 4, 4], [gates * 4], [gates * 4]])
        #expect(stack.parameters.allSatisfy { $0.value.scalars.allSatisfy { abs($0) <= 0.5 } }, "uniform in ±1/√4")
    }

    /// Gradients with respect to the inputs and the initial states, over 3 steps of 3 items of lengths 3, 1, 2.
    @Test(arguments: [RecurrentCell.gru, .lstm])
    func inputAndStateGradientsCheck(cell: RecurrentCell) {
        let stack = Self.stack(cell)
        let lengths = [3, 1, 2]
        let input = smoothValues([9, 2], seed: 3)
        let hidden = smoothValues([2, 3, 3], seed: 4, scale: 0.5)
        let cells = smoothValues([2, 3, 3], seed: 5, scale: 0.5)
        checkGradients(cell == .gru ? [input, hidden] : [input, hidden, cells]) { values in
            let initial = (0..<2).map { layer in
                RecurrentState(hidden: values[1].slice(layer..<(layer + 1)).reshaped([3, 3]),
                               cell: cell == .lstm ? values[2].slice(layer..<(layer + 1)).reshaped([3, 3]) : nil)
            }
            return Self.flat(stack, values[0], lengths: lengths, initial: initial)
        }
    }

    /// Gradients with respect to every weight and bias: central differences on each scalar of each parameter.
    @Test(arguments: [RecurrentCell.gru, .lstm])
    func parameterGradientsCheck(cell: RecurrentCell) {
        let stack = Self.stack(cell)
        let input = smoothValues([9, 2], seed: 6)
        var random = RandomStream(seed: 7, name: "probe")
        let probe = random.uniform(shape: Self.flat(stack, input, lengths: [3, 1, 2]).shape, in: -1...1)
        let loss = { (Self.flat(stack, input, lengths: [3, 1, 2]) * probe).sum() }
        let analytic = stack.valueWithGradients(loss).gradients
        let step: Float = 1e-2
        for (parameter, gradient) in zip(stack.parameters, analytic) {
            for position in 0..<parameter.value.count {
                let original = parameter.value
                var scalars = original.scalars
                scalars[position] += step
                parameter.value = Tensor(shape: original.shape, scalars: scalars)
                let plus = Double(withoutGradients(loss).scalar)
                scalars[position] -= 2 * step
                parameter.value = Tensor(shape: original.shape, scalars: scalars)
                let minus = Double(withoutGradients(loss).scalar)
                parameter.value = original
                let numeric = (plus - minus) / (2 * Double(step))
                let exact = Double(gradient.scalars[position])
                #expect(abs(numeric - exact) <= 2e-3 + 1e-2 * abs(numeric), "\(cell) parameter \(parameter.shape)[\(position)]: \(exact) vs \(numeric)")
            }
        }
    }

    /// An item padded in a batch gives the outputs and final state it gives alone; its padded outputs are zero.
    @Test(arguments: [RecurrentCell.gru, .lstm])
    func paddingChangesNothing(cell: RecurrentCell) {
        let stack = Self.stack(cell, input: 3, hidden: 4)
        let (steps, batch) = (5, 3)
        let lengths = [5, 2, 4]
        let input = smoothValues([steps * batch, 3], seed: 8)
        let (outputs, finals) = withoutGradients { stack(input, lengths: lengths) }
        for item in 0..<batch {
            let rows = (0..<lengths[item]).map { $0 * batch + item }
            let (alone, aloneFinals) = withoutGradients { stack(input.gathering(rows), lengths: [lengths[item]]) }
            #expect(outputs.gathering(rows).scalars == alone.scalars, "item \(item) outputs")
            for layer in 0..<2 {
                #expect(finals[layer].hidden.slice(item..<(item + 1)).scalars == aloneFinals[layer].hidden.scalars)
                #expect(finals[layer].cell?.slice(item..<(item + 1)).scalars == aloneFinals[layer].cell?.scalars)
            }
            let padded = (lengths[item]..<steps).map { $0 * batch + item }
            #expect(padded.isEmpty || outputs.gathering(padded).scalars.allSatisfy { $0 == 0 })
        }
    }

    /// An item's input gradient in a padded batch is the one it has alone (its padding's is zero), through the
    /// outputs and the final states; without final states the outputs are the same.
    @Test(arguments: [RecurrentCell.gru, .lstm])
    func paddingChangesNoGradient(cell: RecurrentCell) {
        let stack = Self.stack(cell, input: 3, hidden: 4)
        let (steps, batch, lengths) = (5, 3, [5, 2, 4])
        let input = smoothValues([steps * batch, 3], seed: 9)
        func inputGradient(_ input: Tensor, _ lengths: [Int]) -> Tensor {
            let tape = GradientTape()
            return tape.recording {
                let x = tape.watch(input)
                let (outputs, finals) = stack(x, lengths: lengths)
                let loss = (outputs * outputs).sum() + finals.map { ($0.hidden.tanh() + ($0.cell ?? $0.hidden)).sum() }.reduce(Tensor(0), +)
                return tape.gradients(of: loss, withRespectTo: [x])[0]
            }
        }
        let gradient = inputGradient(input, lengths)
        for item in 0..<batch {
            let rows = (0..<lengths[item]).map { $0 * batch + item }
            let alone = inputGradient(input.gathering(rows), [lengths[item]])
            let worst = zip(gradient.gathering(rows).scalars, alone.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6 && alone.scalars.contains { $0 != 0 }, "item \(item): largest difference \(worst)")
            let padded = (lengths[item]..<steps).map { $0 * batch + item }
            #expect(padded.isEmpty || gradient.gathering(padded).scalars.allSatisfy { $0 == 0 })
        }
        let withoutFinals = withoutGradients { stack(input, lengths: lengths, finalStates: false) }
        #expect(withoutFinals.final.isEmpty && withoutFinals.outputs.scalars == withoutGradients { stack(input, lengths: lengths) }.outputs.scalars)
    }

    @Test func embeddingRowsAndTheirGradients() {
        var random = RandomStream(seed: 9, name: "embedding")
        let embedding = Embedding(vocabularySize: 6, embeddingSize: 3, random: &random)
        #expect(embedding.namedParameters.map(\.name) == ["weight"] && embedding.weight.shape == [6, 3])
        let tokens = [4, 1, 4, 0]
        #expect(withoutGradients { embedding(tokens) }.scalars == [4, 1, 4, 0].flatMap { Array(embedding.weight.value.row($0)) })
        let gradient = embedding.valueWithGradients { embedding(tokens).sum() }.gradients[0]
        #expect(gradient.scalars == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 0],
                "row 4 twice, rows 0 and 1 once, the others not at all")
    }

    /// The same weights and padded batch in `torch.nn.GRU` / `torch.nn.LSTM` (packed sequences): the same outputs
    /// and final states to 1e-5. Skipped where pip's torch is absent.
    @Test(.enabled(if: pythonHas("torch"), "needs pip's torch"), arguments: [RecurrentCell.gru, .lstm])
    func matchesPyTorch(cell: RecurrentCell) throws {
        let stack = Self.stack(cell, input: 4, hidden: 5, layers: 2, seed: 11)
        let (steps, lengths) = (6, [6, 3, 1, 5])
        let input = smoothValues([steps * lengths.count, 4], seed: 12)
        let expected = withoutGradients { Self.flat(stack, input, lengths: lengths) }
        let workspace = try Workspace("recurrent-torch")
        defer { workspace.remove() }
        let request: [String: Any] = [
            "cell": cell.rawValue, "input_size": 4, "hidden_size": 5, "layers": 2, "steps": steps, "lengths": lengths,
            "input": input.scalars.map(Double.init),
            "weights": Dictionary(uniqueKeysWithValues: stack.namedParameters.map { ($0.name, $0.parameter.value.scalars.map(Double.init)) }),
        ]
        let path = workspace.path + "/request.json"
        try JSONSerialization.data(withJSONObject: request).write(to: URL(fileURLWithPath: path))
        let script = """
        import json, sys, torch
        r = json.load(open(sys.argv[1]))
        kind = torch.nn.GRU if r["cell"] == "gru" else torch.nn.LSTM
        m = kind(r["input_size"], r["hidden_size"], num_layers=r["layers"])
        state = {name: torch.tensor(values).reshape(getattr(m, name).shape) for name, values in r["weights"].items()}
        m.load_state_dict(state, strict=True)
        x = torch.tensor(r["input"]).reshape(r["steps"], len(r["lengths"]), r["input_size"])
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(r["lengths"]), enforce_sorted=False)
        with torch.no_grad():
            out, final = m(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=r["steps"])
        parts = [out.reshape(-1)]
        finals = [final] if r["cell"] == "gru" else list(final)
        for layer in range(r["layers"]):
            parts += [f[layer].reshape(-1) for f in finals]
        print(json.dumps(torch.cat(parts).tolist()))
        """
        let result = try runPython(script, [path])
        #expect(result.status == 0, "\(result.standardError)")
        let torchValues = try JSONDecoder().decode([Double].self, from: Data(result.standardOutput.utf8))
        #expect(torchValues.count == expected.count)
        let worst = zip(torchValues, expected.scalars).map { abs($0 - Double($1)) }.max() ?? .infinity
        #expect(worst < 1e-5, "\(cell): largest difference from PyTorch \(worst)")
    }
}
