import VAETensor

/// dSprites (Matthey et al. 2017) made procedurally: 64×64 binary images of one white shape on black, one image for
/// every combination of five factors, in the original's order (shape, scale, orientation, position x, position y;
/// the last varies fastest): 3 × 6 × 40 × 32 × 32 = 737,280 images. Nothing is downloaded: each image is rasterised
/// from its factor values when a batch asks for it, with VAEKit's own arithmetic (its sine and cosine included), so
/// the bytes are the same on every machine.
///
/// The factor values, as the original lists them: shape square, ellipse, heart; scale 0.5, 0.6, …, 1; orientation
/// 40 values from 0 to 2π inclusive (so the first and the last image of a sweep are the same); positions 32 values
/// from 0 to 1. The geometry is VAEKit's (the original was drawn by a graphics library whose exact outlines are not
/// published): the canvas is the unit square, a shape's centre is at 0.2 + 0.6·position in each axis (y downward),
/// and in its own frame, before it is scaled and rotated about its centre:
///
/// - square: |u|, |v| ≤ 0.09 (11.5 pixels on a side at scale 1);
/// - ellipse: (u / 0.12)² + (v / 0.06)² ≤ 1, its long axis horizontal;
/// - heart: the region inside the curve (16 sin³t, −(13 cos t − 5 cos 2t − 2 cos 3t − cos 4t)) · 0.1/17, point up
///   at the bottom, as a 128-vertex polygon.
///
/// A pixel is on when its centre ((column + ½)/64, (row + ½)/64) is inside the shape. The split: every 200th image
/// (3,687) is the test set, the others the training set. Labels are the shape (3 classes), so the pictures colour
/// codes by shape; ``factors`` holds all five factor indices of each image.
///
/// With an ``archive`` (the original `.npz`, through `--data FILE.npz`), the images and factors are the file's rows
/// instead, split the same way (every 200th row is a test image).
public struct DSprites: Dataset {
    public static let factorNames = ["shape", "scale", "orientation", "position_x", "position_y"]
    public static let factorSizes = [3, 6, 40, 32, 32]
    public static let shapeNames = ["square", "ellipse", "heart"]
    public static let side = 64
    public static let total = factorSizes.reduce(1, *)
    /// Every `testStride`-th image is a test image.
    public static let testStride = 200

    /// The images of this split, as indices into the full set of ``total``.
    public let indices: [Int]
    public let source: String
    public let factors: [Int]
    public let labels: [Int]
    /// The original file's rows, when read from it; nil when the images are made here.
    public let archive: DSpritesArchive?

    /// The training or test images: all of them, or with a `limit`, that many spread over the whole set (a fixed
    /// pseudo-random subset, in index order: the images are ordered by factor, shape first, so the first `limit`
    /// would all be squares of the smallest scales); made here, or the rows of `archive`.
    public init(split: DatasetSplit, limit: Int = 0, archive: DSpritesArchive? = nil) {
        let all = (0..<(archive?.count ?? Self.total)).filter { ($0 % Self.testStride == 0) == (split == .test) }
        indices = limit > 0 && limit < all.count ? Self.subset(of: all, count: limit) : all
        self.archive = archive
        source = archive.map { "\($0.path) (\(split.rawValue))" } ?? "dSprites (procedural, \(split.rawValue))"
        let width = Self.factorSizes.count
        let rows = indices
        let factors = archive.map { file in rows.flatMap { file.factors[($0 * width)..<(($0 + 1) * width)] } }
            ?? rows.flatMap(Self.factorValues)
        self.factors = factors
        labels = stride(from: 0, to: factors.count, by: width).map { factors[$0] }
    }

    /// `count` of `indices` drawn without replacement by the "dsprites-subset" stream, in ascending order.
    static func subset(of indices: [Int], count: Int) -> [Int] {
        var random = RandomStream(seed: 0, name: "dsprites-subset")
        return random.permutation(indices.count).prefix(count).sorted().map { indices[$0] }
    }

    public var count: Int { indices.count }
    public var exampleShape: [Int] { [1, Self.side, Self.side] }
    public var pictureShape: [Int]? { exampleShape }
    public var classNames: [String] { Self.shapeNames }
    public var factorNames: [String] { Self.factorNames }
    public var valueRange: ClosedRange<Float>? { count > 0 ? 0...1 : nil }

    public func batch(_ rows: some Collection<Int>, augmentation: inout BatchAugmentation) -> Tensor {
        if let archive { return archive.images(rows: rows.map { indices[$0] }) }
        return Self.images(rows.map { Self.factorValues(of: indices[$0]) })
    }

    /// The images of factor rows, `[rows, 64·64]` with values 0 and 1 (rows rasterised on the library's threads).
    public static func images(_ rows: [[Int]]) -> Tensor {
        let size = side * side
        var scalars = [Float](repeating: 0, count: rows.count * size)
        scalars.withUnsafeMutableBufferPointer { buffer in
            Parallel.forEachChunk(of: rows.count, minimumWork: size, grain: 16 * size) { chunk in
                for position in chunk {
                    for (pixel, on) in image(factors: rows[position]).enumerated() where on { buffer[position * size + pixel] = 1 }
                }
            }
        }
        return Tensor(shape: [rows.count, size], scalars: scalars)
    }

