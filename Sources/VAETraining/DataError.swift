/// A problem with the data a run is given (a missing directory, images of two shapes, values outside what the
/// decoder models), as one line that names the data and what was expected.
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
