import ArgumentParser
import Foundation
import VAECUDA
import VAEFormats
import VAETraining

/// `vae bench`: training-step and evaluation throughput of a model, against the sgemm peak measured in the same run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training steps and evaluation (−ELBO, IWAE) of a model on synthetic data; print images/s, ms per step, GFLOP/s against the sgemm peak, and peak memory.")

    @Option(help: "Built-in config name or YAML file (mlp, conv, conv64, …).")
    var model = "mlp"
    @Option(name: .customLong("batch-size"), help: "Training batch size (default: the config's).")
    var batchSize: Int?
    @Option(help: "Timed training steps (after --warm-up untimed ones).")
    var steps = 50
    @Option(name: .customLong("warm-up"), help: "Untimed training steps first.")
    var warmUp = 5
    @Option(name: .customLong("eval-images"), help: "Images in the timed −ELBO forward pass (0 skips it).")
    var evalImages = 1000
    @Option(name: .customLong("importance-samples"), help: "k of the timed IWAE estimate (0 skips it).")
    var importanceSamples = 5000
    @Option(name: .customLong("iwae-images"), help: "Images of the timed IWAE estimate.")
    var iwaeImages = 10
    @Option(name: .customLong("iwae-chunk"), help: "Decoder rows per pass of the timed IWAE estimate (`vae eval --chunk`).")
    var iwaeChunk = 2048
    @Option(help: "Threads: the BLAS's, and data-parallel shards of each batch (default: the config's).")
    var threads: Int?
    @Option(help: "Shards per training batch (default: one per thread for models whose loss splits over rows; 1: one tape, BLAS threaded).")
    var shards: Int?
    @Option(help: "Where the steps run: cpu, cuda (GPU 0), or dispatch (the CUDA backend over a device that does no work: what issuing a step costs the host, and the work it hands a GPU).")
    var device = "cpu"
    @Flag(help: "With --device cuda: products in TF32 on the tensor cores (`vae train --tf32`); FP32 without it.")
    var tf32 = false
    @Flag(help: "With --device cuda: time each kernel, GEMM and copy of the timed steps on the GPU's clock (CUDA events) and print where a step's device time goes, idle time included.")
    var profile = false
    @Flag(name: .customLong("skip-shapes"), help: "Do not time the model's own GEMM shapes one by one.")
    var skipShapes = false
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be 1 or more, got \(batchSize)") }
        if steps < 1 { throw ValidationError("--steps must be 1 or more, got \(steps)") }
        if warmUp < 0 { throw ValidationError("--warm-up must be 0 or more, got \(warmUp)") }
        if evalImages < 0 { throw ValidationError("--eval-images must be 0 or more, got \(evalImages)") }
        if importanceSamples < 0 { throw ValidationError("--importance-samples must be 0 or more, got \(importanceSamples)") }
        if iwaeImages < 0 { throw ValidationError("--iwae-images must be 0 or more, got \(iwaeImages)") }
        if !(1...(1 << 24)).contains(iwaeChunk) { throw ValidationError("--iwae-chunk must be from 1 to 16777216 decoder rows, got \(iwaeChunk)") }
        if let shards, shards < 1 { throw ValidationError("--shards must be 1 or more, got \(shards)") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be from 1 to 256, got \(threads)") }
        if !["cpu", "cuda", "dispatch"].contains(device) { throw ValidationError("--device must be cpu, cuda or dispatch, got '\(device)'") }
        if tf32 && device != "cuda" { throw ValidationError("--tf32 sets how a GPU multiplies: use it with --device cuda (got --device \(device))") }
        if profile && device != "cuda" { throw ValidationError("--profile times work on a GPU's clock: use it with --device cuda (got --device \(device))") }
    }

    func run() throws {
        try reportingErrors {
            let config = try ConfigLoader.load(model)
            var options = BenchmarkOptions()
            options.batchSize = batchSize ?? 0
            options.steps = steps
            options.warmUpSteps = warmUp
            options.evaluationImages = evalImages
            options.importanceSamples = importanceSamples
            options.importanceImages = iwaeImages
            options.importanceChunk = iwaeChunk
            options.threads = threads ?? 0
            options.shards = shards ?? 0
            options.timeModelShapes = !skipShapes
            let backend = device == "dispatch" ? CUDABackend(device: CachingDevice(DispatchOnlyDevice()))
                : try cudaBackend(device, flag: "--device cuda", group: SingleProcess(), profiling: profile, tf32: tf32)
            options.backend = backend
            options.timeDevicePeak = device == "cuda"
            let caching = backend?.ops.device as? CachingDevice
            var timed: (before: DeviceWork?, after: DeviceWork?)
            let profiler = caching?.base as? ProfilingDevice
            options.aroundTimedSteps = { starting in
                guard let caching else { return }
                if starting {
                    timed.before = DeviceWork(caching)
                    profiler?.reset()
                } else {
                    timed.after = DeviceWork(caching)
                }
                profiler?.isRecording = starting
            }
            let report = try Benchmark.run(config: config, options: options) { stage in
                if !json { FileHandle.standardError.write(Data("bench: \(stage)\n".utf8)) }
            }
            if json {
                print(try JSONOutput.encode(report, pretty: false))
            } else {
                report.lines.forEach { print($0) }
                if let backend, let caching, let before = timed.before, let after = timed.after {
                    print(workLines(backend, caching, steps: after - before, report: report).joined(separator: "\n"))
                }
                if let profiler {
                    try profiler.collect()
                    print(profiler.summary(steps: report.steps).joined(separator: "\n"))
                }
            }
        }
    }
}

