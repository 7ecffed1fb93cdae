/// Factor values ↔ the index of their combination, in mixed radix with the last factor fastest: how dSprites
/// orders its images and how the disentanglement scores key their codes.
public enum MixedRadix {
    /// The index of `values` (each below its size in `sizes`).
    public static func index(of values: [Int], sizes: [Int]) -> Int {
        zip(values, sizes).reduce(0) { $0 * $1.1 + $1.0 }
    }

    /// The values of combination `index`.
    public static func values(of index: Int, sizes: [Int]) -> [Int] {
        var remainder = index
        var values = [Int](repeating: 0, count: sizes.count)
        for factor in sizes.indices.reversed() {
            values[factor] = remainder % sizes[factor]
            remainder /= sizes[factor]
        }
        return values
    }
}
