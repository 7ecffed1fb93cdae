import Foundation
import TestSupport
import Testing
import VAEKit

/// The README's Swift examples, kept compiling and true.
@Suite struct ReadmeExampleTests {
    @Test func tapeExample() {
        let tape = GradientTape()
        let (loss, w) = tape.recording { () -> (Tensor, Tensor) in
            let w = tape.watch(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
            return ((w.matmul(w, transposingOther: true)).logSumExp(alongAxis: 1).sum(), w)
        }
        let gradient = tape.gradients(of: loss, withRespectTo: [w])[0]
        #expect(gradient.shape == [2, 3])
        #expect(gradient.isFinite)
    }

    @Test(.enabled(if: hasFashionMNIST))
    func libraryExample() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = try ConfigLoader.load("mlp")
        config.trainer.epochs = 2
        config.data.trainLimit = 500      // (not in the README: keeps the test short)
        config.data.testLimit = 100
        let trainer = try Trainer(config: config)
        try RunDirectory.create(directory)
        var lines: [String] = []
        try trainer.run(in: directory, report: { lines.append($0) })
        #expect(lines.count == 2)

        let run = try TrainedRun(directory: directory)
        var noise = RandomStream(seed: 0, name: "sampling")
        let images = withoutGradients { run.model.decode(noise.normal(shape: [16, run.model.latentSize])).mean }
        #expect(images.shape == [16, 784])
        #expect(images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
