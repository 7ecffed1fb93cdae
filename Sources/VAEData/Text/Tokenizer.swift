/// How text becomes tokens, one rule for every corpus: lower-case; a word is a run of letters and digits, with
/// an apostrophe or a hyphen kept when it joins two such runs ("don't", "self-contained", "3-d"); every other
/// visible character (punctuation, symbols) is a token of its own; white space separates and is dropped.
///
/// `"The cat's self-contained (really)!"` → `the cat's self-contained ( really ) !`. Penn Treebank files, already
/// tokenised and lower-cased, come through unchanged except that `<unk>` splits into `<`, `unk`, `>`: the
/// vocabulary maps the word `<unk>` itself before tokenising (``Tokenizer/tokens(_:)`` keeps it whole).
public enum Tokenizer {
    /// Tokens that pass through whole: the unknown-word marker the Penn Treebank files use.
    public static let kept: Set<String> = ["<unk>"]

    public static func tokens(_ line: String) -> [String] {
        var bytes = Array(line.utf8)
        return bytes.allSatisfy({ $0 < 0x80 }) ? asciiTokens(&bytes) : unicodeTokens(line)
    }

    /// The rule on ASCII text, byte by byte (the same tokens as ``unicodeTokens(_:)``, several times faster).
    static func asciiTokens(_ bytes: inout [UInt8]) -> [String] {
        func isWordByte(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0d) }
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5a { bytes[index] += 0x20 }
        var tokens: [String] = []
        var index = 0
        while index < bytes.count {
            if isSpace(bytes[index]) {
                index += 1
                continue
            }
            var end = index
            while end < bytes.count && !isSpace(bytes[end]) { end += 1 }
            let piece = bytes[index..<end]
            if piece.elementsEqual("<unk>".utf8) {
                tokens.append("<unk>")
            } else {
                var start = index, position = index
                while position < end {
                    let byte = bytes[position]
                    if isWordByte(byte) {
                        position += 1
                    } else if (byte == 0x27 || byte == 0x2d), position > start, position + 1 < end, isWordByte(bytes[position + 1]) {
                        position += 1
                    } else {
                        if position > start { tokens.append(String(decoding: bytes[start..<position], as: UTF8.self)) }
                        tokens.append(String(decoding: bytes[position..<(position + 1)], as: UTF8.self))
                        position += 1
                        start = position
                    }
                }
                if position > start { tokens.append(String(decoding: bytes[start..<position], as: UTF8.self)) }
            }
            index = end
        }
        return tokens
    }

    /// The rule on any text, character by character.
    static func unicodeTokens(_ line: String) -> [String] {
        var tokens: [String] = []
        for piece in line.lowercased().split(whereSeparator: \.isWhitespace) {
            if kept.contains(String(piece)) {
                tokens.append(String(piece))
                continue
            }
            let characters = Array(piece)
            var word = ""
            for (index, character) in characters.enumerated() {
                if character.isLetter || character.isNumber {
                    word.append(character)
                } else if (character == "'" || character == "-"), !word.isEmpty, index + 1 < characters.count,
                          characters[index + 1].isLetter || characters[index + 1].isNumber {
                    word.append(character)
                } else {
                    if !word.isEmpty { tokens.append(word) }
                    word = ""
                    tokens.append(String(character))
                }
            }
            if !word.isEmpty { tokens.append(word) }
        }
        return tokens
    }
}
