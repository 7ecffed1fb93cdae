import VAECUDA
import VAETensor

// Sorting rows against the host's sort, with ties and more rows than blocks; one-hot rows from positions.
extension KernelChecks {
    /// `sortedWithinRows` of 3 rows × 37 (padded to 64; 2 blocks of 16 threads, so a block sorts two rows and a
    /// thread runs several pairs) with repeated values, whose order is by position; its gradient goes back through
    /// the permutation, exactly.
    mutating func ordering() throws {
        let (rows, length) = (3, 37)
        var xValues = values(rows * length, seed: 60)
        for i in stride(from: 0, to: xValues.count, by: 5) { xValues[i] = 0.5 }   // ties within each row
        let x = Tensor(shape: [rows, length], scalars: xValues)
        let padded = 64
        let (sorted, order) = (try buffer(count: rows * length), try buffer(count: 2 * rows * length))
        try device.launch("vae_sort_rows", grid: 2, block: 16,
                          [.int64(rows), .int64(length), .int64(padded), try buffer(xValues), try buffer(count: rows * padded),
                           try buffer(count: 2 * rows * padded), sorted, order])
        record("vae_sort_rows", try read(sorted, rows * length), x.sortedWithinRows().scalars, tolerance: 0)
        let g = values(rows * length, seed: 61), dx = try buffer(count: rows * length)
        try device.launch("vae_sort_rows_gradient", grid: 2, block: 32, [.int64(rows), .int64(length), order, try buffer(g), dx])
        record("vae_sort_rows_gradient", try read(dx, rows * length),
               gradients([x], upstream: Tensor(shape: [rows, length], scalars: g)) { $0[0].sortedWithinRows() }[0].scalars, tolerance: 0)

        // One-hot rows of 7 positions over 5 classes (a repeated one, the first and last class).
        let positions = [4, 0, 2, 2, 1, 4, 3]
        let oneHot = try buffer(count: 35)
        try device.launch("vae_one_hot", grid: 2, block: 16, [.int64(7), .int64(5), try buffer(integers: positions), oneHot])
        record("vae_one_hot", try read(oneHot, 35), Tensor.oneHot(RowIndices(positions), classes: 5).scalars, tolerance: 0)

        // Mirrored lines of 5 values in rows of 3 lines, where a row's draw is below ½ (the second row: exactly ½ keeps).
        let (images, draws) = (values(60, seed: 62), [0.1, 0.5, 0.49, 0.9] as [Float])
        let mirrored = try buffer(count: 60)
        try device.launch("vae_mirror_lines", grid: 2, block: 16, [.int64(4), .int64(15), .int64(5), try buffer(draws), try buffer(images), mirrored])
        record("vae_mirror_lines", try read(mirrored, 60),
               Tensor(shape: [4, 15], scalars: images).mirroringLines(width: 5, where: Tensor(shape: [4], scalars: draws)).scalars, tolerance: 0)

        // Binarised values, with draws equal to their values (0) and values of 0 and 1.
        let (grey, greyDraws) = (values(50, seed: 63, in: 0...1) + [0, 1, 0.25], values(50, seed: 64, in: 0...1) + [0, 0.999, 0.25])
        let binary = try buffer(count: 53)
        try device.launch("vae_binarize", grid: 2, block: 16, [.int64(53), try buffer(grey), try buffer(greyDraws), binary])
        record("vae_binarize", try read(binary, 53),
               Tensor(shape: [53], scalars: grey).binarized(by: Tensor(shape: [53], scalars: greyDraws)).scalars, tolerance: 0)
    }
}
