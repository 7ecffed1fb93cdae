/// An error raised while reading or writing a file format.
///
/// The message is a single line that names the file (or other source) and says what was expected, so it can be
/// shown to a user as is:
///
/// ```
/// t10k-images-idx3-ubyte.gz: gzip stream is truncated (ended after 1234 bytes of output)
/// ```
public struct FormatError: Error, CustomStringConvertible, Equatable {
    /// The one-line description, starting with the source it concerns.
    public let message: String

    /// Creates an error whose message is `"<source>: <problem>"`.
    public init(source: String, _ problem: String) {
        self.message = "\(source): \(problem)"
    }

    /// Creates an error from a complete one-line message.
    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
