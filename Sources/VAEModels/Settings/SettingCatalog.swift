/// Every setting any model or network declares, each key once: what the config loader can read, and the
/// types ``ModelSettings`` converts values to.
public enum SettingCatalog {
    /// In the order the models list them (network settings first).
    public static let all: [SettingDeclaration] = {
        var seen: Set<String> = []
        var result: [SettingDeclaration] = []
        let lists = NetworkFamily.all.map(\.settings) + ModelRegistry.recipes.map(\.ownSettings)
        for declaration in lists.joined() where seen.insert(declaration.key).inserted {
            result.append(declaration)
        }
        return result
    }()

    public static func declaration(_ key: String) -> SettingDeclaration? { all.first { $0.key == key } }
}
