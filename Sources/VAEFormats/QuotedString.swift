/// Double-quoted string literals for the text formats the project writes. JSON (RFC 8259) and YAML 1.2 both write
/// `"`, `\`, newline, carriage return and tab as `\"`, `\\`, `\n`, `\r`, `\t`; they differ in the other control
/// characters, which YAML's larger escape set writes shorter.
public enum QuotedString {
    /// A JSON string literal: other characters below U+0020 as `\u00xx` (lowercase hex), everything else as it is.
    public static func json(_ text: String) -> String {
        quoted(text) { $0 < 0x20 ? "\\u" + hexadecimal($0, digits: 4, uppercase: false) : nil }
    }

    /// A YAML double-quoted scalar: other characters below U+0020 and DEL (U+007F) as `\xXX` (uppercase hex),
    /// everything else as it is.
    public static func yaml(_ text: String) -> String {
        quoted(text) { $0 < 0x20 || $0 == 0x7F ? "\\x" + hexadecimal($0, digits: 2, uppercase: true) : nil }
    }

    /// `text` between double quotes with the escapes both formats share; `escape` writes any other scalar value
    /// that needs one (nil: the scalar as it is).
    private static func quoted(_ text: String, escape: (UInt32) -> String?) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if let escaped = escape(scalar.value) {
                    result += escaped
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// `value` in hexadecimal, zero-padded on the left to `digits` digits.
    private static func hexadecimal(_ value: UInt32, digits: Int, uppercase: Bool) -> String {
        let hex = String(value, radix: 16, uppercase: uppercase)
        return String(repeating: "0", count: max(0, digits - hex.count)) + hex
    }
}
