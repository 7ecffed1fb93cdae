import Foundation
import VAECUDA
import VAETensor

// The fused ops against the operators they fuse on the host: the Gaussian latent's draw and KL, and the recurrent
// cells, with their gradients.
extension KernelChecks {
    /// The reparameterised draw and the KL to N(0, I) against the operators they fuse, and their gradients.
    mutating func gaussianTerms() throws {
        let n = 203
        let (m, v, e, g) = (values(n, seed: 50), values(n, seed: 51, in: -4...2), values(n, seed: 52), values(n, seed: 53))
        let (mean, logVariance, noise, upstream) = (Tensor(shape: [n], scalars: m), Tensor(shape: [n], scalars: v),
                                                    Tensor(shape: [n], scalars: e), Tensor(shape: [n], scalars: g))
        let (mBuffer, vBuffer, eBuffer, gBuffer) = (try buffer(m), try buffer(v), try buffer(e), try buffer(g))
        // The expected values are the host path of the two ops: their operators written out.
        let sample = try buffer(count: n)
        try device.launch("vae_reparameterized_sample", grid: 2, block: 64, [.int64(n), mBuffer, vBuffer, eBuffer, sample])
        record("vae_reparameterized_sample", try read(sample, n), Tensor.reparameterizedSample(mean: mean, logVariance: logVariance, noise: noise).scalars, tolerance: 2e-6)
        let dv = try buffer(count: n)
        try device.launch("vae_reparameterized_sample_gradient", grid: 2, block: 64, [.int64(n), gBuffer, vBuffer, eBuffer, dv])
        let sampleGradient = gradients([logVariance], upstream: upstream) { .reparameterizedSample(mean: mean, logVariance: $0[0], noise: noise) }[0]
        record("vae_reparameterized_sample_gradient", try read(dv, n), sampleGradient.scalars, tolerance: 2e-6)

        let kl = try buffer(count: n)
        try device.launch("vae_standard_normal_kl", grid: 2, block: 64, [.int64(n), mBuffer, vBuffer, kl])
        record("vae_standard_normal_kl", try read(kl, n), Tensor.standardNormalKL(mean: mean, logVariance: logVariance).scalars, tolerance: 2e-6)
        let (dMean, dLogVariance) = (try buffer(count: n), try buffer(count: n))
        try device.launch("vae_standard_normal_kl_gradient", grid: 2, block: 64, [.int64(n), gBuffer, mBuffer, vBuffer, dMean, dLogVariance])
        let klGradients = gradients([mean, logVariance], upstream: upstream) { .standardNormalKL(mean: $0[0], logVariance: $0[1]) }
        record("vae_standard_normal_kl_gradient", try read(dMean, n) + read(dLogVariance, n),
               klGradients[0].scalars + klGradients[1].scalars, tolerance: 2e-6)

        // A posterior's log-density (a log-variance per element; 3 rows of 300, more than a block's threads) against
        // the host's operators, and its three gradients.
        let (rows, width) = (3, 300)
        let (x, mu, lv) = (values(rows * width, seed: 74), values(rows * width, seed: 75), values(rows * width, seed: 76, in: -3...2))
        let perRow = values(rows, seed: 77)
        let posterior = [x, mu, lv].map { Tensor(shape: [rows, width], scalars: $0) }
        let hostDensity: ([Tensor]) -> Tensor = { .gaussianLogDensity($0[0], mean: $0[1], logVariance: $0[2]) }
        let (xBuffer, muBuffer, lvBuffer) = (try buffer(x), try buffer(mu), try buffer(lv))
        let density = try buffer(count: rows)
        try device.launch("vae_gaussian_row_log_density", grid: 2, block: CUDAKernelSource.reductionThreads,
                          [.int64(rows), .int64(width), xBuffer, muBuffer, .float(1), .float(0), lvBuffer,
                           .float(Float(Foundation.log(2 * Double.pi))), .float(-0.5), density])
        record("vae_gaussian_row_log_density (a log-variance per element)", try read(density, rows), hostDensity(posterior).scalars, tolerance: 1e-5)
        let (dx, dmu, dlv) = (try buffer(count: rows * width), try buffer(count: rows * width), try buffer(count: rows * width))
        try device.launch("vae_gaussian_row_log_density_varying_gradient", grid: 4, block: 64,
                          [.int64(rows * width), .int64(width), try buffer(perRow), xBuffer, muBuffer, lvBuffer, .float(-0.5), dx, dmu, dlv])
        let densityGradients = gradients(posterior, upstream: Tensor(shape: [rows], scalars: perRow), hostDensity)
        record("vae_gaussian_row_log_density_varying_gradient", try read(dx, rows * width) + read(dmu, rows * width) + read(dlv, rows * width),
               densityGradients.flatMap(\.scalars), tolerance: 1e-5)
    }

    /// The GRU and LSTM cells against the operators they fuse (`Tensor.gruCell`, `Tensor.lstmCell` on the host),
    /// and their gradients from the tape; a state of 3 rows × 37 (a grid-stride loop over more than one block).
    mutating func recurrentCells() throws {
        let (rows, hidden) = (3, 37)
        let n = rows * hidden
        for (name, gates) in [("gru", 3), ("lstm", 4)] {
            let (x, h) = (values(n * gates, seed: 54), values(n * gates, seed: 55))
            let (state, g) = (values(n, seed: 56, in: -1...1), values(2 * n, seed: 57))
            let tensors = [Tensor(shape: [rows, gates * hidden], scalars: x), Tensor(shape: [rows, gates * hidden], scalars: h),
                           Tensor(shape: [rows, hidden], scalars: state)]
            let (xBuffer, hBuffer, stateBuffer, gBuffer) = (try buffer(x), try buffer(h), try buffer(state), try buffer(g))
            let host: ([Tensor]) -> Tensor = name == "gru" ? { .gruCell(inputGates: $0[0], hiddenGates: $0[1], hidden: $0[2]) } : {
                let next = Tensor.lstmCell(inputGates: $0[0], hiddenGates: $0[1], cell: $0[2])
                return .concatenate([next.hidden, next.cell])
            }
            let outputs = name == "gru" ? n : 2 * n
            let y = try buffer(count: outputs)
            try device.launch("vae_\(name)_cell", grid: 2, block: 32, [.int64(n), .int64(hidden), xBuffer, hBuffer, stateBuffer, y])
            record("vae_\(name)_cell", try read(y, outputs), host(tensors).scalars, tolerance: 2e-6)
            let upstream = Tensor(shape: name == "gru" ? [rows, hidden] : [2 * rows, hidden], scalars: Array(g.prefix(outputs)))
            let expected = gradients(tensors, upstream: upstream, host)
            let (dx, dstate) = (try buffer(count: n * gates), try buffer(count: n))
            if name == "gru" {
                let dh = try buffer(count: n * gates)
                try device.launch("vae_gru_cell_gradient", grid: 2, block: 32, [.int64(n), .int64(hidden), gBuffer, xBuffer, hBuffer, stateBuffer, dx, dh, dstate])
                record("vae_gru_cell_gradient", try read(dx, n * gates) + read(dh, n * gates) + read(dstate, n),
                       expected.flatMap(\.scalars), tolerance: 1e-5)
            } else {
                try device.launch("vae_lstm_cell_gradient", grid: 2, block: 32, [.int64(n), .int64(hidden), gBuffer, xBuffer, hBuffer, stateBuffer, dx, dstate])
                let gates = try read(dx, n * gates)
                record("vae_lstm_cell_gradient", try gates + gates + read(dstate, n), expected.flatMap(\.scalars), tolerance: 1e-5)
            }
        }
    }
}
