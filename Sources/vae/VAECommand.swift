import ArgumentParser
import VAETensor
import Foundation

/// The `vae` command: train, evaluate and sample variational autoencoders.
@main
struct VAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train, evaluate and sample variational autoencoders (VAEKit).",
        subcommands: [Train.self, Evaluate.self, Sample.self, Import.self, Plot.self, Configs.self, Bench.self])

    /// Parses and runs; a usage error is one line on stderr (`error: --epochs must be …`) with a non-zero exit,
    /// `--help` prints the full help.
    static func main() {
        Runtime.configureAllocator()
        do {
            var command = try parseAsRoot()
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
    return ExitCode.failure
}

/// Runs `body`, turning thrown errors into one line on stderr and a non-zero exit.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let exit as ExitCode { throw exit } catch { throw fail(error) }
}

var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
