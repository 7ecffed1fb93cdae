import Foundation
import Testing
import VAETensor
@testable import VAEData

@Suite struct DSpritesTests {
    @Test func factorsEnumerateEveryCombinationOnceInTheOriginalOrder() {
        #expect(DSprites.total == 737_280)
        #expect(DSprites.factorValues(of: 0) == [0, 0, 0, 0, 0])
        #expect(DSprites.factorValues(of: 1) == [0, 0, 0, 0, 1], "position y varies fastest")
        #expect(DSprites.factorValues(of: DSprites.total - 1) == [2, 5, 39, 31, 31])
        for index in stride(from: 0, to: DSprites.total, by: 997) {
            #expect(DSprites.index(of: DSprites.factorValues(of: index)) == index)
        }
        let (train, test) = (DSprites(split: .train), DSprites(split: .test))
        #expect(train.count + test.count == DSprites.total && test.count == 3687)
        #expect(test.indices.allSatisfy { $0 % 200 == 0 } && !train.indices.contains { $0 % 200 == 0 })
        #expect(test.factors.count == 5 * test.count && Array(test.factors[5..<10]) == DSprites.factorValues(of: 200))
        #expect(test.labels == test.indices.map { DSprites.factorValues(of: $0)[0] })
    }

    /// Mean pixel count over all 32 × 32 positions (orientation 0) against each outline's exact area: the square
    /// 0.18², the ellipse π·0.12·0.06, the heart its polygon's (shoelace) area, in pixels of 1/64; and area ∝ scale².
    @Test func shapesCoverTheirOutlinesArea() {
        func meanCount(shape: Int, scale: Int) -> Double {
            var total = 0
            for x in 0..<32 { for y in 0..<32 { total += DSprites.image(factors: [shape, scale, 0, x, y]).filter { $0 }.count } }
            return Double(total) / 1024
        }
        var heartArea = 0.0
        for step in 0..<128 {
            func point(_ k: Int) -> (Double, Double) {
                let t = 2 * Double.pi * Double(k % 128) / 128
                let y = 13 * cos(t) - 5 * cos(2 * t) - 2 * cos(3 * t) - cos(4 * t)
                return (16 * pow(sin(t), 3) * 0.1 / 17, -y * 0.1 / 17)
            }
            let (a, b) = (point(step), point(step + 1))
            heartArea += (a.0 * b.1 - b.0 * a.1) / 2
        }
        let pixels = 64.0 * 64.0
        let areas = [0.18 * 0.18 * pixels, Double.pi * 0.12 * 0.06 * pixels, abs(heartArea) * pixels]
        for shape in 0..<3 {
            let full = meanCount(shape: shape, scale: 5)
            #expect(abs(full / areas[shape] - 1) < 0.02, "\(DSprites.shapeNames[shape]): \(full) pixels, area \(areas[shape])")
            let half = meanCount(shape: shape, scale: 0)
            #expect(abs(half / (areas[shape] / 4) - 1) < 0.05, "\(DSprites.shapeNames[shape]) at scale 0.5: \(half)")
        }
    }

    @Test func orientationsSpanAFullTurnAndBatchesAreBinary() {
        for shape in 0..<3 {
            #expect(DSprites.image(factors: [shape, 3, 0, 10, 20]) == DSprites.image(factors: [shape, 3, 39, 10, 20]),
                    "0 and 2π are both in the 40 orientations")
            #expect(DSprites.image(factors: [shape, 3, 0, 10, 20]) != DSprites.image(factors: [shape, 3, 7, 10, 20]))
        }
        let test = DSprites(split: .test, limit: 16)
        let batch = test.batch(0..<16)
        #expect(batch.shape == [16, 4096] && batch.scalars.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(batch.scalars == test.batch(0..<16).scalars)
    }

    /// The rasteriser tests only the pixels near the shape: the same images as testing every pixel of the canvas,
    /// across shapes, scales, orientations and positions (the corners included).
    @Test func croppedRasterisationMatchesAFullScan() {
        for index in stride(from: 0, to: DSprites.total, by: 1_009) + [0, 31, 992, 1_023, DSprites.total - 1] {
            let values = DSprites.factorValues(of: index)
            let scale = 0.5 + 0.1 * Double(values[1])
            let angle = 2 * Double.pi * Double(values[2]) / 39
            let (centreX, centreY) = (0.2 + 0.6 * Double(values[3]) / 31, 0.2 + 0.6 * Double(values[4]) / 31)
            let (cosine, sine) = (DeterministicMath.cos(angle), DeterministicMath.sin(angle))
            let full = (0..<4096).map { pixel -> Bool in
                let (dx, dy) = ((Double(pixel % 64) + 0.5) / 64 - centreX, (Double(pixel / 64) + 0.5) / 64 - centreY)
                return DSprites.contains(shape: values[0], (cosine * dx + sine * dy) / scale, (-sine * dx + cosine * dy) / scale)
            }
            #expect(DSprites.image(factors: values) == full, "image \(index) \(values)")
        }
        let rows = (0..<40).map { DSprites.factorValues(of: $0 * 18_000) }
        let batch = DSprites.images(rows).scalars
        #expect(batch == rows.flatMap { DSprites.image(factors: $0).map { $0 ? Float(1) : 0 } }, "a threaded batch is its images in order")
    }

    /// A limited split is spread over the whole set (the first images would all be small squares): every shape
    /// and scale appears in about its share, the same images every time, and train and test stay apart.
    @Test func limitedSplitsSpreadOverEveryFactor() {
        let train = DSprites(split: .train, limit: 3000)
        #expect(train.count == 3000 && train.indices == DSprites(split: .train, limit: 3000).indices)
        #expect(train.indices == train.indices.sorted() && Set(train.indices).count == 3000)
        #expect(train.indices.allSatisfy { $0 % DSprites.testStride != 0 })
        for (factor, size) in [(0, 3), (1, 6)] {
            let counts = (0..<size).map { value in stride(from: factor, to: train.factors.count, by: 5).filter { train.factors[$0] == value }.count }
            #expect(counts.allSatisfy { abs(Double($0) / (3000 / Double(size)) - 1) < 0.15 }, "factor \(factor): \(counts)")
        }
        let test = DSprites(split: .test, limit: 500)
        #expect(test.indices.allSatisfy { $0 % DSprites.testStride == 0 } && Set(test.labels) == [0, 1, 2])
    }

    @Test func sineAndCosineAgreeWithLibm() {
        for step in -200...200 {
            let x = Double(step) * 0.0731
            #expect(abs(DeterministicMath.sin(x) - sin(x)) < 1e-14 && abs(DeterministicMath.cos(x) - cos(x)) < 1e-14, "\(x)")
        }
    }
}
