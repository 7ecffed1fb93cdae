import Foundation

/// A fresh, empty directory for one test under the system's temporary directory (unique, so tests may run in
/// parallel); the caller removes it with ``removeDirectory(_:)``.
public func makeTemporaryDirectory(_ label: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("VAEKitTests-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// Removes `path` and everything under it; nothing happens when it is already gone.
public func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}
