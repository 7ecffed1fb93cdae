import Testing

/// Every test of this target sits under this suite, serialised: `GradientTape.current` is one process-wide
/// variable, so two tests recording tapes at once would see each other's records.
@Suite(.serialized) struct VAENNTests {}
