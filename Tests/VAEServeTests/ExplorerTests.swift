import Foundation
import Testing
import TestSupport
import VAEFormats
import VAETraining
@testable import VAEServe

/// The explorer's API on small runs trained here: what each endpoint answers, and a 4xx with a message for every
/// kind of bad request, after which the explorer still serves.
@Suite(.serialized, .enabled(if: hasFashionMNIST, "needs Fashion-MNIST (scripts/setup.sh installs it)"))
struct ExplorerTests {
    /// An `mlp` with a 2-D latent (the pad and its scatter) and a `cvae`, 1 epoch on 1000 images each; the
    /// explorer shows the first 1000 test images whatever the runs were evaluated on.
    static let runs: Result<(explorer: Explorer, directories: [String]), Error> = Result {
        let root = try makeTemporaryDirectory("explorer")
        var directories: [String] = []
        for (name, model) in [("plane", "mlp"), ("conditional", "cvae")] {
            var config = try ConfigLoader.load(model)
            config.model.settings["latent_size"] = .integer(2)
            (config.data.trainLimit, config.data.testLimit, config.trainer.epochs) = (1000, 200, 1)
            (config.trainer.threads, config.trainer.pictureCount, config.trainer.tensorboard) = (2, 16, false)
            let directory = root + "/" + name
            try RunDirectory.create(directory)
            try Trainer(config: config).run(in: directory, report: { _ in })
            directories.append(directory)
        }
        return (try Explorer(directories: directories), directories)
    }

    static func explorer() throws -> Explorer { try runs.get().explorer }

    static func post(_ path: String, _ json: String, query: String = "") async throws -> APIResponse {
        try await explorer().handle(method: "POST", path: path, query: query, contentType: "application/json", body: Array(json.utf8))
    }

    static func pngSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard bytes.count > 24, Array(bytes.prefix(8)) == PNGEncoder.signature else { return nil }
        func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    static func error(_ response: APIResponse) -> String {
        (try? JSONDecoder().decode([String: String].self, from: Data(response.body)))?["error"] ?? ""
    }

