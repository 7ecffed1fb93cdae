import Foundation

/// A problem with a run configuration, as one line a person can act on.
///
/// Messages name the source (a file path or built-in name), the dotted field and what was expected:
///
///     configs/x.yaml: unknown key 'model_params.laten_size' (line 3); did you mean 'latent_size'?
///     trainer_params.epochs: expected an integer from 1 to 100000, got -3
public struct ConfigError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The whole message, one line.
    public let message: String

    /// Creates an error with `message`, which must already be a single line.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    public var errorDescription: String? { message }
}
