import Foundation
import TestSupport
import Testing
import VAETensor
import VAEFormats
@testable import VAEPictures
@testable import VAETraining

extension ModelComputation {
    /// Every picture function on an untrained `mlp` with 6×5 images: PNG sizes from the IHDR, SVGs parsed as XML
    /// with the expected numbers of points, series and legend entries, and the same bytes for the same inputs.
    @Suite(.serialized) struct PictureTests {
        @Test func gridPicturesHaveTheExpectedSizes() throws {
            let inputs = try tinyPictureInputs(latentSize: 6)
            let (height, width) = (6, 5)
            func expectSize(_ kind: PictureKind, rows: Int, columns: Int) throws {
                let picture = try RunPictures.render(kind, inputs)
                let header = try pngHeader(picture.bytes)
                let expected = gridSize(rows: rows, columns: columns, height: height, width: width)
                #expect(header.width == expected.width && header.height == expected.height,
                        "\(kind): \(header.width)×\(header.height), expected \(expected.width)×\(expected.height)")
                #expect(header.colorType == 0, "\(kind): grey images give a grey PNG")
                #expect(!picture.caption.isEmpty)
            }
            try expectSize(.samples, rows: 3, columns: 4)                 // 10 samples, ⌈√10⌉ = 4 columns
            try expectSize(.reconstructions, rows: 4, columns: 16)        // 32 of 40: two blocks of inputs + outputs
            try expectSize(.interpolation, rows: 8, columns: 12)          // 8 pairs: A, 10 steps, B
            try expectSize(.traversal, rows: 6, columns: 11)              // all 6 dimensions (fewer than 8)
            try expectSize(.manifold, rows: 20, columns: 20)
        }

        @Test func colourImagesAndSmallLatents() throws {
            let colour = try tinyPictureInputs(latentSize: 2, imageShape: [3, 4, 7], count: 6)
            for kind in [PictureKind.samples, .interpolation, .manifold] {
                let header = try pngHeader(try RunPictures.render(kind, colour).bytes)
                #expect(header.colorType == 2, "\(kind): RGB images give an RGB PNG")
            }
            // 6 images make only 3 pairs.
            let interpolation = try pngHeader(try RunPictures.render(.interpolation, colour).bytes)
            #expect(interpolation.height == gridSize(rows: 3, columns: 12, height: 4, width: 7).height)
            // Latent size 1: the manifold is one row and the traversal one dimension.
            let line = try tinyPictureInputs(latentSize: 1)
            let manifold = try pngHeader(try RunPictures.render(.manifold, line).bytes)
            #expect(manifold.height == gridSize(rows: 1, columns: 20, height: 6, width: 5).height)
            let traversal = try LatentPictures.traversal(model: line.model, images: line.testImages, imageShape: [1, 6, 5], seed: 1)
            #expect(traversal.dimensions == [0])
        }

        /// The traversal picks the dimensions with the largest KL, most active first, and sweeps each over m ± 3σ.
        @Test func traversalRanksDimensionsByKL() throws {
            let inputs = try tinyPictureInputs(latentSize: 10)
            let traversal = try LatentPictures.traversal(model: inputs.model, images: inputs.testImages,
                                                         imageShape: inputs.imageShape, dimensions: 4, seed: 2)
            let kl = Evaluator(model: inputs.model).latentStatistics(inputs.testImages).klPerDimension
            let expected = Array(kl.indices.sorted { kl[$0] > kl[$1] }.prefix(4))
            #expect(traversal.dimensions == expected)
            #expect(traversal.kl == expected.map { kl[$0] })
            let codes = LatentCodes(model: inputs.model, images: inputs.testImages)
            for (dimension, range) in zip(traversal.dimensions, traversal.ranges) {
                #expect(abs((range.lowerBound + range.upperBound) / 2 - codes.centre[dimension]) < 1e-9)
                #expect(abs(range.upperBound - range.lowerBound - 6 * codes.spread[dimension]) < 1e-9)
            }
            let header = try pngHeader(traversal.png)
            #expect(header.height == gridSize(rows: 4, columns: 11, height: 6, width: 5).height)
        }

