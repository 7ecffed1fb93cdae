import Foundation
import Logging
import Testing
import VAEKit
@testable import VAEModels

// The Swift listings of the DocC articles (Sources/VAEKit/VAEKit.docc), compiled here; a test checks that each
// article's listing appears in this file line for line, so the articles cannot drift from code that builds.

/// GettingStarted.md. Compiled, not run here: it trains on Fashion-MNIST into runs/ (the README's example test
/// runs the same calls in a temporary directory).
private func gettingStarted() throws {
    // Train the default model (784-400-20, Bernoulli decoder) for two epochs on 2000 Fashion-MNIST images.
    var config = try ConfigLoader.load("mlp")
    config.trainer.epochs = 2
    config.data.trainLimit = 2000
    let trainer = try Trainer(config: config)
    try RunDirectory.create("runs/getting-started")
    try trainer.run(in: "runs/getting-started", report: { print($0) })

    // Evaluate: the test −ELBO and the importance-weighted NLL (k = 100) on 500 test images.
    let run = try TrainedRun(directory: "runs/getting-started")
    let (test, images) = try run.testData(limit: 500)
    let report = Evaluator(model: run.model, labels: test.labels).report(images, importanceSamples: 100, seed: 0)
    print(report.negativeELBO, report.negativeLogLikelihood ?? .nan)

    // Sample: decode 16 draws from the prior into pixel means, [16, 784].
    var random = RandomStream(seed: 0, name: "sampling")
    let samples = withoutGradients { run.model.sampleImages(count: 16, random: &random) }
    _ = samples
}

private func routingMessages(_ trainer: Trainer) {
    var logger = Logger(label: "my-app.training")
    logger.logLevel = .info
    trainer.logger = logger
}

/// AddingAModel.md's objective.
public struct FreeBitsObjective: Objective {
    public var floor: Float

    public var splitsOverRows: Bool { true }

    public func loss(_ model: ComposedVAE, input: Tensor, context: LossContext) -> LossTerms {
        let terms = MeanTerms(model, input: input, context: context)
        let kl = (terms.kl - floor).relu() + floor
        return LossTerms(total: terms.reconstruction + kl, terms: terms.logged)
    }

    public static let floorSetting = Setting<Double>(
        "free_bits", default: 2, .numbers(atLeast: 0), doc: "nats of KL the objective does not penalise")

    public static let part = ObjectivePart(settings: [floorSetting.declaration]) { specification in
        FreeBitsObjective(floor: Float(specification[floorSetting]))
    }
}

private let documentedRecipes: [ModelRecipe] = [
    .composed("free-bits-vae", "ELBO with free bits (Kingma et al. 2016)", network: "mlp",
              latent: GaussianLatent.part, objective: FreeBitsObjective.part),
]

@Suite struct DocumentationListingTests {
    /// Every ```swift block of every article, as lines without their indentation (blank lines dropped).
    static func articleListings() throws -> [(article: String, lines: [String])] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let catalog = root.appendingPathComponent("Sources/VAEKit/VAEKit.docc")
        var listings: [(String, [String])] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: catalog.path).sorted() where file.hasSuffix(".md") {
            let text = try String(contentsOf: catalog.appendingPathComponent(file), encoding: .utf8)
            var current: [String]?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if current == nil, line.hasPrefix("```swift") { current = [] } else if current != nil, line.hasPrefix("```") {
                    listings.append((file, current!))
                    current = nil
                } else if current != nil {
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if !trimmed.isEmpty { current!.append(trimmed) }
                }
            }
        }
        return listings
    }

    @Test func everyArticleListingIsCompiledHere() throws {
        let listings = try Self.articleListings()
        #expect(listings.count == 7, "\(listings.map(\.article))")
        let source = try String(contentsOfFile: #filePath, encoding: .utf8).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (article, lines) in listings {
            let found = source.indices.contains { start in
                start + lines.count <= source.count && Array(source[start..<start + lines.count]) == lines
            }
            #expect(found, "\(article): a listing starting '\(lines.first ?? "")' is not in DocumentationListingTests.swift")
        }
    }

    @Test func tensorListingComputesWhatItsCommentsSay() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [1, 3], scalars: [10, 20, 30])
        let sum = x + row                                    // broadcast over rows: [[11, 22, 33], [14, 25, 36]]
        let product = x.matmul(x, transposingOther: true)    // x·xᵀ, [2, 2], through sgemm
        let perRow = x.sum(alongAxis: 1)                     // [6, 15]
        #expect(sum.scalars == [11, 22, 33, 14, 25, 36])
        #expect(product.shape == [2, 2] && product.scalars == [14, 32, 32, 77])
        #expect(perRow.scalars == [6, 15])

        let tape = GradientTape()
        let (loss, w) = tape.recording { () -> (Tensor, Tensor) in
            let w = tape.watch(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
            return ((w * w).sum(), w)
        }
        let gradient = tape.gradients(of: loss, withRespectTo: [w])[0]   // 2·w
        #expect(gradient.scalars == [2, 4, 6, 8, 10, 12])
    }

    @Test func toyRegressionFindsTheLine() {
        let inputs = Tensor(shape: [4, 1], scalars: [0, 1, 2, 3])
        let targets = inputs * 2 + 1
        var slope = Tensor(shape: [1, 1], scalars: [0])
        var intercept = Tensor(shape: [1, 1], scalars: [0])
        for _ in 0..<500 {
            let tape = GradientTape()
            let (loss, parameters) = tape.recording { () -> (Tensor, [Tensor]) in
                let (a, b) = (tape.watch(slope), tape.watch(intercept))
                return ((inputs.matmul(a) + b - targets).squared().mean(), [a, b])
            }
            let gradients = tape.gradients(of: loss, withRespectTo: parameters)
            slope = slope - gradients[0] * 0.1
            intercept = intercept - gradients[1] * 0.1
        }
        #expect(abs(slope.scalar - 2) < 1e-2 && abs(intercept.scalar - 1) < 1e-2, "\(slope.scalar), \(intercept.scalar)")
    }

    /// The article's objective on a small model: a KL under the floor costs the floor, and the recipe reads
    /// `free_bits` besides the network's and the Gaussian latent's settings.
    @Test func freeBitsObjectiveFloorsTheKL() throws {
        let recipe = documentedRecipes[0]
        #expect(recipe.ownSettings.map(\.key).contains("free_bits") && recipe.ownSettings.map(\.key).contains("latent_size"))
        var specification = ModelSpecification(name: "free-bits-vae", inputShape: [1, 4, 4], settings: ["free_bits": 1000.0])
        specification[NetworkSettings.hiddenSizes] = [8]
        specification[GaussianLatent.latentSize] = 3
        var random = RandomStream(seed: 1, name: "init")
        let model = try #require(try recipe.build(specification, NetworkFamily.mlp, &random) as? ComposedVAE)
        let input = Tensor(shape: [8, 16], scalars: (0..<128).map { Float($0 % 2) })
        let terms = model.loss(input, context: LossContext(noise: RandomStream(seed: 2, name: "noise")))
        let (reconstruction, kl) = (try #require(terms.value("reconstruction")), try #require(terms.value("kl")))
        #expect(kl < 1000)
        #expect(abs(terms.total.scalar - (reconstruction + 1000)) < 1e-2)
    }
}
