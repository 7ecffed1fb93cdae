import Foundation
import Testing

/// What one run of the `vae` binary did.
struct CommandResult {
    let arguments: [String]
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// Lines of standard error, without the empty piece after the final newline.
    var errorLines: [String] {
        standardError.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .reversed().drop(while: \.isEmpty).reversed()
    }

    var outputLines: [String] { standardOutput.split(separator: "\n").map(String.init) }
}

/// The built `vae` executable: SwiftPM puts it in the same build folder as the test bundle, so search from the
/// directory of the running test binary upwards.
let vaeExecutable: String? = {
    let manager = FileManager.default
    var starts: [URL] = []
    if let first = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
    if let executable = Bundle.main.executableURL { starts.append(executable.deletingLastPathComponent()) }
    starts.append(Bundle.main.bundleURL)
    for start in starts {
        var directory = start.standardizedFileURL
        while true {
            let candidate = directory.appendingPathComponent("vae").path
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               manager.isExecutableFile(atPath: candidate) {
                return candidate
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
    }
    return nil
}()

/// Runs `vae arguments…` in `workingDirectory` and collects its exit status and both output streams (through
/// files, so a chatty child can never block on a full pipe).
func runVAE(_ arguments: [String], in workingDirectory: String? = nil) throws -> CommandResult {
    let executable = try #require(vaeExecutable, "the vae executable was not found next to the test bundle")
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vae-cli-output-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outputURL = scratch.appendingPathComponent("stdout")
    let errorURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    let outputHandle = try FileHandle(forWritingTo: outputURL)
    let errorHandle = try FileHandle(forWritingTo: errorURL)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = outputHandle
    process.standardError = errorHandle
    try process.run()
    process.waitUntilExit()
    try outputHandle.close()
    try errorHandle.close()
    return CommandResult(
        arguments: arguments, status: process.terminationStatus,
        standardOutput: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
        standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
}

/// The eight bytes every PNG file starts with.
let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func isPNG(_ path: String) -> Bool {
    guard let bytes = try? fileBytes(path) else { return false }
    return bytes.count > 8 && Array(bytes.prefix(8)) == pngSignature
}
