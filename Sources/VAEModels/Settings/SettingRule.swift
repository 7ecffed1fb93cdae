import Foundation

/// What values a setting (or a config key) allows, and the message for one it does not.
public enum SettingRule: Sendable, Equatable {
    /// Any value of the setting's type.
    case any
    /// A non-empty string.
    case nonEmpty
    /// One of these strings.
    case oneOf([String])
    /// A single directory name: `[A-Za-z0-9._-]+`, and not `.` or `..`.
    case fileName
    /// An integer in this range.
    case integers(ClosedRange<Int>)
    /// A finite number in this interval.
    case numbers(NumberRange)
    /// A list of at least one integer, each in this range.
    case nonEmptyList(ClosedRange<Int>)

    /// A number at least `lower`.
    public static func numbers(atLeast lower: Double) -> SettingRule { .numbers(NumberRange(atLeast: lower)) }

    /// The problem with `entry` (already of the setting's type), or nil when it is allowed.
    public func problem(with entry: SettingEntry) -> SettingProblem? {
        switch (self, entry) {
        case (.nonEmpty, .text(let value)):
            return value.isEmpty ? SettingProblem(message: "expected a non-empty string, got ''") : nil
        case (.oneOf(let choices), .text(let value)):
            guard !choices.contains(value) else { return nil }
            // An empty choice (network: the model's own) reads better named than listed as a blank.
            let named = choices.filter { !$0.isEmpty }.joined(separator: ", ")
            let listed = choices.contains("") ? named + " or '' (the default)" : named
            let message = "expected one of \(listed), got '\(Self.oneLine(value))'"
            return SettingProblem(message: message + Suggestion.didYouMean(value, among: choices))
        case (.fileName, .text(let value)):
            let allowed = value.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
            }
            if allowed, !value.isEmpty, value != ".", value != ".." { return nil }
            return SettingProblem(message: "expected a name of letters, digits, '.', '_' and '-' (not '.' or '..'), "
                + "got '\(Self.oneLine(value))'")
        case (.integers(let range), .integer(let value)):
            return Self.problem(value, range)
        case (.numbers(let range), .number(let value)):
            guard !range.contains(value) else { return nil }
            return SettingProblem(message: "expected \(range.expectation), got \(NumberRange.readable(value))")
        case (.nonEmptyList(let range), .integers(let values)):
            if values.isEmpty { return SettingProblem(message: "expected a list of at least one integer, got []") }
            for (index, value) in values.enumerated() {
                if var problem = Self.problem(value, range) {
                    problem.elementIndex = index
                    return problem
                }
            }
            return nil
        default:
            return nil
        }
    }

    private static func problem(_ value: Int, _ range: ClosedRange<Int>) -> SettingProblem? {
        guard !range.contains(value) else { return nil }
        let expectation = range.upperBound == Int.max
            ? "an integer >= \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        return SettingProblem(message: "expected \(expectation), got \(value)")
    }

    /// Shortened to one line, so a block scalar cannot break the one-line error rule.
    public static func oneLine(_ text: String, limit: Int = 60) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}

/// What is wrong with one value: `"expected …, got …"`, and its position when it is an element of a list.
public struct SettingProblem: Error, Sendable, Equatable {
    public var message: String
    public var elementIndex: Int?

    public init(message: String, elementIndex: Int? = nil) {
        self.message = message
        self.elementIndex = elementIndex
    }

    /// `"[1]"` for `hidden_sizes[1]`, else empty.
    public var elementSuffix: String { elementIndex.map { "[\($0)]" } ?? "" }
}

/// An interval of finite numbers; either end may be open, the upper one may be absent.
public struct NumberRange: Sendable, Equatable {
    var lower: Double
    var includesLower: Bool
    var upper: Double?
    var includesUpper: Bool

    public init(atLeast lower: Double) {
        self.init(lower: lower, includesLower: true, upper: nil, includesUpper: false)
    }

    public init(atLeast lower: Double, below upper: Double) {
        self.init(lower: lower, includesLower: true, upper: upper, includesUpper: false)
    }

    public init(atLeast lower: Double, atMost upper: Double) {
        self.init(lower: lower, includesLower: true, upper: upper, includesUpper: true)
    }

    public init(above lower: Double, atMost upper: Double) {
        self.init(lower: lower, includesLower: false, upper: upper, includesUpper: true)
    }

    private init(lower: Double, includesLower: Bool, upper: Double?, includesUpper: Bool) {
        self.lower = lower
        self.includesLower = includesLower
        self.upper = upper
        self.includesUpper = includesUpper
    }

    public func contains(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        guard includesLower ? value >= lower : value > lower else { return false }
        guard let upper else { return true }
        return includesUpper ? value <= upper : value < upper
    }

    /// `"a number in (0, 10]"`, `"a finite number >= 0"`.
    public var expectation: String {
        let lowerText = Self.readable(lower)
        guard let upper else { return "a finite number \(includesLower ? ">=" : ">") \(lowerText)" }
        return "a number in \(includesLower ? "[" : "(")\(lowerText), \(Self.readable(upper))\(includesUpper ? "]" : ")")"
    }

    /// A number for a message: `10`, not `10.0`; `nan`; `1e-05`.
    public static func readable(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }
}
