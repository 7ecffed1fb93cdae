import Foundation

/// One model setting, declared once, in the file of the part that owns it: its `model_params` key, type, default,
/// allowed values and a one-line doc. The config loader, `vae configs`, the error messages and a run's
/// `config.yaml` are all derived from these declarations.
///
///     extension BetaObjective {
///         public static let beta = Setting<Double>("beta", default: 1, .numbers(atLeast: 0),
///                                                  doc: "weight β of the KL term (Higgins et al. 2017); 1 is the ELBO")
///     }
///     let β = specification[BetaObjective.beta]
public struct Setting<Value: SettingValue>: Sendable {
    public let key: String
    public let defaultValue: Value
    public let rule: SettingRule
    public let doc: String

    public init(_ key: String, default defaultValue: Value, _ rule: SettingRule = .any, doc: String) {
        self.key = key
        self.defaultValue = defaultValue
        self.rule = rule
        self.doc = doc
    }

    /// The declaration without its Swift type, as the loader and the catalogue of settings hold it.
    public var declaration: SettingDeclaration {
        SettingDeclaration(key: key, kind: Value.kind, defaultValue: defaultValue.entry, rule: rule, doc: doc)
    }
}

/// A ``Setting`` with its type as a value: what the config loader reads, checks and writes.
public struct SettingDeclaration: Sendable, Equatable {
    public let key: String
    public let kind: SettingKind
    public let defaultValue: SettingEntry
    public let rule: SettingRule
    public let doc: String

    /// The problem with `entry`, or nil when it has this setting's type and is allowed.
    public func problem(with entry: SettingEntry) -> SettingProblem? {
        guard let value = kind.converting(entry) else {
            return SettingProblem(message: "expected \(kind.expectation), got \(entry)")
        }
        return rule.problem(with: value)
    }
}

/// The five types a setting can have, as YAML writes them.
public enum SettingKind: Sendable, Equatable {
    case integer, number, boolean, text, integers

    var expectation: String {
        switch self {
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "a boolean (true or false)"
        case .text: "a string"
        case .integers: "a list of integers"
        }
    }

    /// `entry` as this kind: an integer is also a number, and a whole number an integer; nil for anything else.
    public func converting(_ entry: SettingEntry) -> SettingEntry? {
        switch (self, entry) {
        case (.integer, .integer), (.number, .number), (.boolean, .boolean), (.text, .text), (.integers, .integers):
            return entry
        case (.number, .integer(let value)):
            return .number(Double(value))
        case (.integer, .number(let value)):
            guard value == value.rounded(), value >= -0x1p63, value < 0x1p63 else { return nil }
            return .integer(Int(value))
        default:
            return nil
        }
    }
}

/// A setting's value without its Swift type. Written as a literal in code (`["beta": 4, "hidden_sizes": [400]]`).
public enum SettingEntry: Sendable, Equatable, CustomStringConvertible {
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case text(String)
    case integers([Int])

    /// As an error message quotes it: `4`, `0.5`, `true`, `'gelu'`, `[400, 0]`.
    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .number(let value): NumberRange.readable(value)
        case .boolean(let value): value ? "true" : "false"
        case .text(let value): "'\(value)'"
        case .integers(let values): "[" + values.map(String.init).joined(separator: ", ") + "]"
        }
    }
}

extension SettingEntry: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
                        ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(arrayLiteral elements: Int...) { self = .integers(elements) }
}

/// The Swift types a ``Setting`` can have.
public protocol SettingValue: Sendable, Equatable {
    static var kind: SettingKind { get }
    var entry: SettingEntry { get }
    /// The value of an entry already converted to ``kind``.
    init?(_ entry: SettingEntry)
}

extension Int: SettingValue {
    public static var kind: SettingKind { .integer }
    public var entry: SettingEntry { .integer(self) }
    public init?(_ entry: SettingEntry) {
        guard case .integer(let value) = entry else { return nil }
        self = value
    }
}

extension Double: SettingValue {
    public static var kind: SettingKind { .number }
    public var entry: SettingEntry { .number(self) }
    public init?(_ entry: SettingEntry) {
        guard case .number(let value) = entry else { return nil }
        self = value
    }
}

extension Bool: SettingValue {
    public static var kind: SettingKind { .boolean }
    public var entry: SettingEntry { .boolean(self) }
    public init?(_ entry: SettingEntry) {
        guard case .boolean(let value) = entry else { return nil }
        self = value
    }
}

extension String: SettingValue {
    public static var kind: SettingKind { .text }
    public var entry: SettingEntry { .text(self) }
    public init?(_ entry: SettingEntry) {
        guard case .text(let value) = entry else { return nil }
        self = value
    }
}

extension Array: SettingValue where Element == Int {
    public static var kind: SettingKind { .integers }
    public var entry: SettingEntry { .integers(self) }
    public init?(_ entry: SettingEntry) {
        guard case .integers(let values) = entry else { return nil }
        self = values
    }
}
