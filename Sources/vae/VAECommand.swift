import ArgumentParser
import VAETensor
import Foundation
import VAETraining

/// The `vae` command: train, evaluate and sample variational autoencoders.
@main
struct VAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train, evaluate and sample variational autoencoders (VAEKit).",
        subcommands: [Train.self, Evaluate.self, Sample.self, Import.self, Plot.self, Configs.self, Bench.self,
                      Disentanglement.self, Serve.self, Corpus.self, Devices.self])

    /// Parses and runs; a usage error is one line on stderr (`error: --epochs must be …`) with a non-zero exit,
    /// `--help` prints the full help.
    static func main() {
        Runtime.configureAllocator()
        do {
            var command = try parseAsRoot()
            // Only training and evaluation split their work across MPI ranks; N copies of another command would each
            // do all of it (and write the same files).
            if MPILaunch.ranks > 1, !(command is Train || command is Evaluate) {
                throw TrainingError("only `vae train` and `vae eval` run across MPI ranks; start this command without mpirun")
            }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
            } else if !(error is ExitCode) {
                let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

/// Prints one error line to standard error and exits non-zero: how every user-facing failure ends.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    if let group = runningGroup, group.size > 1 { group.abort() }
    return ExitCode.failure
}

/// Runs `body`, turning thrown errors into one line on stderr and a non-zero exit.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let exit as ExitCode { throw exit } catch { throw fail(error) }
}

var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

/// Where the commands write: results (what a script captures, `vae eval --json > out.json`) on standard output;
/// progress, per-epoch lines and notes on standard error, as text or one JSON object per line
/// (`vae train --log-format json`), or not at all (`--quiet`).
enum Console {
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, json
    }

    nonisolated(unsafe) static var quiet = false
    nonisolated(unsafe) static var format = Format.text

    /// A progress or note line on standard error; as `{"event": "note", "message": …}` in JSON.
    static func note(_ line: String) {
        if format == .json { event("note", ["message": line]) } else { progress(line) }
    }

    /// One JSON object `{"event": name, …fields}` on standard error (JSON format only).
    static func event(_ name: String, _ fields: [String: Any]) {
        guard !quiet, format == .json,
              let data = try? JSONSerialization.data(withJSONObject: fields.merging(["event": name]) { first, _ in first },
                                                     options: [.sortedKeys]) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }

    /// A text line on standard error.
    static func progress(_ line: String) {
        guard !quiet, format == .text else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A progress bar on standard error when it is a terminal and text progress is wanted.
    static var progressBar: ProgressBar? { !quiet && format == .text && standardErrorIsTerminal ? ProgressBar() : nil }
}
