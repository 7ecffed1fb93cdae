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

    /// Stream `index` of a family split from this one at its current position (for the shards of a batch):
    /// index 0 is this stream itself; index i > 0 has the same counter under the identifier hashed from this
    /// one's and i, so the family's draws do not overlap each other. ``joined(_:)`` continues after all of them.
    public func substream(_ index: Int) -> RandomStream {
        guard index > 0 else { return self }
        var identifier = streamIdentifier
        for byte in withUnsafeBytes(of: UInt64(index).littleEndian, Array.init) + Array("substream".utf8) {
            identifier = (identifier ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return RandomStream(seed: seed, streamIdentifier: identifier, counter: counter)
    }

    /// This stream moved past every block that `substreams` (this one's ``substream(_:)``s, advanced) drew: the
    /// state to continue from after a sharded step, so the next step's family starts on fresh counters.
    public func joined(_ substreams: [RandomStream]) -> RandomStream {
        RandomStream(seed: seed, streamIdentifier: streamIdentifier,
                     counter: substreams.reduce(counter) { Swift.max($0, $1.counter) })
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
    public mutating func uniform(count: Int) -> [Float] {
        let blocks = (count + 3) / 4
        let start = counter
        counter &+= UInt64(blocks)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let output = buffer.baseAddress!
            // Each block is a function of its counter alone, so large draws split over threads by block range
            // and give the same words as one sequential pass.
            Parallel.forEachChunk(of: blocks, minimumWork: 4, grain: 1 << 16) { chunk in
                var stream = RandomStream(seed: seed, streamIdentifier: streamIdentifier, counter: start &+ UInt64(chunk.lowerBound))
                for block in chunk {
                    // A tuple, not `[a, b, c, d]`: the array literal allocated on every block.
                    let (a, b, c, d) = stream.nextBlock()
                    let index = block * 4
                    output[index] = RandomStream.unit(a)
                    if index + 1 < count { output[index + 1] = RandomStream.unit(b) }
                    if index + 2 < count { output[index + 2] = RandomStream.unit(c) }
                    if index + 3 < count { output[index + 3] = RandomStream.unit(d) }
                }
            }
            initialized = count
        }
    }

    /// Standard normal draws by the Box–Muller transform, two per pair of uniforms.
    public mutating func normal(count: Int) -> [Float] {
        var output = [Float](repeating: 0, count: count)
        output.withUnsafeMutableBufferPointer { buffer in
            var index = 0
            func pair(_ u1: UInt32, _ u2: UInt32) {
                let radius = Foundation.sqrt(-2 * Foundation.log(RandomStream.unit(u1)))
                let angle = 2 * Float.pi * RandomStream.unit(u2)
                if index < count { buffer[index] = radius * Foundation.cos(angle); index += 1 }
                if index < count { buffer[index] = radius * Foundation.sin(angle); index += 1 }
            }
            while index < count {
                let (a, b, c, d) = nextBlock()
                pair(a, b)   // two calls, not a loop over `[(a, b), (c, d)]`, which allocated per block
                pair(c, d)
            }
        }
        return output
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
