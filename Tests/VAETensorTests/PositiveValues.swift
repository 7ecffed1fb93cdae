import VAETensor

/// Positive random values in 0.5…1.5 (for logs, square roots and divisors).
func positive(_ shape: [Int], seed: UInt64) -> Tensor {
    var random = RandomStream(seed: seed, name: "positive")
    return Tensor(shape: shape, scalars: random.uniform(count: shape.reduce(1, *)).map { 0.5 + $0 })
}
