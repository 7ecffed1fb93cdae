import Foundation
import VAEFormats

/// The SVG plots of a run: loss curves and the label scatter of the latent space.
public enum Charts {
    /// Two panels by epoch: left, −ELBO per image (train total, test total, test reconstruction); right, KL
    /// (test, and train when logged), whose scale is ten times smaller and would be flat on the left axis.
    public static func lossCurves(_ metrics: MetricsTable, title: String) throws -> String {
        guard !metrics.rows.isEmpty else { throw PictureError("loss curves: metrics.csv has no epochs yet") }
        let (panelWidth, panelHeight) = (380.0, 250.0)
        let panels: [(title: String, yTitle: String, series: [(label: String, column: String, color: String, dashed: Bool)])] = [
            ("Loss per image (−ELBO)", "nats", [("train −ELBO", "train_loss", PlotPalette.color(0), false),
                                               ("test −ELBO", "test_loss", PlotPalette.color(1), false),
                                               ("test reconstruction", "reconstruction", PlotPalette.color(1), true)]),
            ("KL(q(z|x) ‖ p(z)) per image", "nats", [("test KL", "kl", PlotPalette.color(2), false),
                                                    ("train KL", "train_kl", PlotPalette.color(2), true)]),
        ]
        let legendHeight = 10 + 18 * 3.0
        var canvas = SVGCanvas(width: 940, height: Int(70 + panelHeight + 56 + legendHeight + 12))
        canvas.text(title, 470, 24, anchor: .middle, size: 15, bold: true)
        for (index, panel) in panels.enumerated() {
            let present = panel.series.filter { metrics.columns.contains($0.column) }
            let values = present.flatMap { metrics.series($0.column).map(\.1) }
            let epochs = metrics.series("epoch").map(\.1)
            let left = 80 + Double(index) * (panelWidth + 90)
            let frame = PlotFrame(left: left, top: 60, width: panelWidth, height: panelHeight,
                                  x: (epochs.min() ?? 1)...(epochs.max() ?? 1), y: (values.min() ?? 0)...(values.max() ?? 1),
                                  integerX: true)
            canvas.text(panel.title, left + panelWidth / 2, 50, anchor: .middle, size: 13, bold: true)
            frame.drawAxes(on: &canvas, xTitle: "epoch", yTitle: panel.yTitle)
            for series in present {
                let points = metrics.series(series.column).map { (frame.x($0.0), frame.y($0.1)) }
                canvas.polyline(points, stroke: series.color, width: 2, dashed: series.dashed, className: "series")
                for point in points { canvas.circle(point.0, point.1, radius: 2.5, fill: series.color) }
            }
            PlotLegend(entries: present.map { ($0.label, $0.color, .line(dashed: $0.dashed)) })
                .draw(on: &canvas, left: left, top: 60 + panelHeight + 52)
        }
        return canvas.document(title: title)
    }

    /// Fashion-MNIST's class names when `dataset` names it, else the class numbers (digits for MNIST).
    public static func classNames(dataset: String, classCount: Int) -> [String] {
        let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                       "Ankle boot"]
        let normalised = dataset.lowercased().replacingOccurrences(of: "_", with: "-")
        if normalised.contains("fashion"), classCount <= fashion.count { return Array(fashion.prefix(classCount)) }
        return (0..<classCount).map(String.init)
    }

    /// Keras's `plot_label_clusters`: one dot per test image at its 2-D latent position, coloured by class, in
    /// image order (so no class is always drawn on top), with a legend of the classes present. `points` are
    /// the posterior means themselves for latent size 2, or their principal-component scores otherwise (the axis
    /// titles say which). Without labels every dot is one colour and the legend says "test images".
    public static func labelScatter(points: [(Double, Double)], labels: [Int], classNames: [String], title: String,
                                    xTitle: String, yTitle: String) throws -> String {
        guard !points.isEmpty else { throw PictureError("label scatter: no points to plot") }
        guard labels.isEmpty || labels.count == points.count else {
            throw PictureError("label scatter: \(labels.count) labels for \(points.count) points")
        }
        let size = 460.0
        let xs = points.map(\.0), ys = points.map(\.1)
        let frame = PlotFrame(left: 70, top: 46, width: size, height: size, x: xs.min()!...xs.max()!,
                              y: ys.min()!...ys.max()!, xTickTarget: 6, yTickTarget: 6)
        let classes = labels.isEmpty ? [0] : Array(Set(labels)).sorted()
        let name = { (label: Int) -> String in
            labels.isEmpty ? "test images" : (label >= 0 && label < classNames.count ? classNames[label] : String(label))
        }
        let legend = PlotLegend(entries: classes.map { (name($0), PlotPalette.color($0), .dot) })
        var canvas = SVGCanvas(width: Int(70 + size + 24 + legend.width + 16), height: Int(46 + size + 56))
        canvas.text(title, 70 + size / 2, 26, anchor: .middle, size: 15, bold: true)
        frame.drawAxes(on: &canvas, xTitle: xTitle, yTitle: yTitle)
        for (index, point) in points.enumerated() {
            canvas.circle(frame.x(point.0), frame.y(point.1), radius: 2.2,
                          fill: PlotPalette.color(labels.isEmpty ? 0 : labels[index]), opacity: 0.6, className: "point")
        }
        legend.draw(on: &canvas, left: 70 + size + 24, top: 46)
        return canvas.document(title: title)
    }
}