    /// The five factor indices of image `index` (mixed radix, position y fastest).
    public static func factorValues(of index: Int) -> [Int] { MixedRadix.values(of: index, sizes: factorSizes) }

    /// The image index of five factor indices.
    public static func index(of values: [Int]) -> Int { MixedRadix.index(of: values, sizes: factorSizes) }

    /// The image of five factor indices, row-major, `true` where the shape is.
    public static func image(factors values: [Int]) -> [Bool] {
        let scale = 0.5 + 0.1 * Double(values[1])
        let angle = 2 * Double.pi * Double(values[2]) / 39
        let (centreX, centreY) = (0.2 + 0.6 * Double(values[3]) / 31, 0.2 + 0.6 * Double(values[4]) / 31)
        let (cosine, sine) = (DeterministicMath.cos(angle), DeterministicMath.sin(angle))
        var pixels = [Bool](repeating: false, count: side * side)
        // Only pixel centres within `reach · scale` of the shape's centre can be inside it: the rows and columns
        // of that square are tested, the others stay off.
        let radius = reach * scale * Double(side)
        func span(_ centre: Double) -> ClosedRange<Int> {
            max(0, Int((centre * Double(side) - radius - 0.5).rounded(.down)))...min(side - 1, Int((centre * Double(side) + radius).rounded(.up)))
        }
        for row in span(centreY) {
            for column in span(centreX) {
                let (dx, dy) = ((Double(column) + 0.5) / Double(side) - centreX, (Double(row) + 0.5) / Double(side) - centreY)
                // The pixel centre in the shape's own frame: rotated back by the angle, divided by the scale.
                let (u, v) = ((cosine * dx + sine * dy) / scale, (-sine * dx + cosine * dy) / scale)
                pixels[row * side + column] = contains(shape: values[0], u, v)
            }
        }
        return pixels
    }

    /// A radius (shape frame, scale 1) beyond which no shape has a point: the square's corner, the ellipse's long
    /// semi-axis and the heart's farthest vertex, the largest, widened by 1 %.
    static let reach = 1.01 * max(0.09 * 2.0.squareRoot(), 0.12, heart.map { ($0.x * $0.x + $0.y * $0.y).squareRoot() }.max()!)

    static func contains(shape: Int, _ u: Double, _ v: Double) -> Bool {
        switch shape {
        case 0: return abs(u) <= 0.09 && abs(v) <= 0.09
        case 1: return (u / 0.12) * (u / 0.12) + (v / 0.06) * (v / 0.06) <= 1
        default: return insideHeart(u, v)
        }
    }

    /// The heart's outline, 128 vertices of the parametric curve (canvas units at scale 1, y downward).
    static let heart: [(x: Double, y: Double)] = (0..<128).map { step in
        let t = 2 * Double.pi * Double(step) / 128
        let (s, c) = (DeterministicMath.sin(t), DeterministicMath.cos(t))
        let x = 16 * s * s * s
        let y = 13 * c - 5 * DeterministicMath.cos(2 * t) - 2 * DeterministicMath.cos(3 * t) - DeterministicMath.cos(4 * t)
        return (x * 0.1 / 17, -y * 0.1 / 17)
    }

    /// Even–odd rule against ``heart``.
    static func insideHeart(_ u: Double, _ v: Double) -> Bool {
        var inside = false
        var previous = heart[heart.count - 1]
        for vertex in heart {
            if (vertex.y > v) != (previous.y > v) {
                let crossing = vertex.x + (v - vertex.y) * (previous.x - vertex.x) / (previous.y - vertex.y)
                if u < crossing { inside.toggle() }
            }
            previous = vertex
        }
        return inside
    }
}

/// Sine and cosine from IEEE-754 additions and multiplications only (range reduction to [−π/4, π/4], then Taylor
/// polynomials to x¹⁷), so results do not depend on the platform's libm.
enum DeterministicMath {
    static func sin(_ x: Double) -> Double { sineCosine(x).sine }
    static func cos(_ x: Double) -> Double { sineCosine(x).cosine }

    static func sineCosine(_ x: Double) -> (sine: Double, cosine: Double) {
        let quarter = Double.pi / 2
        let turns = (x / quarter).rounded()
        let r = x - turns * quarter
        var (term, sine) = (r, r)
        var (cosineTerm, cosine) = (1.0, 1.0)
        for n in 1...8 {
            term *= -r * r / Double((2 * n) * (2 * n + 1))
            sine += term
            cosineTerm *= -r * r / Double((2 * n - 1) * (2 * n))
            cosine += cosineTerm
        }
        switch ((Int(turns) % 4) + 4) % 4 {
        case 0: return (sine, cosine)
        case 1: return (cosine, -sine)
        case 2: return (-sine, -cosine)
        default: return (-cosine, sine)
        }
    }
}
