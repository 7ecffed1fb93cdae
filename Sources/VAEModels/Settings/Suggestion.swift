/// "Did you mean …?" suggestions for misspelt keys, sections, choices, model and config names.
public enum Suggestion {
    /// The candidate nearest to `word` by edit distance, or `nil` when none is close enough to be a likely typo.
    ///
    /// Close enough means a distance of at most `max(2, word.count / 3)`; ties go to the earliest candidate, so the
    /// caller's order (the documented key order) decides.
    public static func nearest(to word: String, among candidates: [String]) -> String? {
        let limit = max(2, word.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = levenshteinDistance(word, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// `"; did you mean 'x'?"` for the nearest candidate, or an empty string.
    public static func didYouMean(_ word: String, among candidates: [String]) -> String {
        guard let match = nearest(to: word, among: candidates) else { return "" }
        return "; did you mean '\(match)'?"
    }

    /// The number of single-character insertions, deletions and substitutions that turn `source` into `target`.
    public static func levenshteinDistance(_ source: String, _ target: String) -> Int {
        let source = Array(source)
        let target = Array(target)
        if source.isEmpty { return target.count }
        if target.isEmpty { return source.count }
        // Two rows of the dynamic-programming table are enough.
        var previous = Array(0...target.count)
        var current = [Int](repeating: 0, count: target.count + 1)
        for (row, sourceCharacter) in source.enumerated() {
            current[0] = row + 1
            for (column, targetCharacter) in target.enumerated() {
                let substitution = previous[column] + (sourceCharacter == targetCharacter ? 0 : 1)
                current[column + 1] = min(substitution, previous[column + 1] + 1, current[column] + 1)
            }
            swap(&previous, &current)
        }
        return previous[target.count]
    }
}
