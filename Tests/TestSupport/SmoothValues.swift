import VAETensor

/// Fixed pseudo-random values in ±(0.2…1.2)·scale: distinct and away from 0 (and so from the kinks of relu and max),
/// so finite differences never straddle a non-differentiable point.
public func smoothValues(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var random = RandomStream(seed: seed, name: "values")
    let magnitudes = random.uniform(count: shape.reduce(1, *)).map { (0.2 + $0) * scale }
    let signs = random.uniform(count: magnitudes.count)
    return Tensor(shape: shape, scalars: zip(magnitudes, signs).map { $1 < 0.5 ? -$0 : $0 })
}
