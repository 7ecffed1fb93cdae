/// Why a picture or the report could not be drawn (too few images, a missing file), as one line.
public struct PictureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
