import Foundation
import TestSupport
import Testing
import VAETensor
import VAENN
@testable import VAEOptimizers

/// Two parameters of different shapes, so per-parameter state must be kept apart.
private let initialValues: [[Float]] = [[0.5, -1.5, 2, 0.25], [1, -0.75]]
/// Three steps of gradients with sign changes (momentum matters) and one tiny component (1e-7) for which
/// √v̂ ≈ 1e-7 is comparable to ε = 1e-8, so the placement of ε is visible.
private let gradientSequence: [[[Float]]] = [
    [[0.3, -1.2, 1e-7, 2.0], [0.5, -0.1]],
    [[-0.4, -0.8, 1e-7, 1.5], [0.2, 0.3]],
    [[0.1, 0.6, 1e-7, -0.5], [-0.7, 0.05]],
]

private func makeParameters() -> [Parameter] {
    initialValues.map { Parameter(Tensor(shape: [$0.count], scalars: $0)) }
}

private func tensors(_ gradients: [[Float]]) -> [Tensor] {
    gradients.map { Tensor(shape: [$0.count], scalars: $0) }
}

/// Runs `optimizer` over the gradient sequence and returns the final values.
private func run(_ optimizer: some Optimizer, steps: Int = 3) -> [[Float]] {
    let parameters = makeParameters()
    for step in 0..<steps { optimizer.update(parameters, gradients: tensors(gradientSequence[step])) }
    #expect(optimizer.step == steps)
    return parameters.map(\.value.scalars)
}

/// The same update rules in Double, written from PyTorch's documented algorithms, one scalar at a time.
private enum Reference {
    static func adam(lr: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                     weightDecay: Double = 0, decoupled: Bool = false, steps: Int = 3) -> [[Double]] {
        initialValues.indices.map { index in
            initialValues[index].indices.map { position in
                var p = Double(initialValues[index][position]), m = 0.0, v = 0.0
                for t in 1...steps {
                    var g = Double(gradientSequence[t - 1][index][position])
                    if decoupled { p *= 1 - lr * weightDecay } else { g += weightDecay * p }
                    m = beta1 * m + (1 - beta1) * g
                    v = beta2 * v + (1 - beta2) * g * g
                    let mHat = m / (1 - Foundation.pow(beta1, Double(t)))
                    let vHat = v / (1 - Foundation.pow(beta2, Double(t)))
                    p -= lr * mHat / (vHat.squareRoot() + eps)
                }
                return p
            }
        }
    }

    static func sgd(lr: Double, momentum: Double = 0, weightDecay: Double = 0, steps: Int = 3) -> [[Double]] {
        initialValues.indices.map { index in
            initialValues[index].indices.map { position in
                var p = Double(initialValues[index][position]), buffer = 0.0
                for t in 1...steps {
                    var g = Double(gradientSequence[t - 1][index][position]) + weightDecay * p
                    if momentum != 0 {
                        buffer = t == 1 ? g : momentum * buffer + g
                        g = buffer
                    }
                    p -= lr * g
                }
                return p
            }
        }
    }

    static func adagrad(lr: Double, eps: Double = 1e-10, weightDecay: Double = 0, steps: Int = 3) -> [[Double]] {
        initialValues.indices.map { index in
            initialValues[index].indices.map { position in
                var p = Double(initialValues[index][position]), sum = 0.0
                for t in 1...steps {
                    let g = Double(gradientSequence[t - 1][index][position]) + weightDecay * p
                    sum += g * g
                    p -= lr * g / (sum.squareRoot() + eps)
                }
                return p
            }
        }
    }
}

/// Float32 arithmetic on values of order 1 over three steps: rounding ≈ 1e-6; any rule error (bias
/// correction, ε placement, decay form, first momentum step) moves a weight by ≥ 1e-3.
private func expectMatches(_ actual: [[Float]], _ expected: [[Double]], _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    for (a, e) in zip(actual, expected) {
        expectClose(a, e, absolute: 5e-6, relative: 1e-5, what, sourceLocation: sourceLocation)
    }
}

/// A parameter vector with loss Σ aᵢ(pᵢ − cᵢ)².
private final class Quadratic: Module {
    let point = Parameter(Tensor(shape: [4], scalars: [3, -2, 1, 0.5]))
    let curvature = Tensor(shape: [4], scalars: [1, 10, 0.1, 5])
    let centre = Tensor(shape: [4], scalars: [-1, 0.5, 2, 0])
    func loss() -> Tensor { ((point.tensor - centre).squared() * curvature).sum() }
}

