import Foundation
import Testing
import TestSupport

/// `vae serve` as a process: it binds to loopback, prints its address, refuses bad requests over real HTTP and
/// keeps serving; in headless Chromium the page decodes, encodes, interpolates and samples without console errors.
@Suite(.serialized) struct ServeTests {
    static let checkScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Browser/explorer_check.py").path
    static let browserAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") && pythonHas("selenium")

    /// A served run: the process and its URL.
    final class Server {
        let process = Process()
        let url: String
        init(run: String) throws {
            let executable = try #require(vaeExecutable)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["serve", run, "--port", "0"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The first line names the address: "serving run at http://127.0.0.1:PORT/ (Ctrl-C stops)".
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let start = text.range(of: "http://"), let end = text[start.lowerBound...].firstIndex(of: " ") else {
                process.terminate()
                throw ServeTestError("vae serve printed no address: '\(text)'")
            }
            url = String(text[start.lowerBound..<end])
        }
        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    struct ServeTestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func check(_ url: String, _ extra: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", checkScript, url] + extra
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func servesOnLoopbackAndRefusesBadRequestsOverHTTP() throws {
        let workspace = try Workspace.withSyntheticData("serve-http")
        defer { workspace.remove() }
        #expect(try workspace.train().status == 0)
        let server = try Server(run: workspace.run)
        #expect(server.url.hasPrefix("http://127.0.0.1:"), "binds to loopback by default: \(server.url)")
        let result = try Self.check(server.url, [])
        #expect(result.status == 0, "\(result.output)")
        #expect(server.process.isRunning, "the server is still up after the bad requests")
        _ = server.stop()
    }

    @Test(.enabled(if: browserAvailable, "needs chromium, chromium-driver and pip's selenium (.ci/run installs them)"))
    func thePageWorksInAHeadlessBrowser() throws {
        let workspace = try Workspace.withSyntheticData("serve-browser")
        defer { workspace.remove() }
        #expect(try workspace.train().status == 0)
        let server = try Server(run: workspace.run)
        let result = try Self.check(server.url, ["--browser"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("decoded pixels changed") && result.output.contains("no console errors"), "\(result.output)")
        _ = server.stop()
    }

    @Test func badServeArgumentsAreRefused() throws {
        let missing = try runVAE(["serve", "/nonexistent/run"])
        #expect(missing.status != 0 && missing.standardError.contains("/nonexistent/run"), "\(missing.standardError)")
        let port = try runVAE(["serve", "somewhere", "--port", "70000"])
        #expect(port.status != 0 && port.standardError.contains("--port"), "\(port.standardError)")
    }
}