/// A ``CachingDevice``'s counts of the work handed to it.
struct DeviceWork {
    var launches, gemms, gemmOperations, copiesToDevice, copiesToHost: Int
    var launchesByKernel: [String: Int]

    init(_ device: CachingDevice) {
        (launches, gemms, gemmOperations) = (device.launches, device.gemms, device.gemmOperations)
        (copiesToDevice, copiesToHost, launchesByKernel) = (device.copiesToDevice, device.copiesToHost, device.launchesByKernel)
    }

    /// The work between two readings.
    static func - (after: DeviceWork, before: DeviceWork) -> DeviceWork {
        var difference = after
        difference.launches -= before.launches
        difference.gemms -= before.gemms
        difference.gemmOperations -= before.gemmOperations
        difference.copiesToDevice -= before.copiesToDevice
        difference.copiesToHost -= before.copiesToHost
        difference.launchesByKernel = after.launchesByKernel.merging(before.launchesByKernel.mapValues { -$0 }, uniquingKeysWith: +)
            .filter { $0.value != 0 }
        return difference
    }
}

extension Bench {
    /// The work the timed training steps handed the device, per step (moving the model there and back and the
    /// first steps' optimizer state are not in it), the whole run's work when evaluations ran too, and any op that
    /// ran on host copies.
    func workLines(_ backend: CUDABackend, _ caching: CachingDevice, steps work: DeviceWork, report: BenchmarkReport) -> [String] {
        let steps = Double(report.steps)
        var lines = [String(format: "device %.1f kernel launches, %.1f GEMMs (%.3f GFLOP), %.1f copies to it and %.1f back per timed training step",
                            Double(work.launches) / steps, Double(work.gemms) / steps, Double(work.gemmOperations) / steps / 1e9,
                            Double(work.copiesToDevice) / steps, Double(work.copiesToHost) / steps)]
        let kernels = work.launchesByKernel.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        lines.append("       by kernel: " + kernels.map { String(format: "%@ %.1f", $0.key, Double($0.value) / steps) }.joined(separator: ", "))
        if evalImages > 0 || (importanceSamples > 0 && iwaeImages > 0) {
            lines.append("device the whole run, evaluations included: \(caching.workSummary)")
        }
        if !backend.hostFallbacks.isEmpty {
            lines.append("device ops on host copies: " + backend.hostFallbacks.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        return lines
    }
}
