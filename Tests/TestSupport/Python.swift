import Foundation

/// What one `python3 -c` run did.
public typealias PythonResult = (status: Int32, standardOutput: String, standardError: String)

/// Runs `python3 -c script arguments…` and collects its exit status and both output streams.
public func runPython(_ script: String, _ arguments: [String] = []) throws -> PythonResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read before waiting: a chatty interpreter (warnings) must not block on a full pipe.
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// True when `python3 -c "import <modules>"` succeeds; false also when there is no Python.
public func pythonHas(_ modules: String) -> Bool {
    (try? runPython("import \(modules)"))?.status == 0
}
