/// A camelCase name (or dotted path of them) in snake_case, as PyTorch names parameters and buffers:
/// `logVariance` → `log_variance`, `encoder.numBatchesTracked` → `encoder.num_batches_tracked`. Names already in
/// snake_case are unchanged, so checkpoints written with camelCase names map onto today's by this function.
public func snakeCased(_ name: String) -> String {
    var result = ""
    var previous: Character?
    for character in name {
        if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
            result.append("_")
        }
        result.append(contentsOf: character.lowercased())
        previous = character
    }
    return result
}
