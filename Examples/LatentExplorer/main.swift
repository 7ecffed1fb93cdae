// Loading a trained run and exploring its latent space from Swift: encode test images, walk the straight line
// between two of them in z, find which latent dimension changes the decoded image most, and write a PNG strip.
//
//   swift run -c release example-latent-explorer RUN_DIR     # a run written by `vae train`
//   swift run -c release example-latent-explorer             # trains a small mlp run first (1 epoch, 2000 images)
import Foundation
import VAEKit

let arguments = CommandLine.arguments.dropFirst()
let directory: String
if let given = arguments.first {
    directory = given
} else {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaekit-latent-explorer-\(getpid())").path
    var config = try ConfigLoader.load("mlp")
    (config.trainer.epochs, config.data.trainLimit, config.data.testLimit) = (1, 2000, 200)
    try RunDirectory.create(directory)
    try Trainer(config: config).run(in: directory, report: { print($0) })
}

let run = try TrainedRun(directory: directory)
let (test, images) = try run.testData(limit: 200)
print("\(run.config.model.name): \(run.model.latentSize) latent dimensions, \(test.count) test images")

// Posterior means of two test images of different classes, and the images decoded along the line between them.
let codes = withoutGradients { run.model.latentSummary(images).code }
let first = 0
let second = test.labels.isEmpty ? 1 : test.labels.firstIndex { $0 != test.labels[0] } ?? 1
let (a, b) = (codes.slice(first..<first + 1), codes.slice(second..<second + 1))
let steps = 8
let line = Tensor.concatenate((0..<steps).map { step in
    let t = Float(step) / Float(steps - 1)
    return a * (1 - t) + b * t
}, alongAxis: 0)
let decoded = withoutGradients { run.model.decode(line).mean }

// The dimension whose ±2 change moves the first image's decoding most (mean absolute pixel change).
let width = run.model.latentSize
var changes: [(dimension: Int, change: Float)] = []
for dimension in 0..<width {
    var up = a.scalars, down = a.scalars
    up[dimension] += 2
    down[dimension] -= 2
    let moved = withoutGradients {
        run.model.decode(Tensor(shape: [2, width], scalars: up + down)).mean
    }
    let difference = zip(moved.scalars.prefix(moved.count / 2), moved.scalars.suffix(moved.count / 2)).map { abs($0 - $1) }
    changes.append((dimension, difference.reduce(0, +) / Float(difference.count)))
}
let ranked = changes.sorted { $0.change > $1.change }
print("dimensions that change the decoding most: " + ranked.prefix(3).map { "z\($0.dimension) (\(String(format: "%.3f", $0.change)))" }.joined(separator: ", "))

// The interpolation as one PNG strip, 8 images wide.
if let shape = test.pictureShape, shape[0] == 1 {
    let (h, w) = (shape[1], shape[2])
    var strip = [UInt8](repeating: 0, count: h * w * steps)
    for step in 0..<steps {
        for y in 0..<h {
            for x in 0..<w {
                strip[y * w * steps + step * w + x] = UInt8(max(0, min(255, decoded.scalars[step * h * w + y * w + x] * 255)))
            }
        }
    }
    let path = directory + "/explorer-interpolation.png"
    try AtomicFile.write(PNGEncoder.encode(width: w * steps, height: h, channels: 1, pixels: strip), to: path)
    print("wrote \(path)")
}
