#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes.
///
/// A write goes to a temporary file beside the target, is flushed to disk, and is renamed over the target, so a
/// reader sees either the old file or the new one, never a torn mix.
///
/// ```swift
/// try AtomicFile.write(checkpointBytes, to: "runs/mnist/model.safetensors")
/// let bytes = try AtomicFile.read("runs/mnist/model.safetensors")
/// ```
public enum AtomicFile {
    /// The largest file `read` accepts unless told otherwise: 4 GiB.
    public static let defaultMaximumBytes = 4 << 30

    /// Atomically replaces (or creates) the file at `path` with `bytes`.
    ///
    /// Writes `.<name>.tmp-<pid>` in the same directory, fsyncs it, renames it over `path`, then fsyncs the
    /// directory so the rename itself survives a crash.
    /// - Throws: `FormatError` naming `path` and the system's reason.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let (directory, name) = split(path)
        guard !name.isEmpty else { throw FormatError(source: path, "is not a file path") }
        let directoryPrefix = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        let temporaryPath = directoryPrefix + ".\(name).tmp-\(getpid())"

        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw systemError(path, "cannot create temporary file \(temporaryPath)",
                              missing: "directory does not exist")
        }
        var succeeded = false
        defer { if !succeeded { unlink(temporaryPath) } }
        do {
            defer { close(descriptor) }
            try bytes.withUnsafeBytes { buffer in
                var written = 0
                while written < buffer.count {
                    let result = writeSome(descriptor, buffer.baseAddress! + written, buffer.count - written)
                    if result < 0 {
                        if errno == EINTR { continue }
                        throw systemError(path, "cannot write temporary file \(temporaryPath)")
                    }
                    written += result
                }
            }
            guard fsync(descriptor) == 0 else { throw systemError(path, "cannot fsync temporary file") }
        }
        guard rename(temporaryPath, path) == 0 else { throw systemError(path, "cannot rename temporary file over") }
        succeeded = true

        // Best effort: some file systems refuse fsync on directories; the data itself is already safe.
        syncDirectory(directory)
    }

    /// Atomically makes `path` another name for the existing file `existing` (a hard link), replacing whatever
    /// `path` was; where the file system has no hard links, `path` becomes an atomically written copy.
    ///
    /// Links `.<name>.tmp-<pid>` to `existing`, renames it over `path` and fsyncs the directory, so a crash
    /// leaves `path` naming either the old file or the new one.
    public static func link(_ existing: String, to path: String) throws {
        let (directory, name) = split(path)
        guard !name.isEmpty else { throw FormatError(source: path, "is not a file path") }
        let directoryPrefix = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        let temporaryPath = directoryPrefix + ".\(name).tmp-\(getpid())"
        unlink(temporaryPath)
        guard linkFile(existing, temporaryPath) == 0 else {
            let code = errno
            if code == ENOENT { throw FormatError(source: existing, "no such file") }
            // EXDEV, EPERM, ENOTSUP, EMLINK: no hard link possible here; a copy is as good for readers.
            return try write(try read(existing), to: path)
        }
        guard rename(temporaryPath, path) == 0 else {
            let error = systemError(path, "cannot rename temporary link over")
            unlink(temporaryPath)
            throw error
        }
        syncDirectory(directory)
    }

    /// Flushes a directory's entries (new, renamed or removed files) to disk; best effort, as some file systems
    /// refuse fsync on directories.
    public static func syncDirectory(_ directory: String) {
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Reads the whole file at `path`.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - maximumBytes: refuse files larger than this.
    /// - Throws: `FormatError` such as `"<path>: no such file"`, `"<path>: permission denied"`,
    ///   `"<path>: is a directory"`, or one naming the size limit.
    public static func read(_ path: String, maximumBytes: Int = defaultMaximumBytes) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError(path, "cannot open") }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw systemError(path, "cannot stat") }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw FormatError(source: path, "is a directory") }
        let size = Int(status.st_size)
        guard size <= maximumBytes else {
            throw FormatError(source: path, "file of \(size) bytes exceeds the limit of \(maximumBytes) bytes")
        }

        var readError: FormatError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            // Reads until the buffer is full or the file ends (it may have shrunk since fstat).
            while initialized < size {
                let result = readSome(descriptor, buffer.baseAddress! + initialized, size - initialized)
                if result < 0 {
                    if errno == EINTR { continue }
                    readError = systemError(path, "cannot read")
                    return
                }
                if result == 0 { return }
                initialized += result
            }
        }
        if let readError { throw readError }
        return bytes
    }

    /// Splits `path` into its directory ("." when there is none) and its last component.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// A `FormatError` for the current `errno`, worded plainly for the common cases.
    static func systemError(_ path: String, _ action: String, missing: String = "no such file") -> FormatError {
        let code = errno
        switch code {
        case ENOENT: return FormatError(source: path, missing)
        case EACCES: return FormatError(source: path, "permission denied")
        case EISDIR: return FormatError(source: path, "is a directory")
        default: return FormatError(source: path, "\(action) (\(String(cString: strerror(code))))")
        }
    }
}

// File-scope wrappers: inside `AtomicFile`, the names `read` and `write` refer to its own methods.
private func writeSome(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func linkFile(_ existing: String, _ newPath: String) -> Int32 {
    link(existing, newPath)
}

private func readSome(_ descriptor: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, bytes, count)
}
