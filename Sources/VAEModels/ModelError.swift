/// A model name that is not in the registry, or a specification a model cannot take.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
