import Foundation
import VAEFormats
import VAETensor

/// The folder a run writes: config.yaml, metrics.csv, checkpoint files, pictures, environment.json.
public enum RunDirectory {
    /// Picks the directory for a new run: `explicit` when given (it must not already hold a checkpoint), else
    /// `output_dir/run_name`, or `run_name-2`, `-3`, … when that exists, so no earlier run is overwritten.
    public static func choose(for config: RunConfig, explicit: String?) throws -> String {
        let manager = FileManager.default
        if let explicit {
            if manager.fileExists(atPath: explicit + "/" + Checkpoint.stateFile) {
                throw TrainingError("--output \(explicit): already holds a trained run; choose another directory or use --resume")
            }
            return explicit
        }
        let base = config.trainer.outputDirectory + "/" + config.trainer.runName
        var candidate = base
        var suffix = 2
        while manager.fileExists(atPath: candidate) {
            candidate = "\(base)-\(suffix)"
            suffix += 1
        }
        return candidate
    }

    public static func create(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TrainingError("\(path): cannot create the run directory (\(error.localizedDescription))")
        }
    }

    /// What results depend on besides the config: recorded so a rerun can match it.
    public static func environment(command: [String], ranks: Int = 1) -> String {
        let info = ProcessInfo.processInfo
        let fields: [(String, String)] = [
            ("command", command.joined(separator: " ")),
            ("blas", BLAS.configuration),
            ("blas_threads", String(Parallel.threadCount)),
            ("ranks", String(ranks)),
            ("os", info.operatingSystemVersionString),
            ("processors", String(info.activeProcessorCount)),
            ("vaekit_format", "vaekit-checkpoint-1"),
        ]
        let body = fields.map { "  \"\($0.0)\": \"\(escape($0.1))\"" }.joined(separator: ",\n")
        return "{\n\(body)\n}\n"
    }

    /// The fields of a run's environment.json, or nil when it is missing or unreadable.
    public static func recordedEnvironment(in directory: String) -> [String: String]? {
        guard let bytes = try? AtomicFile.read(directory + "/environment.json", maximumBytes: 1 << 20),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String] else { return nil }
        return object
    }

    /// What differs between a recorded environment and this process in what results depend on (BLAS build and
    /// thread count), or nil when nothing does. Call it after the thread count is set.
    public static func environmentDifference(_ recorded: [String: String], ranks: Int = 1) -> String? {
        var differences: [String] = []
        if let blas = recorded["blas"], blas != BLAS.configuration {
            differences.append("the run started with BLAS '\(blas)', this process has '\(BLAS.configuration)'")
        }
        if let threads = recorded["blas_threads"], threads != String(Parallel.threadCount) {
            differences.append("the run started with \(threads) threads, this process has \(Parallel.threadCount)")
        }
        // Runs from before MPI training recorded no rank count: they ran as one process.
        if (recorded["ranks"] ?? "1") != String(ranks) {
            differences.append("the run started with \(recorded["ranks"] ?? "1") MPI rank(s), this one has \(ranks)")
        }
        return differences.isEmpty ? nil : differences.joined(separator: "; ")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: " ")
    }

    public static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path)
    }
}
