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