    @Test func runsAreSummarisedForThePage() async throws {
        let response = try await Self.explorer().handle(method: "GET", path: "/api/runs")
        #expect(response.status == 200 && response.contentType == "application/json")
        let runs = try JSONDecoder().decode([RunSummary].self, from: Data(response.body))
        #expect(runs.map(\.name) == ["plane", "conditional"])
        let plane = try #require(runs.first)
        #expect(plane.model == "mlp" && plane.latentSize == 2 && plane.imageShape == [1, 28, 28] && plane.layout.kind == .gaussian)
        #expect(plane.dimensions.count == 2 && plane.dimensions[0].kl >= plane.dimensions[1].kl, "most KL first")
        #expect(plane.dimensions.allSatisfy { $0.low <= -3 && $0.high >= 3 })
        #expect(plane.scatter.count == 1000 && plane.scatter.allSatisfy { $0.count == 3 && (0..<10).contains(Int($0[2])) })
        #expect(plane.samplers == ["normal"] && plane.testImages == 1000 && plane.conditionClasses == 0)
        #expect(runs[1].conditionClasses == 10 && runs[1].classNames.count == 10)
        let page = try await Self.explorer().handle(method: "GET", path: "/")
        #expect(page.status == 200 && page.contentType.hasPrefix("text/html"))
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("/api/decode") && !html.contains("http://") && !html.contains("https://"), "self-contained: nothing fetched from elsewhere")
    }

    @Test func decodingGivesTheImageOfTheCode() async throws {
        let origin = try await Self.post("/api/decode", #"{"run": "plane", "z": [0, 0]}"#)
        #expect(origin.status == 200 && origin.contentType == "image/png")
        #expect(Self.pngSize(origin.body).map { [$0.width, $0.height] } == [28, 28])
        let again = try await Self.post("/api/decode", #"{"run": "plane", "z": [0.0, 0.0]}"#)
        let moved = try await Self.post("/api/decode", #"{"run": "plane", "z": [2.5, -2.5]}"#)
        #expect(again.body == origin.body, "the same code decodes to the same image")
        #expect(moved.status == 200 && moved.body != origin.body, "another code, another image")
        let classes = try await (0..<2).asyncMap { label in
            try await Self.post("/api/decode", #"{"run": "conditional", "z": [0, 0], "label": \#(label)}"#).body
        }
        #expect(classes[0] != classes[1], "a cvae decodes the same z differently per class")
    }

    @Test func encodingATestImageOrAnUploadGivesItsCode() async throws {
        let response = try await Self.post("/api/encode", #"{"run": "plane", "index": 3}"#)
        #expect(response.status == 200)
        let encoded = try JSONDecoder().decode(EncodeResponseFields.self, from: Data(response.body))
        #expect(encoded.z.count == 2 && encoded.z.allSatisfy(\.isFinite))
        let input = try #require(Data(base64Encoded: encoded.input))
        #expect(Self.pngSize(Array(try #require(Data(base64Encoded: encoded.reconstruction)))).map { $0.width } == 28)
        // The same picture uploaded as a file (an image body) encodes to the same code: Fashion-MNIST's grey
        // levels survive the PNG round trip.
        let upload = try await Self.explorer().handle(method: "POST", path: "/api/encode", query: "run=plane",
                                                      contentType: "image/png", body: Array(input))
        #expect(upload.status == 200, "\(Self.error(upload))")
        let uploaded = try JSONDecoder().decode(EncodeResponseFields.self, from: Data(upload.body))
        #expect(zip(uploaded.z, encoded.z).allSatisfy { abs($0 - $1) < 1e-5 }, "\(uploaded.z) vs \(encoded.z)")
        let asJSON = try await Self.post("/api/encode", #"{"run": "plane", "image": "\#(input.base64EncodedString())"}"#)
        #expect(try JSONDecoder().decode(EncodeResponseFields.self, from: Data(asJSON.body)).z == uploaded.z)
        let conditional = try await Self.post("/api/encode", #"{"run": "conditional", "index": 0}"#)
        #expect(try JSONDecoder().decode(EncodeResponseFields.self, from: Data(conditional.body)).label != nil,
                "a cvae encodes a test image with its label")
    }

    @Test func interpolationAndSamplesArePNGGrids() async throws {
        for spherical in [false, true] {
            let strip = try await Self.post("/api/interpolate", #"{"run": "plane", "from": {"index": 0}, "to": {"z": [1, 1]}, "steps": 5, "spherical": \#(spherical)}"#)
            #expect(strip.status == 200, "\(Self.error(strip))")
            #expect(Self.pngSize(strip.body).map { [$0.width, $0.height] } == [5 * 30 + 2, 32])
        }
        let grid = try await Self.post("/api/sample", #"{"run": "plane", "seed": 3, "count": 16}"#)
        #expect(Self.pngSize(grid.body).map { [$0.width, $0.height] } == [4 * 30 + 2, 4 * 30 + 2])
        let same = try await Self.post("/api/sample", #"{"run": "plane", "seed": 3, "count": 16}"#)
        let other = try await Self.post("/api/sample", #"{"run": "plane", "seed": 4, "count": 16}"#)
        #expect(same.body == grid.body && other.body != grid.body, "a seed names its draws")
    }

    /// Each bad request gets a 4xx and a message naming what was wrong; the explorer answers normally afterwards.
    @Test(arguments: [
        ("/api/decode", #"{"run": "plane", "z": [0, 0"#, 400, "malformed request"),
        ("/api/decode", #"{"z": [0, 0]}"#, 400, "missing field 'run'"),
        ("/api/decode", #"{"run": "plane", "z": [0, 0, 0]}"#, 400, "expected 2 numbers"),
        ("/api/decode", #"{"run": "plane", "z": ["NaN", 0]}"#, 400, "field z[0]"),
        ("/api/decode", #"{"run": "plane", "z": [1e999, 0]}"#, 400, "malformed request"),
        ("/api/decode", #"{"run": "plane", "z": [5000, 0]}"#, 400, "within ±1000"),
        ("/api/decode", #"{"run": "plane"}"#, 400, "z: missing"),
        ("/api/decode", #"{"run": "../plane", "z": [0, 0]}"#, 404, "no served run named '../plane'"),
        ("/api/decode", #"{"run": "/etc/passwd", "z": [0, 0]}"#, 404, "no served run"),
        ("/api/decode", #"{"run": "plane", "z": [0, 0], "label": 1}"#, 400, "not conditioned"),
        ("/api/decode", #"{"run": "conditional", "z": [0, 0], "label": 10}"#, 400, "label: expected an integer from 0 to 9"),
        ("/api/encode", #"{"run": "plane", "index": 1000}"#, 400, "index: expected an integer from 0 to 999"),
        ("/api/encode", #"{"run": "plane"}"#, 400, "expected one of 'index'"),
        ("/api/encode", #"{"run": "plane", "image": "aGVsbG8gd29ybGQ="}"#, 400, "image"),
        ("/api/interpolate", #"{"run": "plane", "from": {"index": 0}, "to": {"index": 1}, "steps": 500}"#, 400, "steps: expected an integer from 2 to 32"),
        ("/api/interpolate", #"{"run": "plane", "from": {}, "to": {"index": 1}}"#, 400, "from: expected one of"),
        ("/api/sample", #"{"run": "plane", "count": 0}"#, 400, "count: expected an integer from 1 to 256"),
        ("/api/sample", #"{"run": "plane", "sampler": "gmm"}"#, 400, "sampler: run 'plane' offers normal"),
        ("/api/../../etc/passwd", "{}", 404, "no such page"),
    ])
    func badRequestsGetA4xxWithAMessage(path: String, body: String, status: Int, message: String) async throws {
        let response = try await Self.post(path, body)
        #expect(response.status == status, "\(path) \(body): \(response.status) \(Self.error(response))")
        #expect(Self.error(response).contains(message), "\(path) \(body): '\(Self.error(response))'")
        let healthy = try await Self.post("/api/decode", #"{"run": "plane", "z": [0, 0]}"#)
        #expect(healthy.status == 200, "the explorer still decodes after a bad request")
    }

    @Test func oversizedBodiesAndCorruptUploadsAreRefused() async throws {
        let explorer = try Self.explorer()
        let big = await explorer.handle(method: "POST", path: "/api/decode", contentType: "application/json",
                                            body: [UInt8](repeating: 0x20, count: Explorer.bodyLimit + 1))
        #expect(big.status == 413 && Self.error(big).contains("over the limit"))
        var png = try ImageGridBytes.smallPNG()
        png[40] ^= 0xff  // inside the image data: the CRC no longer matches
        let corrupt = await explorer.handle(method: "POST", path: "/api/encode", query: "run=plane", contentType: "image/png", body: png)
        #expect(corrupt.status == 400 && !Self.error(corrupt).isEmpty, "\(Self.error(corrupt))")
        let noRun = await explorer.handle(method: "POST", path: "/api/encode", contentType: "image/png", body: try ImageGridBytes.smallPNG())
        #expect(noRun.status == 400 && Self.error(noRun).contains("?run=NAME"))
        let wrongMethod = await explorer.handle(method: "GET", path: "/api/decode")
        #expect(wrongMethod.status == 405)
    }

    @Test func runNamesAreUniqueLastComponents() {
        #expect(ServedRun.names(for: ["runs/mlp", "other/mlp", "runs/conv/", "runs/mlp"]) == ["mlp", "mlp-2", "conv", "mlp-3"])
    }

    @Test func layoutsFollowTheLatent() throws {
        let vq = try Factory.model(ConfigLoader.load("vq-vae"), inputShape: [1, 28, 28])
        let layout = ServedRun.layout(of: vq)
        #expect(layout.kind == .vq && layout.codes > 1 && layout.side > 1)
        let categorical = try Factory.model(ConfigLoader.load("categorical-vae"), inputShape: [1, 28, 28])
        let pickers = ServedRun.layout(of: categorical)
        #expect(pickers.kind == .categorical && pickers.variables > 0 && pickers.categories > 1
                && pickers.continuous + pickers.variables * pickers.categories == categorical.latentSize)
    }
}

/// The fields of an encode answer the tests read.
struct EncodeResponseFields: Decodable {
    var z: [Double]
    var label: Int?
    var input: String
    var reconstruction: String
}

enum ImageGridBytes {
    /// A 28×28 grey PNG.
    static func smallPNG() throws -> [UInt8] {
        try PNGEncoder.encode(width: 28, height: 28, channels: 1, pixels: (0..<784).map { UInt8($0 % 251) })
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
