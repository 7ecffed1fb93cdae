import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import VAEModels
import VAETensor
import VAEFormats
@testable import VAEPictures
@testable import VAETraining

/// Width, height and colour type from a PNG's IHDR chunk; fails the test when `bytes` is not a PNG.
func pngHeader(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws
    -> (width: Int, height: Int, colorType: Int) {
    try #require(bytes.count > 33, "too short for a PNG: \(bytes.count) bytes", sourceLocation: sourceLocation)
    try #require(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], sourceLocation: sourceLocation)
    try #require(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR", sourceLocation: sourceLocation)
    func word(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (word(16), word(20), Int(bytes[25]))
}

/// The size ``ImageGrid`` gives `rows × columns` tiles of `height × width` with its 2-pixel gaps.
func gridSize(rows: Int, columns: Int, height: Int, width: Int) -> (width: Int, height: Int) {
    (columns * (width + 2) + 2, rows * (height + 2) + 2)
}

/// The elements of an XML document in order (name and attributes); throws when it is not well-formed XML.
final class XMLElements: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []
    private(set) var texts: [String] = []
    private var currentText = ""

    init(_ text: String) throws {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw XMLFailure(message: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error") at line \(parser.lineNumber)")
        }
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append((elementName, attributes))
        currentText = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { currentText += string }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if elementName == "text" { texts.append(currentText) }
        currentText = ""
    }

    func count(_ name: String, className: String? = nil) -> Int {
        elements.filter { $0.name == name && (className == nil || $0.attributes["class"] == className) }.count
    }

    struct XMLFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// An untrained `mlp` model on small non-square images (so a swapped width and height shows), with `count`
/// random test images and labels cycling over `classes`.
func tinyPictureInputs(latentSize: Int, imageShape: [Int] = [1, 6, 5], count: Int = 40, classes: Int = 4,
                       seed: UInt64 = 3, metricsPath: String? = nil) throws -> PictureInputs {
    var config = RunConfig.defaults
    config.model[NetworkSettings.hiddenSizes] = [24]
    config.model[GaussianLatent.latentSize] = latentSize
    config.experiment.seed = seed
    let model = try Factory.model(config, inputShape: imageShape)
    var random = RandomStream(seed: seed, name: "test-images")
    let images = random.uniform(shape: [count, imageShape.reduce(1, *)])
    return PictureInputs(model: model, imageShape: imageShape, testImages: images,
                         labels: (0..<count).map { $0 % classes }, dataset: "fashion-mnist", seed: seed,
                         sampleCount: 10, metricsPath: metricsPath)
}

/// A metrics.csv of `epochs` rows with the real header and falling losses.
func syntheticMetrics(epochs: Int) -> String {
    var lines = [EpochMetrics.header]
    for epoch in 1...epochs {
        let e = Double(epoch)
        lines.append(EpochMetrics(epoch: epoch, trainLoss: 300 - 5 * e, testLoss: 290 - 4 * e, reconstruction: 275 - 5 * e,
                                  kl: 15 + e, seconds: 3, imagesPerSecond: 20000, trainReconstruction: 285 - 6 * e,
                                  trainKL: 15 + e).csvRow)
    }
    return lines.joined(separator: "\n") + "\n"
}
