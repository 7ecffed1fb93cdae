import ArgumentParser
import Foundation
import VAEServe
import VAETensor

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explore trained runs' latent spaces in the browser: sliders, encode, interpolate, sample (and a JSON API).")

    @Argument(help: "Run directories written by `vae train`.")
    var runDirectories: [String]
    @Option(help: "Address to listen on; 127.0.0.1 (this machine only) unless you mean to share it.")
    var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "Port (0: any free port, printed when serving).")
    var port = 8080
    @Option(parsing: .unconditional, help: "BLAS threads for the models (requests are served one model call at a time).")
    var threads = 1

    func validate() throws {
        if runDirectories.isEmpty { throw ValidationError("give one or more run directories to serve") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be from 1 to 256, got \(threads)") }
        if host.isEmpty { throw ValidationError("--host must name an address, e.g. 127.0.0.1") }
    }

    func run() throws {
        try reportingErrors {
            BLAS.setThreadCount(threads)
            let explorer = try Explorer(directories: runDirectories)
            if host == "0.0.0.0" || host == "::" {
                Console.note("warning: --host \(host) serves every network this machine is on; the explorer has no login")
            }
            let host = self.host, names = explorer.runNames
            try ExplorerServer.runBlocking(explorer, host: host, port: port) { port in
                let shown = host.contains(":") ? "[\(host)]" : host
                print("serving \(names.joined(separator: ", ")) at http://\(shown):\(port)/ (Ctrl-C stops)")
                fflush(stdout)
            }
        }
    }
}
