import Foundation
import VAEFormats

/// `report.html`: one self-contained page per run (no external files, scripts or fonts): the command, the final
/// metrics (and `vae eval`'s numbers when eval.json exists), every picture with its caption, and the config.
/// SVG plots are inlined; PNG pictures are embedded as base64 data URIs.
public enum ReportPage {
    public static let fileName = "report.html"

    /// The page for the run in `directory` (config.yaml required; metrics.csv, environment.json and eval.json
    /// used when present) showing `pictures` in order.
    /// A text run's "pictures": sentences under a heading (samples, reconstructions, interpolations).
    public struct TextSection: Sendable {
        public var id: String
        public var title: String
        public var caption: String
        public var lines: [String]

        public init(id: String, title: String, caption: String, lines: [String]) {
            (self.id, self.title, self.caption, self.lines) = (id, title, caption, lines)
        }
    }

    /// `texts` (a text run's sentences) follow the pictures.
    public static func html(directory: String, pictures: [RenderedPicture], texts: [TextSection] = []) throws -> String {
        guard let configData = FileManager.default.contents(atPath: directory + "/config.yaml") else {
            throw PictureError("\(directory)/config.yaml: cannot read it (expected the run's config written by `vae train`)")
        }
        let config = String(decoding: configData, as: UTF8.self)
        let environment = readJSONObject(directory + "/environment.json")
        let metrics = try? MetricsTable(contentsOf: directory + "/metrics.csv")
        let evaluation = FileManager.default.contents(atPath: directory + "/eval.json")
            .flatMap { try? JSONOutput.decode(EvaluationReport.self, from: $0) }
        let name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent

        var page: [String] = [
            "<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
            "<title>VAEKit run \(escape(name))</title>", "<style>\(style)</style>", "</head>", "<body>", "<main>",
            "<h1>VAEKit run <code>\(escape(name))</code></h1>",
        ]
        if let command = environment["command"] {
            page.append("<p class=\"command\">Made by <code>\(escape(command))</code></p>")
        }
        let details = ["blas", "blas_threads", "os", "processors"].compactMap { key in
            environment[key].map { "\(key.replacingOccurrences(of: "_", with: " ")): \(escape($0))" }
        }
        if !details.isEmpty { page.append("<p class=\"environment\">\(details.joined(separator: " · "))</p>") }

        page.append("<h2>Final metrics</h2>")
        if let last = metrics?.rows.last {
            page.append(metricsTable(last))
        } else {
            page.append("<p>No metrics.csv yet.</p>")
        }
        if let evaluation { page.append(evaluationTable(evaluation)) }

        let ordered = pictures.filter { $0.kind == .losses } + pictures.filter { $0.kind != .losses }
        for picture in ordered {
            page.append("<h2 id=\"\(picture.kind.rawValue)\">\(escape(picture.kind.title))</h2>")
            page.append("<figure class=\"\(picture.kind.rawValue)\">")
            if picture.fileName.hasSuffix(".svg") {
                let svg = String(decoding: picture.bytes, as: UTF8.self)
                page.append(svg.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                let (width, height) = pngSize(picture.bytes)
                // Tiles of 28 pixels are too small to judge at 1:1; double them, but no wider than the page.
                let shown = min(2 * width, 920)
                let shownHeight = width > 0 ? height * shown / width : 0
                page.append("<img alt=\"\(escape(picture.kind.title))\" width=\"\(shown)\" height=\"\(shownHeight)\" src=\"data:image/png;base64,\(Data(picture.bytes).base64EncodedString())\">")
            }
            page.append("<figcaption><b>\(escape(picture.fileName))</b>: \(escape(picture.caption))</figcaption>")
            page.append("</figure>")
        }

        for text in texts {
            page.append("<h2 id=\"\(escape(text.id))\">\(escape(text.title))</h2>")
            page.append("<figure class=\"text\"><pre>\(text.lines.map(escape).joined(separator: "\n"))</pre>")
            page.append("<figcaption>\(escape(text.caption))</figcaption></figure>")
        }

        page.append("<h2>Config</h2>")
        page.append("<pre class=\"config\">\(escape(config))</pre>")
        page += ["</main>", "</body>", "</html>"]
        return page.joined(separator: "\n") + "\n"
    }

    /// Writes `directory/report.html` atomically and returns its path.
    @discardableResult
    public static func write(directory: String, pictures: [RenderedPicture], texts: [TextSection] = []) throws -> String {
        let path = directory + "/" + fileName
        try AtomicFile.write(Array(try html(directory: directory, pictures: pictures, texts: texts).utf8), to: path)
        return path
    }

    static func metricsTable(_ row: [String: Double]) -> String {
        func cell(_ column: String, _ format: String) -> String { row[column].map { String(format: format, $0) } ?? "–" }
        let header = ["epoch", "train −ELBO", "test −ELBO", "test reconstruction", "test KL", "seconds / epoch", "images / s"]
        let values = [cell("epoch", "%.0f"), cell("train_loss", "%.2f"), cell("test_loss", "%.2f"),
                      cell("reconstruction", "%.2f"), cell("kl", "%.2f"), cell("seconds", "%.2f"),
                      cell("images_per_second", "%.0f")]
        return "<table class=\"metrics\"><tr>" + header.map { "<th>\(escape($0))</th>" }.joined()
            + "</tr><tr>" + values.map { "<td>\($0)</td>" }.joined() + "</tr></table>"
            + "<p class=\"note\">Last row of metrics.csv; losses per image in nats.</p>"
    }

    static func evaluationTable(_ report: EvaluationReport) -> String {
        var rows: [(String, String)] = [
            ("test images", "\(report.images)"),
            ("−ELBO", String(format: "%.2f nats (reconstruction %.2f, KL %.2f)", report.negativeELBO, report.reconstruction, report.kl)),
        ]
        if let nll = report.negativeLogLikelihood {
            rows.append(("NLL (IWAE, k = \(report.importanceSamples ?? 0))",
                         String(format: "%.2f nats", nll) + (report.bitsPerDimension.map { String(format: " (%.4f bits/dim)", $0) } ?? "")))
        }
        rows.append(("active units", "\(report.activeUnits) of \(report.klPerDimension.count)"))
        rows.append(("KL per dimension", report.klPerDimension.map { String(format: "%.2f", $0) }.joined(separator: " ")))
        return "<h3>vae eval (eval.json)</h3><table class=\"evaluation\">"
            + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    /// Width and height from a PNG's IHDR chunk (0, 0 when the bytes are not a PNG).
    static func pngSize(_ bytes: [UInt8]) -> (Int, Int) {
        guard bytes.count >= 24, Array(bytes.prefix(8)) == PNGEncoder.signature else { return (0, 0) }
        func word(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    static func readJSONObject(_ path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.compactMapValues { $0 as? String }
    }

    static func escape(_ text: String) -> String { SVGCanvas.escape(text) }

    static let style = """
        body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; color: #222; background: #fafafa; margin: 0; }
        main { max-width: 980px; margin: 0 auto; padding: 16px 24px 48px; background: white; }
        h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
        h3 { font-size: 15px; margin: 16px 0 6px; }
        code, pre { font-family: DejaVu Sans Mono, Menlo, monospace; font-size: 13px; }
        .command code { background: #f1f1f1; padding: 2px 6px; border-radius: 3px; }
        .environment, .note { color: #666; font-size: 13px; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
        table.evaluation th { text-align: left; background: #f5f5f5; } table.evaluation td { text-align: left; }
        table.metrics th { background: #f5f5f5; }
        figure { margin: 0; } figure img { image-rendering: pixelated; display: block; }
        figure svg { max-width: 100%; height: auto; display: block; }
        figcaption { font-size: 13px; color: #444; margin-top: 6px; max-width: 900px; }
        pre.config { background: #f6f6f6; padding: 10px; border: 1px solid #e2e2e2; overflow-x: auto; }
        """
}
