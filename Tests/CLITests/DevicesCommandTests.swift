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
    @Test func evaluatingOnCUDANeedsAGPU() throws {
        let workspace = try makeTemporaryDirectory("device-eval")
        defer { removeDirectory(workspace) }
        let trained = try runVAE(["train", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--output", workspace + "/run", "--quiet"], in: workspace)
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        let result = try runVAE(["eval", workspace + "/run", "--limit", "8", "-k", "4", "--device", "cuda"], in: workspace)
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1 && result.standardError.hasPrefix("error: --device cuda: ") && result.standardError.contains("libcuda"),
                "stderr: \(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/run/eval.json"))
        let bad = try runVAE(["eval", workspace + "/run", "--device", "tpu"], in: workspace)
        #expect(bad.errorLines == ["error: --device must be cpu or cuda, got 'tpu'"])
    }
}
