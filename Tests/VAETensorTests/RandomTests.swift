import Foundation
import Testing
@testable import VAETensor

@Suite struct RandomTests {
    @Test func philoxKnownAnswer() {
        // Random123's known-answer vectors for Philox4x32-10.
        let zero = RandomStream.philox(counter: (0, 0, 0, 0), key: (0, 0))
        #expect([zero.0, zero.1, zero.2, zero.3] == [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8])
        let ones = RandomStream.philox(counter: (.max, .max, .max, .max), key: (.max, .max))
        #expect([ones.0, ones.1, ones.2, ones.3] == [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd])
    }

    /// Every 24-bit draw lies strictly inside (0, 1), the top one included (it used to round to exactly 1, which
    /// made a Gumbel draw −log(−log u) infinite and a categorical-vae run NaN at step 289), and all but the top
    /// one are (i + ½)/2²⁴ exactly.
    @Test func unitDrawsAreStrictlyInsideTheInterval() {
        for word: UInt32 in [0, 0xFF, 0x100, 0x7FFF_FFFF, 0xFFFF_FEFF, 0xFFFF_FF00, 0xFFFF_FFFF] {
            let u = RandomStream.unit(word)
            #expect(u > 0 && u < 1, "word \(word): \(u)")
            #expect((-Foundation.log(-Foundation.log(u))).isFinite, "Gumbel draw at word \(word)")
        }
        #expect(RandomStream.unit(0xFFFF_FEFF) == (Float(0xFF_FFFE) + 0.5) / 16_777_216)
        #expect(RandomStream.unit(0) == 0.5 / 16_777_216)
    }

    /// Windows of a batch's rows draw exactly the whole draw's values for those rows — uniform and normal, row
    /// widths that do not fill whole Philox blocks, uneven splits — and leave the counter where the whole draw does.
    @Test func rowWindowsDrawTheWholeBatchsRows() {
        BLAS.setThreadCount(2)
        var base = RandomStream(seed: 3, name: "noise")
        _ = base.normal(count: 10)
        for (rows, width) in [(69, 20), (7, 5), (128, 3), (3, 30_000)] {
            for normal in [false, true] {
                var whole = base
                let expected = whole.draw(count: rows * width, normal: normal)
                for split in [[0..<rows], [0..<(rows + 1) / 2, (rows + 1) / 2..<rows], [0..<1, 1..<2, 2..<rows]] {
                    var values: [Float] = []
                    var ends: [RandomStream] = []
                    for range in split {
                        var window = base.rows(range, of: rows)
                        values += window.draw(count: range.count * width, normal: normal)
                        ends.append(window)
                    }
                    #expect(values == expected, "rows \(rows), width \(width), normal \(normal), split \(split)")
                    #expect(ends.allSatisfy { $0.counter == whole.counter })
                    #expect(base.joined(ends) == whole)
                }
            }
        }
        // A draw that is not a multiple of the window's rows is not per row: each window gets all of it.
        var window = base.rows(2..<5, of: 9), whole = base
        #expect(window.uniform(count: 4) == whole.uniform(count: 4))
        #expect(window.counter == whole.counter)
        // Draws that are not values (integers, blocks) ignore the window.
        #expect(window.integer(below: 1000) == whole.integer(below: 1000))
    }

    /// A large uniform draw (split over threads by block range) gives the words of one sequential pass, in order,
    /// and leaves the stream where that pass would: a count that is not a multiple of four drops the block's rest.
    @Test func largeUniformDrawsMatchSequentialBlocks() {
        BLAS.setThreadCount(2)
        for count in [300_001, 300_004, 7] {
            var parallel = RandomStream(seed: 5, name: "binarize"), sequential = parallel
            let drawn = parallel.uniform(count: count)
            var expected: [Float] = []
            while expected.count < count {
                let (a, b, c, d) = sequential.nextBlock()
                expected += [a, b, c, d].map(RandomStream.unit)
            }
            #expect(drawn == Array(expected.prefix(count)))
            #expect(parallel == sequential)
        }
    }

    @Test func streamsAreReproducibleAndDistinct() {
        var a = RandomStream(seed: 7, name: "noise"), b = RandomStream(seed: 7, name: "noise")
        var c = RandomStream(seed: 7, name: "shuffle"), d = RandomStream(seed: 8, name: "noise")
        let drawn = a.normal(count: 100)
        #expect(drawn == b.normal(count: 100))
        #expect(drawn != c.normal(count: 100))
        #expect(drawn != d.normal(count: 100))
        // Restoring a saved state continues exactly where the stream was.
        var restored = RandomStream(seed: a.seed, streamIdentifier: a.streamIdentifier, counter: a.counter)
        #expect(restored.uniform(count: 10) == a.uniform(count: 10))
    }

    @Test func normalMoments() {
        var random = RandomStream(seed: 1, name: "moments")
        let values = random.normal(count: 200_000).map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
    }

    @Test func uniformRangeAndPermutation() {
        var random = RandomStream(seed: 3, name: "u")
        let values = random.uniform(count: 10_000)
        #expect(values.allSatisfy { $0 > 0 && $0 < 1 })
        let order = random.permutation(1000)
        #expect(order.sorted() == Array(0..<1000))
        #expect(order != Array(0..<1000))
    }
}