extension VAENNTests {
    @Suite("Optimizers against PyTorch's update rules, in Double")
    struct OptimizerTests {
        @Test func adamThreeSteps() {
            expectMatches(run(Adam(learningRate: 0.1)), Reference.adam(lr: 0.1), "Adam")
            // The tiny component: after one step, m̂ = g and √v̂ = |g| = 1e-7, so the move is lr·1e-7/(1e-7+1e-8).
            let oneStep = run(Adam(learningRate: 0.1), steps: 1)
            #expect(abs(Double(oneStep[0][2]) - (2 - 0.1 / 1.1)) < 1e-6)
        }

        @Test func adamCoupledWeightDecay() {
            expectMatches(run(Adam(learningRate: 0.05, weightDecay: 0.3)), Reference.adam(lr: 0.05, weightDecay: 0.3),
                          "Adam L2")
        }

        @Test func adamWDecoupledDecay() {
            let optimizer = Adam.adamW(learningRate: 0.05, weightDecay: 0.3)
            #expect(optimizer.decoupledWeightDecay && optimizer.weightDecay == 0.3)
            expectMatches(run(optimizer), Reference.adam(lr: 0.05, weightDecay: 0.3, decoupled: true), "AdamW")
            // Coupled and decoupled decay really differ on these numbers (so the two tests are not redundant).
            let coupled = Reference.adam(lr: 0.05, weightDecay: 0.3)[0][3]
            let decoupled = Reference.adam(lr: 0.05, weightDecay: 0.3, decoupled: true)[0][3]
            #expect(abs(coupled - decoupled) > 1e-3)
            #expect(Adam.adamW().weightDecay == 0.01)
        }

        @Test func adamNonDefaultBetas() {
            expectMatches(run(Adam(learningRate: 0.02, beta1: 0.5, beta2: 0.9, epsilon: 1e-3)),
                          Reference.adam(lr: 0.02, beta1: 0.5, beta2: 0.9, eps: 1e-3), "Adam betas")
        }

        @Test func sgdPlain() {
            expectMatches(run(SGD(learningRate: 0.1)), Reference.sgd(lr: 0.1), "SGD")
        }

        @Test func sgdMomentum() {
            expectMatches(run(SGD(learningRate: 0.1, momentum: 0.9)), Reference.sgd(lr: 0.1, momentum: 0.9),
                          "SGD momentum")
            // First step: buffer = g, so the move is lr·g (not lr·(1−μ)·g or lr·μ·0 + …).
            let oneStep = run(SGD(learningRate: 0.1, momentum: 0.9), steps: 1)
            #expect(abs(Double(oneStep[0][0]) - (0.5 - 0.1 * 0.3)) < 1e-6)
        }

        @Test func sgdWeightDecay() {
            expectMatches(run(SGD(learningRate: 0.1, weightDecay: 0.2)), Reference.sgd(lr: 0.1, weightDecay: 0.2),
                          "SGD decay")
            expectMatches(run(SGD(learningRate: 0.1, momentum: 0.5, weightDecay: 0.2)),
                          Reference.sgd(lr: 0.1, momentum: 0.5, weightDecay: 0.2), "SGD momentum + decay")
        }

        @Test func adagrad() {
            expectMatches(run(Adagrad(learningRate: 0.1)), Reference.adagrad(lr: 0.1), "Adagrad")
            expectMatches(run(Adagrad(learningRate: 0.1, weightDecay: 0.2)),
                          Reference.adagrad(lr: 0.1, weightDecay: 0.2), "Adagrad decay")
        }

        /// A tensor large enough to be split over threads gets the same update, bit for bit, as on one thread.
        @Test func adamOnLargeTensorIsTheSameOnTwoThreads() {
            var random = RandomStream(seed: 8, name: "adam-large")
            let start = random.normal(shape: [200_003])
            let gradients = (0..<3).map { _ in random.normal(shape: [200_003]) }
            func final(threads: Int) -> [Float] {
                BLAS.setThreadCount(threads)
                let parameter = Parameter(start)
                let optimizer = Adam(learningRate: 0.01, weightDecay: 0.1)
                for gradient in gradients { optimizer.update([parameter], gradients: [gradient]) }
                return parameter.value.scalars
            }
            let one = final(threads: 1), two = final(threads: 2)
            #expect(one == two)
            #expect(one != start.scalars)
        }

