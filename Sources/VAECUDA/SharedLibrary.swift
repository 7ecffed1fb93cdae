import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened at run time with `dlopen`: VAEKit never links against CUDA, so a build without CUDA
/// runs anywhere, and `--device cuda` finds the libraries where CUDA or pip put them (``CUDALibrarySearch``).
/// A library stays open for the life of the process (CUDA's libraries must outlive their contexts).
public final class SharedLibrary: @unchecked Sendable {
    /// What was opened: a file path, or a bare file name found by the dynamic loader's own search.
    public let name: String
    let handle: UnsafeMutableRawPointer

    private init(name: String, handle: UnsafeMutableRawPointer) {
        self.name = name
        self.handle = handle
    }

    /// Opens `name` (a path, or a bare file name for the dynamic loader's search); on failure, the loader's reason.
    public static func open(_ name: String) -> Result<SharedLibrary, SharedLibraryError> {
        if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
            return .success(SharedLibrary(name: name, handle: handle))
        }
        let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
        return .failure(SharedLibraryError(name: name, reason: reason))
    }

    /// The C function `symbol` as the `@convention(c)` type `type`; an error naming the library and the symbol
    /// when it is absent (an older release of the library than VAEKit needs).
    public func function<Function>(_ symbol: String, as type: Function.Type) throws -> Function {
        guard let address = dlsym(handle, symbol) else {
            throw CUDAError("\(name) has no function \(symbol): it is older than VAEKit needs, or not the library its name says")
        }
        return unsafeBitCast(address, to: type)
    }

    /// The file the dynamic loader actually opened (resolves a bare file name): the mapping of
    /// `/proc/self/maps` that holds one of its symbols; `name` where that cannot be read.
    public func path(containing symbol: String) -> String {
        guard let address = dlsym(handle, symbol).map({ UInt(bitPattern: $0) }),
              let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return name }
        // procfs files report size 0: read to the end rather than by size.
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        try? handle.close()
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, let dash = fields[0].firstIndex(of: "-"),
                  let start = UInt(fields[0][..<dash], radix: 16),
                  let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16),
                  start <= address, address < end else { continue }
            return fields[5...].joined(separator: " ")
        }
        return name
    }
}

/// Why `dlopen` could not open a library.
public struct SharedLibraryError: Error, Sendable, CustomStringConvertible {
    public let name: String
    /// The dynamic loader's message (`dlerror`).
    public let reason: String
    public var description: String { reason }
}

/// An error of the CUDA backend: its message says what is missing or failed, and what to do.
public struct CUDAError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
