import Foundation

/// A hand-written SVG document: shapes appended in drawing order, numbers printed with fixed precision so the same
/// plot is always the same bytes.
public struct SVGCanvas {
    public let width: Int
    public let height: Int
    private var elements: [String] = []

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// The document, with a white background; `title` becomes the accessible `<title>`.
    public func document(title: String) -> String {
        var lines = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">",
                     "<title>\(SVGCanvas.escape(title))</title>",
                     "<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>"]
        lines += elements
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    public mutating func raw(_ element: String) { elements.append(element) }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                              width: Double = 1, dashed: Bool = false) {
        elements.append("<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\""
                        + (dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>")
    }

    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2,
                                  dashed: Bool = false, className: String) {
        let coordinates = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        elements.append("<polyline class=\"\(className)\" points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\" stroke-linejoin=\"round\""
                        + (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>")
    }

    public mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String, opacity: Double = 1,
                                className: String? = nil) {
        elements.append("<circle" + (className.map { " class=\"\($0)\"" } ?? "")
                        + " cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(radius))\" fill=\"\(fill)\""
                        + (opacity < 1 ? " fill-opacity=\"\(f(opacity))\"" : "") + "/>")
    }

    public mutating func rectangle(_ x: Double, _ y: Double, _ width: Double, _ height: Double, fill: String,
                                   stroke: String? = nil) {
        elements.append("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"\(fill)\""
                        + (stroke.map { " stroke=\"\($0)\"" } ?? "") + "/>")
    }

    public enum Anchor: String { case start, middle, end }

    public mutating func text(_ content: String, _ x: Double, _ y: Double, anchor: Anchor = .start, size: Double = 12,
                              bold: Bool = false, rotated: Bool = false, className: String? = nil) {
        let rotation = rotated ? " transform=\"rotate(-90 \(f(x)) \(f(y)))\"" : ""
        elements.append("<text" + (className.map { " class=\"\($0)\"" } ?? "")
                        + " x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor.rawValue)\" font-size=\"\(f(size))\""
                        + (bold ? " font-weight=\"bold\"" : "") + rotation + ">\(SVGCanvas.escape(content))</text>")
    }

    /// XML text and attribute escaping.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private func f(_ value: Double) -> String { SVGCanvas.number(value) }

    /// Two decimals, trailing zeros dropped, never "-0".
    static func number(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

/// Round tick positions (1, 2 or 5 × 10ᵏ apart) covering an interval.
public enum AxisTicks {
    /// About `target` ticks covering `lower...upper`, and the interval widened to the outer ticks.
    public static func nice(_ lower: Double, _ upper: Double, target: Int = 5)
        -> (ticks: [Double], lower: Double, upper: Double) {
        var (lower, upper) = (lower, upper)
        if !(lower.isFinite && upper.isFinite) { (lower, upper) = (0, 1) }
        if upper - lower < 1e-12 * max(1, abs(lower)) {
            let pad = max(abs(lower) * 0.05, 0.5)
            (lower, upper) = (lower - pad, upper + pad)
        }
        let rough = (upper - lower) / Double(max(1, target))
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = Foundation.floor(lower / step + 1e-9) * step
        let last = Foundation.ceil(upper / step - 1e-9) * step
        let count = Int(((last - first) / step).rounded())
        return ((0...count).map { first + Double($0) * step }, first, last)
    }

    /// A tick label with as many decimals as the step needs.
    public static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, min(6, Int(Foundation.ceil(-Foundation.log10(step) - 1e-9))))
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

/// A rectangular plotting area mapping data coordinates to canvas coordinates, with its axes drawn.
public struct PlotFrame {
    public let left: Double, top: Double, width: Double, height: Double
    public let xTicks: [Double], yTicks: [Double]
    public let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>

    /// Axes over the data bounds, widened to round ticks.
    public init(left: Double, top: Double, width: Double, height: Double,
                x: ClosedRange<Double>, y: ClosedRange<Double>, xTickTarget: Int = 6, yTickTarget: Int = 5,
                integerX: Bool = false) {
        (self.left, self.top, self.width, self.height) = (left, top, width, height)
        var xAxis = AxisTicks.nice(x.lowerBound, x.upperBound, target: xTickTarget)
        if integerX {
            // Epochs: the axis spans exactly the first to the last epoch (one epoch sits in the middle), with
            // whole-number ticks 1, 2 or 5 × 10ᵏ apart at multiples of the step.
            var (first, last) = (x.lowerBound.rounded(.down), x.upperBound.rounded(.up))
            if last <= first { (first, last) = (first - 1, last + 1) }
            let rough = (last - first) / Double(max(1, xTickTarget))
            let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(max(rough, 1))))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
            let ticks = Array(stride(from: (first / step).rounded(.up) * step, through: last, by: step))
            xAxis = (ticks, first, last)
        }
        let yAxis = AxisTicks.nice(y.lowerBound, y.upperBound, target: yTickTarget)
        (xTicks, xRange) = (xAxis.ticks, xAxis.lower...xAxis.upper)
        (yTicks, yRange) = (yAxis.ticks, yAxis.lower...yAxis.upper)
    }

    public func x(_ value: Double) -> Double {
        left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * width
    }

    public func y(_ value: Double) -> Double {
        top + height - (value - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * height
    }

    /// Frame, light grid lines, tick labels and axis titles.
    public func drawAxes(on canvas: inout SVGCanvas, xTitle: String, yTitle: String) {
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for tick in xTicks {
            canvas.line(x(tick), top, x(tick), top + height, stroke: "#e4e4e4")
            canvas.line(x(tick), top + height, x(tick), top + height + 5, stroke: "#333")
            canvas.text(AxisTicks.label(tick, step: xStep), x(tick), top + height + 18, anchor: .middle, size: 11)
        }
        for tick in yTicks {
            canvas.line(left, y(tick), left + width, y(tick), stroke: "#e4e4e4")
            canvas.line(left - 5, y(tick), left, y(tick), stroke: "#333")
            canvas.text(AxisTicks.label(tick, step: yStep), left - 8, y(tick) + 4, anchor: .end, size: 11)
        }
        canvas.rectangle(left, top, width, height, fill: "none", stroke: "#333")
        canvas.text(xTitle, left + width / 2, top + height + 38, anchor: .middle, size: 13)
        canvas.text(yTitle, left - 48, top + height / 2, anchor: .middle, size: 13, rotated: true)
    }
}

/// A boxed legend: one coloured swatch (a line or a dot) and a label per entry.
public struct PlotLegend {
    public enum Swatch { case line(dashed: Bool), dot }
    public var entries: [(label: String, color: String, swatch: Swatch)] = []

    public init(entries: [(label: String, color: String, swatch: Swatch)]) { self.entries = entries }

    /// Rough width of the box for 12-pixel text (0.62 em per character is wide enough for DejaVu Sans).
    public var width: Double { 36 + 7.2 * Double(entries.map(\.label.count).max() ?? 0) + 8 }
    public var height: Double { 10 + 18 * Double(entries.count) }

    public func draw(on canvas: inout SVGCanvas, left: Double, top: Double) {
        canvas.raw("<rect class=\"legend\" x=\"\(SVGCanvas.number(left))\" y=\"\(SVGCanvas.number(top))\" width=\"\(SVGCanvas.number(width))\" height=\"\(SVGCanvas.number(height))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>")
        for (index, entry) in entries.enumerated() {
            let y = top + 14 + 18 * Double(index)
            switch entry.swatch {
            case .line(let dashed): canvas.line(left + 8, y - 4, left + 30, y - 4, stroke: entry.color, width: 2.5, dashed: dashed)
            case .dot: canvas.circle(left + 19, y - 4, radius: 4.5, fill: entry.color)
            }
            canvas.text(entry.label, left + 36, y, size: 12, className: "legend-entry")
        }
    }
}

/// Ten colours that stay apart for colour-blind readers and in print (a qualitative palette in the spirit of
/// Tableau 10); classes beyond ten reuse them in order.
public enum PlotPalette {
    public static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public static func color(_ index: Int) -> String { colors[((index % colors.count) + colors.count) % colors.count] }
}
