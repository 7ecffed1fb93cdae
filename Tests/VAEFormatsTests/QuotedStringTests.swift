import Testing
import VAEFormats

/// JSON and YAML literals share the short escapes and differ in the other control characters and DEL.
@Suite struct QuotedStringTests {
    static let sample = "a\"b\\c\nd\re\tf\u{1}g\u{1F}h\u{7F}i é😀"

    @Test func jsonEscapesControlsAsFourHexDigitsAndKeepsDelete() {
        #expect(QuotedString.json(Self.sample) == "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\u{7F}i é😀\"")
    }

    @Test func yamlEscapesControlsAndDeleteAsTwoHexDigits() {
        #expect(QuotedString.yaml(Self.sample) == "\"a\\\"b\\\\c\\nd\\re\\tf\\x01g\\x1Fh\\x7Fi é😀\"")
    }
}
