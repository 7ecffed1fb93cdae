/// The values of a model's settings (`model_params` but `name` and `network`), by key. A value equal to its
/// declared default is not stored, so two bags that mean the same model compare equal however they were written.
///
///     var settings: ModelSettings = ["hidden_sizes": [512, 256], "beta": 4]
///     settings[GaussianLatent.latentSize] = 32
///     settings[BetaObjective.beta]          // 4.0
///     settings[ObservationModel.likelihood] // "bernoulli", the default
///
/// Nothing is checked here: ``ModelRegistry/make(_:random:)`` and the config loader check every value against the
/// settings of the model it is given to.
public struct ModelSettings: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    /// Values that differ from their declared defaults, and values of keys no part declares, by key.
    public private(set) var entries: [String: SettingEntry] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, SettingEntry)...) {
        for (key, value) in elements { self[key] = value }
    }

    public subscript<Value>(_ setting: Setting<Value>) -> Value {
        get { entries[setting.key].flatMap(Value.init) ?? setting.defaultValue }
        set { entries[setting.key] = newValue == setting.defaultValue ? nil : newValue.entry }
    }

    /// The stored value of `key`, converted to its declared type when a part declares it (`4` for `beta` is
    /// stored as `4.0`); nil when it is the default.
    public subscript(key: String) -> SettingEntry? {
        get { entries[key] }
        set {
            guard let newValue else { entries[key] = nil; return }
            guard let declaration = SettingCatalog.declaration(key),
                  let converted = declaration.kind.converting(newValue) else {
                entries[key] = newValue
                return
            }
            entries[key] = converted == declaration.defaultValue ? nil : converted
        }
    }

    /// The value `declaration` has here: the stored one, or its default.
    public func value(of declaration: SettingDeclaration) -> SettingEntry {
        entries[declaration.key] ?? declaration.defaultValue
    }

    /// Stored keys, sorted.
    public var keys: [String] { entries.keys.sorted() }
}
