import Foundation

/// Deterministic bytes for tests: a SplitMix64 stream, never the system generator.
struct TestBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// A fresh, empty directory for one test, removed by the caller with `removeTestDirectory`.
func makeTestDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "vaeformats-tests-\(getpid())-\(name)"
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeTestDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Runs `python3 -c <code>`; true when it exits with status 0. False when Python is missing.
@discardableResult
func runPython(_ code: String, arguments: [String] = []) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", code] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}
