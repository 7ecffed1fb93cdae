/// A fresh directory for one test to work in (the CLI tests' working directory of a command); test targets add
/// the paths and steps they need in extensions.
public struct Workspace {
    public let path: String

    public init(_ label: String) throws { path = try makeTemporaryDirectory(label) }

    public func remove() { removeDirectory(path) }
}
