import Foundation

/// JSON that VAEKit writes for people and scripts (`eval.json`, `vae eval --json`, `vae bench --json`): keys in
/// snake_case like metrics.csv's columns (`negative_elbo`, `active_units`), sorted, so Python reads them without
/// a mapping.
public enum JSONOutput {
    public static func encode<Value: Encodable>(_ value: Value, pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.keyEncodingStrategy = .custom { path in SnakeKey(snakeCased(path.last!.stringValue)) }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Reads what ``encode(_:pretty:)`` wrote, into a type whose coding keys are snake_case, or a file written with
    /// camelCase keys before the switch (every key is put into snake_case first).
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let normalized = try JSONSerialization.data(withJSONObject: snakeCasingKeys(try JSONSerialization.jsonObject(with: data)))
        return try JSONDecoder().decode(type, from: normalized)
    }

    private static func snakeCasingKeys(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            return Dictionary(object.map { (snakeCased($0.key), snakeCasingKeys($0.value)) }, uniquingKeysWith: { first, _ in first })
        case let array as [Any]:
            return array.map(snakeCasingKeys)
        default:
            return value
        }
    }

    private struct SnakeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
