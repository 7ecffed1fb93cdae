import Foundation

/// A counter-based random stream: Philox4×32-10 (Salmon et al., SC'11) keyed by a seed and a stream name.
///
/// Every draw is a pure function of (seed, stream name, counter), so a stream's state is three integers that
/// checkpoints save and restore exactly. Streams with different names never overlap.
///
/// ```swift
/// var noise = RandomStream(seed: 1, name: "noise")
/// let epsilon = noise.normal(shape: [128, 20])
/// ```
public struct RandomStream: Equatable, Sendable {
    public let seed: UInt64
    /// 64-bit FNV-1a of the stream name: the upper half of the Philox counter.
    public let streamIdentifier: UInt64
    /// Number of 128-bit blocks drawn so far.
    public private(set) var counter: UInt64

    public init(seed: UInt64, name: String) {
        self.init(seed: seed, streamIdentifier: RandomStream.hash(name), counter: 0)
    }

    /// Restores a saved state.
    public init(seed: UInt64, streamIdentifier: UInt64, counter: UInt64) {
        self.seed = seed
        self.streamIdentifier = streamIdentifier
        self.counter = counter
    }

    /// A stream derived from this one's seed under another name.
    public func named(_ name: String) -> RandomStream { RandomStream(seed: seed, name: name) }