        /// Gradients given as two parts (a batch's shards) are added inside Adam's pass: the same weights, bit for
        /// bit, as adding them first; three parts take the add-first path.
        @Test func adamSummingPartsEqualsAddingFirst() {
            var random = RandomStream(seed: 9, name: "adam-parts")
            let start = [random.normal(shape: [70_001]), random.normal(shape: [37])]
            let steps = (0..<3).map { _ in (0..<3).map { _ in [random.normal(shape: [70_001]), random.normal(shape: [37])] } }
            func final(_ update: (Adam, [Parameter], [[Tensor]]) -> Void) -> [[Float]] {
                let parameters = start.map { Parameter($0) }
                let optimizer = Adam(learningRate: 0.01)
                for parts in steps { update(optimizer, parameters, parts) }
                return parameters.map(\.value.scalars)
            }
            let added = final { $0.update($1, gradients: sumOfParts(Array($2.prefix(2)))) }
            let fused = final { $0.update($1, summing: Array($2.prefix(2))) }
            #expect(fused == added)
            let three = final { $0.update($1, summing: $2) }
            #expect(three == final { $0.update($1, gradients: sumOfParts($2)) })
            #expect(three != fused)
        }

        @Test func adamMinimisesQuadratic() {
            let model = Quadratic()
            let optimizer = Adam(learningRate: 0.05)
            let initial = Double(model.loss().scalar)
            #expect(initial > 10)
            for _ in 0..<600 {
                let (_, gradients) = model.valueWithGradients { model.loss() }
                optimizer.update(model.parameters, gradients: gradients)
            }
            // The minimum is 0 at p = c. Adam moves each coordinate by about lr per step, so 600 steps of 0.05
            // cover the largest distance (4) seven times over; we require the loss to fall below 1e-4·initial
            // and every coordinate to be within 0.02 of its centre.
            let final = Double(model.loss().scalar)
            #expect(final < 1e-4 * initial, "loss \(initial) → \(final)")
            for (p, c) in zip(model.point.value.scalars, model.centre.scalars) { #expect(abs(p - c) < 0.02) }
        }

        /// Two steps, save the state through the public API, restore into a fresh optimiser, then both take
        /// the same third step: the weights must agree bit for bit.
        func roundTrip<O: Optimizer>(_ make: () -> O) throws {
            let original = make()
            let parameters = makeParameters()
            #expect(original.slotNames.allSatisfy { original.state(slot: $0, parameter: 0) == nil })
            for step in 0..<2 { original.update(parameters, gradients: tensors(gradientSequence[step])) }
            var slots: [String: [Tensor]] = [:]
            for slot in original.slotNames {
                slots[slot] = try parameters.indices.map { try #require(original.state(slot: slot, parameter: $0)) }
                #expect(slots[slot]!.map(\.count) == parameters.map(\.value.count))
            }
            let restored = make()
            try restored.restore(step: original.step, slots: slots)
            #expect(restored.step == 2)
            let copies = parameters.map { Parameter($0.value) }
            original.update(parameters, gradients: tensors(gradientSequence[2]))
            restored.update(copies, gradients: tensors(gradientSequence[2]))
            #expect(parameters.map(\.value.scalars) == copies.map(\.value.scalars))
            // And the restart really depended on the state: a fresh optimiser's third step differs.
            let cold = make()
            let coldCopies = copies.map { Parameter($0.value) }
            let reference = copies.map { Parameter($0.value) }
            cold.update(coldCopies, gradients: tensors(gradientSequence[2]))
            restored.update(reference, gradients: tensors(gradientSequence[2]))
            #expect(coldCopies.map(\.value.scalars) != reference.map(\.value.scalars))
        }

        @Test func stateRoundTrip() throws {
            try roundTrip { Adam(learningRate: 0.1) }
            try roundTrip { Adam.adamW(learningRate: 0.1, weightDecay: 0.1) }
            try roundTrip { SGD(learningRate: 0.1, momentum: 0.9) }
            try roundTrip { Adagrad(learningRate: 0.1) }
        }

        @Test func restoreMissingSlotThrows() {
            let optimizer = Adam()
            #expect(throws: OptimizerStateError.self) {
                try optimizer.restore(step: 1, slots: ["exp_avg": [Tensor.zeros([4])]])
            }
        }

        @Test func clipGradientNorm() {
            // Global norm of (3, 4) and (12) is 13.
            var gradients = [Tensor(shape: [2], scalars: [3, 4]), Tensor(shape: [1, 1], scalars: [12])]
            let norm = VAEOptimizers.clipGradientNorm(&gradients, maxNorm: 6.5)
            #expect(abs(norm - 13) < 1e-5)
            let clipped = gradients.flatMap(\.scalars).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(clipped - 6.5) <= 1e-4 * 6.5)
            // Direction kept: every component halved.
            expectClose(gradients.flatMap(\.scalars), [1.5, 2, 6], absolute: 0, relative: 1e-4)
            #expect(gradients[1].shape == [1, 1])

            var small = [Tensor(shape: [2], scalars: [3, 4])]
            let smallNorm = VAEOptimizers.clipGradientNorm(&small, maxNorm: 20)
            #expect(smallNorm == 5)
            #expect(small[0].scalars == [3, 4])
        }
    }
}
