import Foundation
import VAEModels
import Yams

/// Finds and reads run configs: built-ins shipped in the `Configs` resource folder, or YAML files.
///
/// A file's keys overlay ``RunConfig/defaults``; only `model_params.name` is required. Every key is checked as it is
/// read, and the first problem is thrown as a one-line ``ConfigError`` naming the file, the dotted key and its line:
///
///     let config = try ConfigLoader.load("configs/wide.yaml")
///     // configs/wide.yaml: unknown key 'model_params.laten_size' (line 3); did you mean 'latent_size'?
public enum ConfigLoader {
    /// Names of the built-in configs, sorted (`["mlp"]`).
    public static var builtInNames: [String] {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent(builtInFolder),
              let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return [] }
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(".yaml".count)) }.sorted()
    }

    /// Loads a built-in config by name (`"mlp"`) or a YAML file by path.
    ///
    /// `nameOrPath` is read as a path when it contains `/` or ends in `.yaml`/`.yml`; otherwise a built-in of that
    /// name wins over a file of that name in the working directory.
    public static func load(_ nameOrPath: String, keysOfOtherModels: KeysOfOtherModels = .reject) throws -> RunConfig {
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml")
        if !looksLikePath, let url = builtInURL(named: nameOrPath) {
            return try parse(readText(at: url.path, source: nameOrPath), source: "built-in config '\(nameOrPath)'")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw ConfigError("\(nameOrPath): is a directory, not a YAML file")
            }
            return try parse(readText(at: nameOrPath, source: nameOrPath), source: nameOrPath,
                             keysOfOtherModels: keysOfOtherModels)
        }
        if looksLikePath {
            throw ConfigError("\(nameOrPath): no such file")
        }
        let names = builtInNames
        throw ConfigError(
            "unknown config '\(nameOrPath)': not a built-in (\(names.joined(separator: ", "))) and no such file"
                + Suggestion.didYouMean(nameOrPath, among: names))
    }

    /// What to do with a `model_params` key that is a setting of other models, not of the one the file names
    /// (`codebook_size` in an `mlp` config).
    public enum KeysOfOtherModels: Sendable {
        /// An error that names the model and lists its settings: for configs people write.
        case reject
        /// Skip it: for a run directory's `config.yaml` written before runs listed only their model's settings.
        case ignore
    }

    /// Parses YAML `text` over ``RunConfig/defaults``; `source` names the text in error messages.
    public static func parse(_ text: String, source: String,
                             keysOfOtherModels: KeysOfOtherModels = .reject) throws -> RunConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw yamlSyntaxError(error, source: source)
        }

        var config = RunConfig.defaults
        var seenSections: [String: Int] = [:]
        for (sectionKey, sectionValue) in try entries(of: root, path: nil, source: source) {
            let section = try keyName(sectionKey, source: source)
            guard ConfigField.sections.contains(section) else {
                throw unknownSection(section, at: sectionKey, source: source)
            }
            try rejectDuplicate(section, at: sectionKey, seen: &seenSections, source: source)

            var seenKeys: [String: Int] = [:]
            var pairs: [(key: String, keyNode: Node, value: Node)] = []
            for (fieldKey, valueNode) in try entries(of: sectionValue, path: section, source: source) {
                let key = try keyName(fieldKey, source: source)
                try rejectDuplicate("\(section).\(key)", at: fieldKey, seen: &seenKeys, source: source)
                pairs.append((key, fieldKey, valueNode))
            }
            if section == "model_params" {
                try readModel(pairs, into: &config, source: source, keysOfOtherModels: keysOfOtherModels)
                continue
            }
            for (key, keyNode, valueNode) in pairs {
                guard let field = ConfigField.all.first(where: { $0.section == section && $0.key == key }) else {
                    throw unknownKey(key, in: section, candidates: ConfigField.keys(in: section), at: keyNode, source: source)
                }
                try read(field, from: valueNode, into: &config, source: source)
            }
        }
        guard seenSections["model_params"] != nil else { throw missingName(source) }
        // Each key was checked as it was read; this catches rules that span several keys, should any be added.
        do {
            try config.validate()
        } catch let error as ConfigError {
            throw ConfigError("\(source): \(error.message)")
        }
        return config
    }

    /// `name` and `network` first, since the other keys are the settings of the model they pick.
    private static func readModel(_ pairs: [(key: String, keyNode: Node, value: Node)], into config: inout RunConfig,
                                  source: String, keysOfOtherModels: KeysOfOtherModels) throws {
        guard let name = pairs.first(where: { $0.key == "name" }) else { throw missingName(source) }
        try read(ConfigField.name, from: name.value, into: &config, source: source)
        let network = pairs.first { $0.key == "network" }
        if let network { try read(ConfigField.network, from: network.value, into: &config, source: source) }
        let recipe: ModelRecipe
        let declarations: [SettingDeclaration]
        do {
            recipe = try ModelRegistry.existingRecipe(config.model.name)
        } catch let error as ModelError {
            throw ConfigError("\(source): \(error.description)\(lineSuffix(name.value.mark))")
        }
        do {
            declarations = try recipe.settings(network: config.model.network)
        } catch let error as ModelError {
            throw ConfigError("\(source): \(error.description)\(lineSuffix(network?.value.mark))")
        }
        for (key, keyNode, valueNode) in pairs where key != "name" && key != "network" {
            if let declaration = declarations.first(where: { $0.key == key }) {
                try read(ConfigField.setting(declaration), from: valueNode, into: &config, source: source)
            } else if SettingCatalog.declaration(key) != nil {
                guard keysOfOtherModels == .ignore else {
                    let problem = ModelRegistry.unusedKeyProblem(key, model: recipe, network: config.model.network, declarations)
                    throw ConfigError("\(source): model_params.\(key)\(lineSuffix(keyNode.mark)): \(problem)")
                }
            } else {
                let candidates = ["name", "network"] + declarations.map(\.key)
                throw unknownKey(key, in: "model_params", candidates: candidates, at: keyNode, source: source)
            }
        }
    }

    private static func missingName(_ source: String) -> ConfigError {
        ConfigError("\(source): missing required key 'model_params.name' (the model to build, e.g. 'mlp')")
    }

    // MARK: - Built-ins

    private static let builtInFolder = "Configs"

    private static func builtInURL(named name: String) -> URL? {
        Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: builtInFolder)
    }

    private static func readText(at path: String, source: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("\(source): cannot read as UTF-8 text (\(YAMLText.oneLine(error.localizedDescription)))")
        }
    }

    // MARK: - Walking the document

    /// The key–value pairs of a mapping node; a missing document or an empty section (`model_params:`) has none.
    private static func entries(of node: Node?, path: String?, source: String) throws -> [(Node, Node)] {
        guard let node, node.tagName != .null else { return [] }
        if let mapping = node.mapping {
            return mapping.map { ($0.key, $0.value) }
        }
        let expectation = path.map { "\($0): expected a mapping of keys" }
            ?? "expected a mapping of sections (\(ConfigField.sections.joined(separator: ", "))) at the top level"
        throw ConfigError("\(source): \(expectation), got \(YAMLText.describe(node))\(lineSuffix(node.mark))")
    }

    private static func keyName(_ node: Node, source: String) throws -> String {
        guard let scalar = node.scalar else {
            throw ConfigError("\(source): expected a key name, got \(YAMLText.describe(node))\(lineSuffix(node.mark))")
        }
        return scalar.string
    }

    private static func read(_ field: ConfigField, from node: Node, into config: inout RunConfig, source: String) throws {
        var problem: FieldProblem?
        do {
            try field.read(node, &config)
            problem = field.check(config)
        } catch let readProblem as FieldProblem {
            problem = readProblem
        }
        guard let problem else { return }
        var line = problem.line ?? node.mark?.line
        if problem.line == nil, let index = problem.elementIndex, let elements = node.sequence,
           index < elements.count {
            line = elements[index].mark?.line ?? line
        }
        throw ConfigError("\(source): \(field.path)\(problem.elementSuffix): \(problem.message)\(lineSuffix(line))")
    }

    private static func rejectDuplicate(
        _ path: String, at node: Node, seen: inout [String: Int], source: String
    ) throws {
        let line = node.mark?.line ?? 0
        if let firstLine = seen[path] {
            throw ConfigError("\(source): duplicate key '\(path)'\(lineSuffix(node.mark)); first given on line \(firstLine)")
        }
        seen[path] = line
    }

    // MARK: - Messages

    private static func unknownSection(_ name: String, at node: Node, source: String) -> ConfigError {
        var message = "\(source): unknown section '\(name)'\(lineSuffix(node.mark))"
        if let suggestion = Suggestion.nearest(to: name, among: ConfigField.sections) {
            message += "; did you mean '\(suggestion)'?"
        } else if let home = ConfigField.home(of: name) {
            message += "; '\(name)' belongs under '\(home)'"
        } else {
            message += "; expected one of \(ConfigField.sections.joined(separator: ", "))"
        }
        return ConfigError(message)
    }

    /// `candidates`: the keys the section may hold here (for `model_params`, those of the model it names).
    private static func unknownKey(_ key: String, in section: String, candidates: [String], at node: Node,
                                   source: String) -> ConfigError {
        var message = "\(source): unknown key '\(section).\(key)'\(lineSuffix(node.mark))"
        if let suggestion = Suggestion.nearest(to: key, among: candidates) {
            message += "; did you mean '\(suggestion)'?"
        } else if let home = ConfigField.home(of: key) {
            message += "; '\(key)' belongs in '\(home)'"
        } else {
            message += "; expected one of \(candidates.joined(separator: ", "))"
        }
        return ConfigError(message)
    }

    private static func lineSuffix(_ mark: Mark?) -> String {
        lineSuffix(mark?.line)
    }

    private static func lineSuffix(_ line: Int?) -> String {
        line.map { " (line \($0))" } ?? ""
    }

    /// Yams' errors span several lines (message, then the offending line and a caret); keep the facts, on one line.
    private static func yamlSyntaxError(_ error: Error, source: String) -> ConfigError {
        if let yamlError = error as? YamlError {
            switch yamlError {
            case let .scanner(context, problem, mark, _),
                 let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                var message = "\(source): invalid YAML at line \(mark.line), column \(mark.column): \(problem)"
                if let context {
                    message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
                }
                return ConfigError(message)
            default:
                break
            }
        }
        let description = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        return ConfigError("\(source): invalid YAML: \(YAMLText.oneLine(description, limit: 200))")
    }
}