    /// The part of this stream that rows `rows` of a batch of `total` rows draw: each draw of `count` values
    /// (from ``uniform(count:)``, ``normal(count:)`` and the shaped forms) is taken as `total` rows of
    /// `count / rows.count` values each, laid out row after row, and returns these rows' values — the same numbers
    /// the whole batch's draw puts in those rows — while the counter moves past the whole batch's draw. Shards of
    /// a batch (and batches of an evaluation) thereby draw the noise the unsplit batch would, whatever the split:
    /// results then depend on the thread count only through rounding. A draw whose count is not a multiple of
    /// `rows.count` is not per row: every window gets it whole. Other draws (``integer(below:)``,
    /// ``nextBlock()``) ignore the window. ``joined(_:)`` drops it.
    public func rows(_ rows: Range<Int>, of total: Int) -> RandomStream {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= total, "rows(_:of:): \(rows) is not within 0..<\(total)")
        var window = self
        window.window = RowWindow(rows: rows, total: total)
        return window
    }

    /// Rows of a batch that this stream draws for (see ``rows(_:of:)``); nil: the whole draw.
    public struct RowWindow: Equatable, Sendable {
        public let rows: Range<Int>
        public let total: Int
    }
    public private(set) var window: RowWindow?

    /// The stream after windows of it (``rows(_:of:)``) drew: past the furthest counter any reached, with no window.
    public func joined(_ windows: [RandomStream]) -> RandomStream {
        RandomStream(seed: seed, streamIdentifier: streamIdentifier,
                     counter: windows.reduce(counter) { Swift.max($0, $1.counter) })
    }

    static func hash(_ name: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return value
    }

    /// The next 128-bit block as four 32-bit words.
    public mutating func nextBlock() -> (UInt32, UInt32, UInt32, UInt32) {
        defer { counter &+= 1 }
        return RandomStream.philox(counter: (UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32),
                                             UInt32(truncatingIfNeeded: streamIdentifier),
                                             UInt32(truncatingIfNeeded: streamIdentifier >> 32)),
                                   key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    static func philox(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32))
    -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for _ in 0..<10 {
            let product0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let product1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: product0 >> 32), lo0 = UInt32(truncatingIfNeeded: product0)
            let hi1 = UInt32(truncatingIfNeeded: product1 >> 32), lo1 = UInt32(truncatingIfNeeded: product1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// A uniform draw in the open interval (0, 1) from 24 random bits: (i + ½)/2²⁴. For the top i, 2²⁴ − ½ needs 25
    /// bits and rounds to 2²⁴ in Float, which would give exactly 1 (and −log(−log u) = +∞ in a Gumbel draw, a NaN
    /// in training once per ~17 M draws); that one value is clamped to the largest Float below 1, every other draw
    /// is unchanged.
    @inline(__always)
    static func unit(_ word: UInt32) -> Float {
        Swift.min((Float(word >> 8) + 0.5) * (1.0 / 16_777_216.0), Float(1).nextDown)
    }

    /// `count` uniform draws in (0, 1).
    public mutating func uniform(count: Int) -> [Float] { draw(count: count, normal: false) }

    /// Standard normal draws by the Box–Muller transform, two per pair of uniforms.
    public mutating func normal(count: Int) -> [Float] { draw(count: count, normal: true) }

    /// `count` values of a draw: the window's rows of it, or all of it. Value i comes from block i / 4 of the draw
    /// (uniform: word i mod 4; normal: the Box–Muller pair of words 0, 1 or 2, 3, cosine then sine), so any range of
    /// values can be computed without the others, and a draw that is not a multiple of four drops its last block's
    /// rest.
    mutating func draw(count: Int, normal: Bool) -> [Float] {
        let (values, start) = reserve(count)
        let (seed, identifier) = (self.seed, streamIdentifier)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard count > 0 else { initialized = 0; return }
            let output = buffer.baseAddress! - values.lowerBound   // indexed by value number
            let blocks = values.lowerBound / 4..<(values.upperBound + 3) / 4
            // Each block is a function of its counter alone, so large draws split over threads by block range and
            // give the same values as one sequential pass.
            Parallel.forEachChunk(of: blocks.count, minimumWork: normal ? 16 : 4, grain: 1 << 16) { chunk in
                var stream = RandomStream(seed: seed, streamIdentifier: identifier,
                                          counter: start &+ UInt64(blocks.lowerBound + chunk.lowerBound))
                for block in chunk.lowerBound + blocks.lowerBound..<chunk.upperBound + blocks.lowerBound {
                    // A tuple, not `[a, b, c, d]`: the array literal allocated on every block.
                    let (a, b, c, d) = stream.nextBlock()
                    let four = normal ? RandomStream.boxMuller(a, b, c, d)
                                      : (RandomStream.unit(a), RandomStream.unit(b), RandomStream.unit(c), RandomStream.unit(d))
                    let index = block * 4
                    if values.contains(index) { output[index] = four.0 }
                    if values.contains(index + 1) { output[index + 1] = four.1 }
                    if values.contains(index + 2) { output[index + 2] = four.2 }
                    if values.contains(index + 3) { output[index + 3] = four.3 }
                }
            }
            initialized = count
        }
    }

    /// Which values of the whole draw a draw of `count` returns (this window's rows, or all), and the counter the
    /// whole draw starts at; the counter moves past it.
    mutating func reserve(_ count: Int) -> (values: Range<Int>, start: UInt64) {
        var values = 0..<count, drawn = count
        if let window, !window.rows.isEmpty, count % window.rows.count == 0 {
            let width = count / window.rows.count
            values = window.rows.lowerBound * width..<window.rows.upperBound * width
            drawn = window.total * width
        }
        defer { counter &+= UInt64((drawn + 3) / 4) }
        return (values, counter)
    }

    /// Standard normal draws of `shape` made on `backend` (Philox and Box–Muller on the device: the values of
    /// ``normal(shape:)`` within the device's rounding of log, cos and sin), or on the host for nil. The counter
    /// moves as for ``normal(shape:)``.
    public mutating func normal(shape: [Int], on backend: (any TensorBackend)?) -> Tensor {
        guard let backend else { return normal(shape: shape) }
        return draw(shape: shape, on: backend, normal: true)
    }

    /// Uniform draws in (0, 1) of `shape` made on `backend` (the values of ``uniform(shape:in:)``, bit for bit), or on
    /// the host for nil. The counter moves as for ``uniform(shape:in:)``.
    public mutating func uniform(shape: [Int], on backend: (any TensorBackend)?) -> Tensor {
        guard let backend else { return uniform(shape: shape) }
        return draw(shape: shape, on: backend, normal: false)
    }

    mutating func draw(shape: [Int], on backend: any TensorBackend, normal: Bool) -> Tensor {
        let (values, start) = reserve(shape.reduce(1, *))
        return Tensor(device: backend.random(shape: shape, first: values.lowerBound, counter: start, seed: seed,
                                             stream: streamIdentifier, normal: normal))
    }

    /// Two standard normal pairs from four words: r·cos θ, r·sin θ for (a, b) then (c, d).
    @inline(__always)
    static func boxMuller(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> (Float, Float, Float, Float) {
        let radius1 = Foundation.sqrt(-2 * Foundation.log(unit(a))), angle1 = 2 * Float.pi * unit(b)
        let radius2 = Foundation.sqrt(-2 * Foundation.log(unit(c))), angle2 = 2 * Float.pi * unit(d)
        return (radius1 * Foundation.cos(angle1), radius1 * Foundation.sin(angle1),
                radius2 * Foundation.cos(angle2), radius2 * Foundation.sin(angle2))
    }

    public mutating func uniform(shape: [Int], in range: ClosedRange<Float> = 0...1) -> Tensor {
        let width = range.upperBound - range.lowerBound
        let values = uniform(count: shape.reduce(1, *)).map { range.lowerBound + width * $0 }
        return Tensor(shape: shape, scalars: values)
    }

    public mutating func normal(shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: normal(count: shape.reduce(1, *)))
    }

    /// A uniform integer in 0..<bound (rejection sampling on 64 bits: no modulo bias).
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "integer(below:): bound must be positive")
        let limit = UInt64(bound)
        let threshold = (0 &- limit) % limit
        while true {
            let (a, b, _, _) = nextBlock()
            let value = UInt64(a) << 32 | UInt64(b)
            if value >= threshold { return Int(value % limit) }
        }
    }

    /// A Fisher–Yates permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count < 2 { return order }
        for index in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(index, integer(below: index + 1))
        }
        return order
    }
}
