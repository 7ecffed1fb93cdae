import Foundation
import TestSupport
import Testing
import VAETensor
import VAEFormats
@testable import VAEPictures
@testable import VAETraining

extension ModelComputation {
    /// report.html: one self-contained page with every picture, the metrics, the evaluation and the config.
    @Suite(.serialized) struct ReportPageTests {
        @Test func reportHoldsEveryPictureAndTheConfig() throws {
            let directory = try makeTemporaryDirectory("report")
            defer { removeDirectory(directory) }
            var config = RunConfig.defaults
            config.trainer.runName = "a<b&c"   // escaped in the page
            try RunDirectory.write(config.yaml(), to: directory + "/config.yaml")
            try RunDirectory.write(syntheticMetrics(epochs: 4), to: directory + "/metrics.csv")
            try RunDirectory.write(RunDirectory.environment(command: ["vae", "train", "--seed", "1"]),
                                   to: directory + "/environment.json")
            let evaluation = EvaluationReport(images: 1000, negativeELBO: 243.6, reconstruction: 227.2, kl: 16.4,
                                              negativeLogLikelihood: 240.82, importanceSamples: 5000,
                                              bitsPerDimension: 0.443, klPerDimension: [1.5, 0.01], activeUnits: 1,
                                              seconds: 3)
            try Data(JSONEncoder().encode(evaluation)).write(to: URL(fileURLWithPath: directory + "/eval.json"))

            let pictures = try RunPictures.renderAll(try tinyPictureInputs(latentSize: 2, metricsPath: directory + "/metrics.csv"))
            let path = try ReportPage.write(directory: directory, pictures: pictures)
            #expect(path == directory + "/report.html")
            let html = try String(contentsOfFile: path, encoding: .utf8)
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            for picture in pictures {
                #expect(html.contains("id=\"\(picture.kind.rawValue)\""), "no section for \(picture.kind)")
                #expect(html.contains(picture.fileName), "\(picture.fileName) not named")
            }
            // Five PNGs as data URIs, decoding to exactly the rendered bytes; two inline SVGs.
            let uris = html.components(separatedBy: "src=\"data:image/png;base64,").dropFirst()
                .map { String($0.prefix { $0 != "\"" }) }
            #expect(uris.count == 5)
            let pngs = pictures.filter { $0.fileName.hasSuffix(".png") }.map(\.bytes)
            #expect(uris.compactMap { Data(base64Encoded: $0).map { [UInt8]($0) } } == pngs)
            #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
            #expect(!html.contains("<?xml"), "inline SVG must not carry an XML declaration")
            // Nothing is loaded from elsewhere.
            #expect(!html.contains("http://") || html.components(separatedBy: "http://").count - 1 == 2,
                    "only the two SVG namespace declarations may mention http://")
            #expect(!html.contains("https://") && !html.contains("<script"))
            // The config (escaped), the command, the last metrics row and the evaluation.
            #expect(html.contains("run_name: &quot;a&lt;b&amp;c&quot;"), "the YAML, escaped")
            #expect(html.contains("learning_rate: 0.001"))
            #expect(html.contains("<code>vae train --seed 1</code>"))
            #expect(html.contains("<td>274.00</td>"), "test −ELBO of epoch 4: 290 − 16")
            #expect(html.contains("240.82 nats") && html.contains("k = 5000") && html.contains("1 of 2"))

            // Without metrics, environment or eval.json the page still renders; without config.yaml it is an error.
            for file in ["metrics.csv", "environment.json", "eval.json"] { try FileManager.default.removeItem(atPath: directory + "/" + file) }
            let bare = try ReportPage.html(directory: directory, pictures: [])
            #expect(bare.contains("No metrics.csv yet") && !bare.contains("vae eval"))
            try FileManager.default.removeItem(atPath: directory + "/config.yaml")
            #expect(throws: PictureError.self) { try ReportPage.html(directory: directory, pictures: []) }
        }

        /// `vae train`'s end: every picture and report.html in the run directory, plus snapshots every
        /// `picture_every` epochs, in a few seconds at most.
        @Test(.enabled(if: hasFashionMNIST, "needs Fashion-MNIST"))
        func trainingWritesPicturesAndReport() throws {
            var config = smallConfig(trainLimit: 600, testLimit: 300, epochs: 3, seed: 4)
            config.trainer.pictureEvery = 2
            let started = Date()
            let (_, directory, _) = try trainRun(config, label: "train-pictures")
            defer { removeDirectory(directory) }
            #expect(Date().timeIntervalSince(started) < 20)
            let manager = FileManager.default
            for kind in PictureKind.allCases {
                #expect(manager.fileExists(atPath: directory + "/" + kind.fileName), "missing \(kind.fileName)")
                #expect(manager.fileExists(atPath: directory + "/pictures/epoch-0002/" + kind.fileName),
                        "missing snapshot \(kind.fileName)")
            }
            #expect(!manager.fileExists(atPath: directory + "/pictures/epoch-0001"))
            #expect(!manager.fileExists(atPath: directory + "/pictures/epoch-0003"), "the last epoch's pictures are the final ones")
            #expect(!manager.fileExists(atPath: directory + "/pictures/epoch-0002/report.html"))
            let html = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
            #expect(html.contains("picture_every: 2"))
            #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 5)
            let scatter = try XMLElements(try String(contentsOfFile: directory + "/scatter.svg", encoding: .utf8))
            #expect(scatter.count("circle", className: "point") == 300)
            #expect(scatter.count("text", className: "legend-entry") == 10)
            #expect(scatter.texts.contains("Ankle boot"))
            let losses = try XMLElements(try String(contentsOfFile: directory + "/losses.svg", encoding: .utf8))
            #expect(losses.elements.filter { $0.name == "polyline" }.allSatisfy { ($0.attributes["points"] ?? "").split(separator: " ").count == 3 })
        }
    }
}