        @Test func labelScatterIsWellFormedSVG() throws {
            for latent in [2, 5] {
                let inputs = try tinyPictureInputs(latentSize: latent, count: 40, classes: 4)
                let picture = try RunPictures.render(.scatter, inputs)
                #expect(picture.fileName == "scatter.svg")
                let svg = try XMLElements(String(decoding: picture.bytes, as: UTF8.self))
                #expect(svg.elements.first?.name == "svg")
                #expect(svg.count("circle", className: "point") == 40, "one dot per test image")
                #expect(svg.count("text", className: "legend-entry") == 4, "one legend entry per class")
                #expect(svg.texts.contains("T-shirt/top") && svg.texts.contains("Dress"), "Fashion-MNIST class names")
                #expect(svg.texts.contains { $0.contains(latent == 2 ? "z₁" : "principal component 1") })
            }
            // Without labels: one colour, one legend entry; digits for other datasets.
            var unlabelled = try tinyPictureInputs(latentSize: 3)
            unlabelled.labels = []
            let plain = try XMLElements(String(decoding: try RunPictures.render(.scatter, unlabelled).bytes, as: UTF8.self))
            #expect(plain.count("text", className: "legend-entry") == 1)
            #expect(Charts.classNames(dataset: "mnist", classCount: 3) == ["0", "1", "2"])
            #expect(Charts.classNames(dataset: "Fashion_MNIST", classCount: 10).last == "Ankle boot")
        }

        @Test func lossCurvesAreWellFormedSVG() throws {
            let directory = try makeTemporaryDirectory("loss-curves")
            defer { removeDirectory(directory) }
            try syntheticMetrics(epochs: 7).write(toFile: directory + "/metrics.csv", atomically: true, encoding: .utf8)
            let inputs = try tinyPictureInputs(latentSize: 2, metricsPath: directory + "/metrics.csv")
            let svg = try XMLElements(String(decoding: try RunPictures.render(.losses, inputs).bytes, as: UTF8.self))
            #expect(svg.count("polyline", className: "series") == 5, "train/test −ELBO, test reconstruction, test/train KL")
            #expect(svg.count("text", className: "legend-entry") == 5)
            #expect(svg.count("polyline") == 5)
            // Each series has one point per epoch.
            let points = svg.elements.filter { $0.name == "polyline" }.map { ($0.attributes["points"] ?? "").split(separator: " ").count }
            #expect(points == [7, 7, 7, 7, 7])
            #expect(svg.texts.contains("epoch") && svg.texts.contains("test −ELBO"))
            // Every epoch is a tick on the x axis (7 epochs, at most 6 ticks target → step 2 is fine, 1 preferred).
            #expect(svg.texts.contains("1") && svg.texts.contains("7"))

            // A metrics.csv without train_kl (an older run) has four series; a broken one is a one-line error.
            let old = syntheticMetrics(epochs: 1).split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
            let table = try MetricsTable(csv: old.joined(separator: "\n"), source: "old.csv")
            let four = try XMLElements(try Charts.lossCurves(table, title: "t"))
            #expect(four.count("polyline", className: "series") == 4)
            #expect(throws: FormatError.self) { try MetricsTable(csv: "epoch,train_loss\n1,2\n", source: "bad.csv") }
            do {
                _ = try MetricsTable(csv: EpochMetrics.header + "\n1,x,2,3,4,5,6,7,8\n", source: "bad.csv")
                Issue.record("a non-number was accepted")
            } catch {
                #expect("\(error)".contains("bad.csv: line 2: expected a number in column train_loss, got 'x'"))
            }
        }

        @Test func samePicturesForTheSameInputs() throws {
            let directory = try makeTemporaryDirectory("determinism")
            defer { removeDirectory(directory) }
            try syntheticMetrics(epochs: 3).write(toFile: directory + "/metrics.csv", atomically: true, encoding: .utf8)
            let first = try RunPictures.renderAll(try tinyPictureInputs(latentSize: 4, metricsPath: directory + "/metrics.csv"))
            let second = try RunPictures.renderAll(try tinyPictureInputs(latentSize: 4, metricsPath: directory + "/metrics.csv"))
            #expect(first.map(\.kind) == PictureKind.allCases)
            for (a, b) in zip(first, second) {
                #expect(a.bytes == b.bytes, "\(a.kind) differs between identical renders")
                #expect(a.caption == b.caption)
            }
            // Another picture seed (same model and data) changes the random pictures but not the others.
            var reseeded = try tinyPictureInputs(latentSize: 4, metricsPath: directory + "/metrics.csv")
            reseeded.seed = 99
            for kind in [PictureKind.samples, .interpolation] {
                #expect(try RunPictures.render(kind, reseeded).bytes != first.first { $0.kind == kind }!.bytes, "\(kind)")
            }
            for kind in [PictureKind.reconstructions, .scatter, .losses] {
                #expect(try RunPictures.render(kind, reseeded).bytes == first.first { $0.kind == kind }!.bytes, "\(kind)")
            }
            // Spherical interpolation is another picture.
            reseeded.seed = 3
            reseeded.spherical = true
            let spherical = try RunPictures.render(.interpolation, reseeded)
            #expect(spherical.bytes != first.first { $0.kind == .interpolation }!.bytes)
            #expect(spherical.caption.contains("slerp"))
        }
    }
}
