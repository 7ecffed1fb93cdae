import Foundation
import TestSupport
import Testing

/// `vae devices` and `vae train --device`: what this machine offers, and clear refusals.
@Suite struct DevicesCommandTests {
    @Test func devicesReportsTheCPUAndEachCUDALibrary() throws {
        let text = try runVAE(["devices"])
        #expect(text.status == 0, "stderr: \(text.standardError)")
        #expect(text.outputLines.first?.hasPrefix("cpu   ") == true)
        #expect(text.outputLines.count >= 7)
        #expect(text.outputLines[1].hasPrefix("cuda  usable: ") || text.outputLines[1].hasPrefix("cuda  not usable: "))
        for title in ["NVIDIA driver (libcuda)", "CUDA runtime (libcudart)", "cuBLAS (libcublas)", "cuBLASLt (libcublasLt)", "NVRTC (libnvrtc)"] {
            #expect(text.outputLines.contains { $0.hasPrefix("  " + title) }, "no line for \(title)")
        }
        let json = try runVAE(["devices", "--json"])
        #expect(json.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let cuda = try #require(report["cuda"] as? [String: Any])
        let libraries = try #require(cuda["libraries"] as? [[String: Any]])
        #expect(libraries.map { $0["name"] as? String } == ["driver", "runtime", "cublas", "cublasLt", "nvrtc"])
        // Each library is either found (path and version) or not (the problem says where it looked).
        for library in libraries {
            #expect((library["path"] != nil && library["version"] != nil) || (library["problem"] as? String)?.contains("looked for") == true)
        }
        #expect((cuda["usable"] as? Bool) == (cuda["problem"] == nil))
    }

    @Test func trainingOnCUDAStopsBeforeWritingAnything() throws {
        let workspace = try makeTemporaryDirectory("device")
        defer { removeDirectory(workspace) }
        let result = try runVAE(["train", "--device", "cuda", "--epochs", "1", "--output", workspace + "/run"], in: workspace)
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.hasPrefix("error: --device cuda (trainer_params.device): "), "stderr: \(result.standardError)")
        // No GPU here (the test does not run on a GPU machine): the driver is named.
        #expect(result.standardError.contains("libcuda"))
        #expect(!FileManager.default.fileExists(atPath: workspace + "/run"))

        let bad = try runVAE(["train", "--device", "tpu"], in: workspace)
        #expect(bad.errorLines == ["error: --device must be cpu or cuda, got 'tpu'"])
        let noRows = try runVAE(["eval", workspace + "/run", "--chunk", "0"], in: workspace)
        #expect(noRows.errorLines == ["error: --chunk must be from 1 to 16777216 decoder rows, got 0"])
        try "trainer_params: {device: gpu}\n".write(toFile: workspace + "/gpu.yaml", atomically: true, encoding: .utf8)
        let config = try runVAE(["train", "--config", workspace + "/gpu.yaml"], in: workspace)
        #expect(config.status != 0)
        #expect(config.standardError.contains("trainer_params.device") && config.standardError.contains("cpu") && config.standardError.contains("cuda"),
                "stderr: \(config.standardError)")
    }
}

extension DevicesCommandTests {
    /// `--check` runs the kernels on a GPU; without one it stops with what is missing (CI and this machine have none).
    @Test func checkingKernelsNeedsAGPU() throws {
        let result = try runVAE(["devices", "--check"])
        if result.status == 0 {
            #expect(result.outputLines.last?.hasSuffix("checks passed") == true)
        } else {
            #expect(result.errorLines.count == 1, "stderr: \(result.standardError)")
            #expect(result.standardError.hasPrefix("error: ") && (result.standardError.contains("libcuda") || result.standardError.contains("GPU")))
        }
    }
}

extension DevicesCommandTests {
    /// `vae eval --device cuda` without a GPU names what is missing; a device that is neither is refused by name.
    /// `--tf32` on the CPU: a note for `train` (the config keeps it), a refusal for `eval` and with `--resume`.
    @Test func evaluatingOnCUDANeedsAGPU() throws {
        let workspace = try makeTemporaryDirectory("device-eval")
        defer { removeDirectory(workspace) }
        let trained = try runVAE(["train", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--output", workspace + "/run", "--tf32"], in: workspace)
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        #expect(trained.errorLines.contains("note: TF32 applies to --device cuda; the CPU's products stay FP32"), "stderr: \(trained.standardError)")
        let saved = try String(contentsOfFile: workspace + "/run/config.yaml", encoding: .utf8)
        #expect(saved.contains("tf32: true"), "\(saved)")
        let resumed = try runVAE(["train", "--resume", workspace + "/run", "--epochs", "2", "--tf32"], in: workspace)
        #expect(resumed.errorLines.first?.hasPrefix("error: --tf32 cannot be used with --resume") == true, "stderr: \(resumed.standardError)")
        let cpuTF32 = try runVAE(["eval", workspace + "/run", "--limit", "8", "-k", "4", "--tf32"], in: workspace)
        #expect(cpuTF32.errorLines == ["error: --tf32 sets how a GPU multiplies: use it with --device cuda (got --device cpu)"])
        let result = try runVAE(["eval", workspace + "/run", "--limit", "8", "-k", "4", "--device", "cuda"], in: workspace)
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1 && result.standardError.hasPrefix("error: --device cuda: ") && result.standardError.contains("libcuda"),
                "stderr: \(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/run/eval.json"))
        let bad = try runVAE(["eval", workspace + "/run", "--device", "tpu"], in: workspace)
        #expect(bad.errorLines == ["error: --device must be cpu or cuda, got 'tpu'"])
    }
}

extension DevicesCommandTests {
    /// `vae bench --device dispatch`: the CUDA backend over a device that does no work, so it runs anywhere and
    /// reports what a step hands a GPU; `--device cuda` without a GPU names what is missing.
    @Test func benchOnTheDispatchOnlyDevice() throws {
        let result = try runVAE(["bench", "--model", "mlp", "--device", "dispatch", "--steps", "3", "--warm-up", "1",
                                 "--eval-images", "0", "--importance-samples", "0"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        #expect(result.outputLines.first?.hasSuffix("on no GPU (dispatch only)") == true, "\(result.outputLines)")
        // mlp: 5 linear layers, 3 GEMMs each but the first's input gradient; no op on host copies.
        let work = try #require(result.outputLines.first { $0.hasPrefix("device ") })
        #expect(work.contains(" kernel launches, 14.0 GEMMs ("), "\(work)")
        #expect(!result.standardOutput.contains("host copies"))
        #expect(!result.standardOutput.contains("sgemm  1024³"))

        let cuda = try runVAE(["bench", "--device", "cuda", "--steps", "1"])
        #expect(cuda.status != 0 && cuda.standardError.hasPrefix("error: --device cuda: ") && cuda.standardError.contains("libcuda"),
                "stderr: \(cuda.standardError)")
        let bad = try runVAE(["bench", "--device", "tpu"])
        #expect(bad.errorLines == ["error: --device must be cpu, cuda or dispatch, got 'tpu'"])
        let tf32 = try runVAE(["bench", "--device", "dispatch", "--tf32"])
        #expect(tf32.errorLines == ["error: --tf32 sets how a GPU multiplies: use it with --device cuda (got --device dispatch)"])
    }
}
