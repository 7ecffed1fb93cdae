// The n×n masks that pick a matrix's diagonal or the rest (covariance and kernel-matrix penalties), as constants
// placed beside the tensor they multiply: on a device they are made once, not copied there every step.

extension Tensor {
    /// The n×n identity: 1 on the diagonal, 0 elsewhere.
    public static func identity(_ n: Int, beside other: Tensor) -> Tensor {
        constant("identity \(n)", beside: other) { diagonalMask(n, diagonal: 1, rest: 0) }
    }

    /// 1 off the diagonal, 0 on it: n×n.
    public static func offDiagonal(_ n: Int, beside other: Tensor) -> Tensor {
        constant("off-diagonal \(n)", beside: other) { diagonalMask(n, diagonal: 0, rest: 1) }
    }

    static func diagonalMask(_ n: Int, diagonal: Float, rest: Float) -> Tensor {
        var values = [Float](repeating: rest, count: n * n)
        for index in 0..<n { values[index * n + index] = diagonal }
        return Tensor(shape: [n, n], scalars: values)
    }
}
