import Foundation
import VAEFormats
import VAETensor

/// The original dSprites file (`dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`, Matthey et al. 2017), for users
/// who have it: `imgs` (`[n, 64, 64]`, bytes 0/1) and `latents_classes` (`[n, 6]` integers: colour, shape, scale,
/// orientation, position x, position y), read from the zip of `.npy` files. Its images replace the procedural
/// ones; its class columns are the factors (the colour column must be 0, the only colour). Any number of rows is
/// accepted; the disentanglement probe, which draws images by factor values, needs every combination once.
public final class DSpritesArchive: @unchecked Sendable {
    public let path: String
    /// `[count, 64·64]` bytes, 0 or 1.
    public let pixels: [UInt8]
    /// `[count, 5]`: shape, scale, orientation, position x, position y.
    public let factors: [Int]
    /// Rows (images) in the file.
    public var count: Int { pixels.count / (DSprites.side * DSprites.side) }
    /// The row holding each factor combination (``DSprites/index(of:)``), −1 where the file lacks it.
    let rowOfCombination: [Int]

    public init(contentsOf path: String) throws {
        let archive = try ZipArchive(bytes: try AtomicFile.read(path), source: path)
        let images = try NumPyArray(bytes: try archive.extract("imgs.npy"), source: "\(path) (imgs)")
        let classes = try NumPyArray(bytes: try archive.extract("latents_classes.npy"), source: "\(path) (latents_classes)")
        let side = DSprites.side
        guard images.shape.count == 3, images.shape[1] == side, images.shape[2] == side,
              images.elementType == .uint8 || images.elementType == .bool else {
            throw FormatError(source: path, "imgs must be [n, \(side), \(side)] bytes (uint8 or bool), got \(images.shape) of \(images.elementType)")
        }
        let count = images.shape[0]
        let columns = DSprites.factorSizes.count + 1
        guard classes.shape == [count, columns] else {
            throw FormatError(source: path, "latents_classes must be [\(count), \(columns)] (colour, shape, scale, orientation, position x, position y), got \(classes.shape)")
        }
        let values = try classes.integers()
        var factors = [Int]()
        factors.reserveCapacity(count * (columns - 1))
        var rowOfCombination = [Int](repeating: -1, count: DSprites.total)
        for row in 0..<count {
            let entry = values[(row * columns)..<((row + 1) * columns)]
            guard entry.first == 0 else {
                throw FormatError(source: path, "latents_classes row \(row): colour class \(entry.first!), expected 0 (dSprites has one colour)")
            }
            let factorRow = Array(entry.dropFirst())
            for (factor, (value, size)) in zip(factorRow, DSprites.factorSizes).enumerated() where !(0..<size).contains(value) {
                throw FormatError(source: path, "latents_classes row \(row): \(DSprites.factorNames[factor]) class \(value), expected 0…\(size - 1)")
            }
            factors += factorRow
            rowOfCombination[DSprites.index(of: factorRow)] = row
        }
        guard images.data.allSatisfy({ $0 <= 1 }) else {
            throw FormatError(source: path, "imgs must hold 0 and 1 only")
        }
        self.path = path
        self.pixels = Array(images.data)
        self.factors = factors
        self.rowOfCombination = rowOfCombination
    }

    /// How many factor combinations the file lacks (0 for the original).
    public var missingCombinations: Int { rowOfCombination.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }

    /// Archives read so far, by path: the training and test splits (and the probe) share one copy.
    static let cache = Locked([String: DSpritesArchive]())

    /// The archive at `path`, read once per process.
    public static func load(_ path: String) throws -> DSpritesArchive {
        if let archive = cache.withLock({ $0[path] }) { return archive }
        let archive = try DSpritesArchive(contentsOf: path)
        cache.withLock { $0[path] = archive }
        return archive
    }

    /// The images of `rows` of the file, `[rows.count, 64·64]` with values 0 and 1.
    public func images(rows: [Int]) -> Tensor {
        let size = DSprites.side * DSprites.side
        var scalars = [Float](repeating: 0, count: rows.count * size)
        for (position, row) in rows.enumerated() {
            for pixel in 0..<size where pixels[row * size + pixel] != 0 { scalars[position * size + pixel] = 1 }
        }
        return Tensor(shape: [rows.count, size], scalars: scalars)
    }

    /// The images of factor rows, from the file; every combination asked for must be there (check
    /// ``missingCombinations`` first).
    public func images(factors rows: [[Int]]) -> Tensor {
        images(rows: rows.map { values in
            let row = rowOfCombination[DSprites.index(of: values)]
            precondition(row >= 0, "\(path): no image with factors \(values)")
            return row
        })
    }
}
