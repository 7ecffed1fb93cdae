// A VAE with an encoder and decoder of your own, trained by VAEKit's trainer: here a residual MLP on a tiny
// synthetic dataset (8×8 images of one horizontal or vertical bar), with the Gaussian latent and the ELBO of the
// collection. The run directory (metrics.csv, checkpoints, TensorBoard files) goes to a temporary folder.
//
//   swift run -c release example-custom-network
import Foundation
import VAEKit

/// x → Linear → (h + tanh(Linear(h))) twice: features for the latent's heads.
final class ResidualEncoder: Module, EncoderNetwork {
    let input: Linear
    let blocks: [Linear]
    let featureSize: Int

    init(inputSize: Int, width: Int, random: inout RandomStream) {
        input = Linear(inputSize: inputSize, outputSize: width, random: &random)
        blocks = (0..<2).map { _ in Linear(inputSize: width, outputSize: width, random: &random) }
        featureSize = width
        super.init()
    }

    func features(_ x: Tensor, condition: Tensor?) -> Tensor {
        blocks.reduce(input(x).tanh()) { h, block in h + block(h).tanh() }
    }
}

/// z → Linear → tanh → Linear: Bernoulli logits for each pixel.
final class SmallDecoder: Module, DecoderNetwork {
    let hidden: Linear
    let logits: Linear

    init(codeSize: Int, width: Int, outputSize: Int, random: inout RandomStream) {
        hidden = Linear(inputSize: codeSize, outputSize: width, random: &random)
        logits = Linear(inputSize: width, outputSize: outputSize, random: &random)
        super.init()
    }

    func output(_ code: Tensor) -> Tensor { logits(hidden(code).tanh()) }
}

let residual = NetworkFamily(
    name: "residual-mlp", summary: "a residual MLP encoder and a one-layer decoder",
    makeEncoder: { specification, _, random in ResidualEncoder(inputSize: specification.inputSize, width: 64, random: &random) },
    makeDecoder: { specification, codeSize, random in
        SmallDecoder(codeSize: codeSize, width: 64, outputSize: specification.inputSize, random: &random)
    })

/// 8×8 images, each one bar (row or column k), with 5 % of the pixels flipped.
func bars(_ count: Int, seed: UInt64) -> Tensor {
    var random = RandomStream(seed: seed, name: "bars")
    var pixels: [Float] = []
    for _ in 0..<count {
        let bar = random.integer(below: 16)
        let flips = random.uniform(count: 64)
        for pixel in 0..<64 {
            let on = bar < 8 ? pixel / 8 == bar : pixel % 8 == bar - 8
            pixels.append((on != (flips[pixel] < 0.05)) ? 1 : 0)
        }
    }
    return Tensor(shape: [count, 64], scalars: pixels)
}

var specification = ModelSpecification(name: "mlp", inputShape: [1, 8, 8])
specification[GaussianLatent.latentSize] = 4
var random = RandomStream(seed: 1, name: "init")
let model = try ComposedVAE(specification, network: residual, conditionClasses: 0,
                            latent: { features, random in GaussianLatent(featureSize: features, latentSize: 4, random: &random) },
                            objective: ELBOObjective(), random: &random)

var config = RunConfig.defaults
config.trainer.epochs = 30
config.data.batchSize = 32
config.experiment.learningRate = 0.003
let trainer = try Trainer(config: config, train: TensorDataset(rows: bars(2048, seed: 1), source: "bars (train)"),
                          test: TensorDataset(rows: bars(256, seed: 2), source: "bars (test)"), model: model)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaekit-custom-network-\(getpid())").path
try RunDirectory.create(directory)
defer { try? FileManager.default.removeItem(atPath: directory) }
var losses: [Double] = []
try trainer.run(in: directory, report: { print($0) }, epochMetrics: { losses.append($0.testLoss) })
// Sixteen bars need 4 nats; 64 pixels flipped with probability 0.05 cost 64·H(0.05) ≈ 12.7 nats.
print("test −ELBO \(String(format: "%.2f", losses.first!)) → \(String(format: "%.2f", losses.last!)) nats (≈ 16.7 at best)")
if !(losses.last! < losses.first! && losses.last! < 22) {
    print("error: the custom network did not learn the bars")
    exit(1)
}
