import Foundation
import VAEFormats
import VAEModels
import Yams

/// What is wrong with one field, before the source file and line are known.
struct FieldProblem: Error {
    /// `"expected …, got …"`.
    var message: String
    /// Position in a list field, for `hidden_sizes[1]`.
    var elementIndex: Int?
    /// Line of the offending YAML node, when the problem was found while reading one.
    var line: Int?

    init(message: String, elementIndex: Int? = nil, line: Int? = nil) {
        self.message = message
        self.elementIndex = elementIndex
        self.line = line
    }

    init(_ problem: SettingProblem) {
        self.init(message: problem.message, elementIndex: problem.elementIndex)
    }

    var elementSuffix: String { elementIndex.map { "[\($0)]" } ?? "" }
}

/// One key of a config file: its place, how to read it from a YAML node, its range check and how to write it back.
///
/// ``all`` lists the keys of the data, experiment and trainer sections and the model's `name` and `network`; every
/// other `model_params` key is a model setting, read through the declaration of the part that owns it
/// (``setting(_:)``, ``SettingCatalog``). Parsing, validation and ``RunConfig/yaml()`` all go through these.
struct ConfigField: Sendable {
    let section: String
    let key: String
    /// Reads `node` into the config, or throws a ``FieldProblem`` about its type.
    let read: @Sendable (Node, inout RunConfig) throws -> Void
    /// The problem with the config's current value, or `nil` when it is in range.
    let check: @Sendable (RunConfig) -> FieldProblem?
    /// The value as a YAML flow scalar or flow list.
    let render: @Sendable (RunConfig) -> String

    var path: String { "\(section).\(key)" }
}

extension ConfigField {
    /// Section names, in file order.
    static let sections = ["model_params", "data_params", "exp_params", "trainer_params"]

    static let name = field("model_params", "name", \.model.name, .nonEmpty)
    static let network = field("model_params", "network", \.model.network, .oneOf([""] + NetworkFamily.all.map(\.name)))

    /// Every key but the model settings, in file order.
    static let all: [ConfigField] = [
        name,
        network,

        field("data_params", "dataset", \.data.dataset),
        field("data_params", "data_dir", \.data.dataDirectory, .nonEmpty),
        field("data_params", "batch_size", \.data.batchSize, .integers(1...65536)),
        field("data_params", "test_batch_size", \.data.testBatchSize, .integers(1...65536)),
        field("data_params", "binarize", \.data.binarize),
        field("data_params", "train_limit", \.data.trainLimit, .integers(0...Int.max)),
        field("data_params", "test_limit", \.data.testLimit, .integers(0...Int.max)),
        field("data_params", "format", \.data.format, .oneOf(["auto", "idx", "folder", "text"])),
        field("data_params", "image_size", \.data.imageSize, .integers(0...4096)),
        field("data_params", "channels", \.data.channels, .integers(0...3)),
        field("data_params", "horizontal_flip", \.data.horizontalFlip),
        field("data_params", "max_vocabulary", \.data.maximumVocabulary, .integers(5...10_000_000)),
        field("data_params", "max_length", \.data.maximumLength, .integers(1...10_000)),
        field("data_params", "long_sentences", \.data.longSentences, .oneOf(["drop", "cut"])),

        field("exp_params", "optimizer", \.experiment.optimizer, .oneOf(RunConfig.Optimizer.allCases.map(\.rawValue))),
        field("exp_params", "learning_rate", \.experiment.learningRate, .numbers(NumberRange(above: 0, atMost: 10))),
        field("exp_params", "weight_decay", \.experiment.weightDecay, .numbers(atLeast: 0)),
        field("exp_params", "momentum", \.experiment.momentum, .numbers(NumberRange(atLeast: 0, below: 1))),
        field("exp_params", "beta1", \.experiment.beta1, .numbers(NumberRange(atLeast: 0, below: 1))),
        field("exp_params", "beta2", \.experiment.beta2, .numbers(NumberRange(atLeast: 0, below: 1))),
        field("exp_params", "gradient_clip_norm", \.experiment.gradientClipNorm, .numbers(atLeast: 0)),
        unsignedInteger("exp_params", "seed", \.experiment.seed),

        field("trainer_params", "epochs", \.trainer.epochs, .integers(1...100_000)),
        field("trainer_params", "run_name", \.trainer.runName, .fileName),
        field("trainer_params", "output_dir", \.trainer.outputDirectory, .nonEmpty),
        field("trainer_params", "threads", \.trainer.threads, .integers(1...256)),
        field("trainer_params", "device", \.trainer.device, .oneOf(["cpu", "cuda"])),
        field("trainer_params", "tf32", \.trainer.tf32),
        field("trainer_params", "data_parallel", \.trainer.dataParallel),
        field("trainer_params", "picture_count", \.trainer.pictureCount, .integers(1...1024)),
        field("trainer_params", "picture_every", \.trainer.pictureEvery, .integers(0...100_000)),
        field("trainer_params", "tensorboard", \.trainer.tensorboard),
    ]

    /// The keys a section may hold: for `model_params`, `name`, `network` and every model setting.
    static func keys(in section: String) -> [String] {
        let fixed = all.filter { $0.section == section }.map(\.key)
        return section == "model_params" ? fixed + SettingCatalog.all.map(\.key) : fixed
    }

    /// The section a key belongs to, if any.
    static func home(of key: String) -> String? {
        sections.first { keys(in: $0).contains(key) }
    }

    /// A model setting's key, read, checked and written through its declaration.
    static func setting(_ declaration: SettingDeclaration) -> ConfigField {
        ConfigField(
            section: "model_params", key: declaration.key,
            read: { node, config in config.model.settings[declaration.key] = try YAMLRead.entry(node, kind: declaration.kind) },
            check: { config in declaration.problem(with: config.model.settings.value(of: declaration)).map(FieldProblem.init) },
            render: { config in YAMLText.entry(config.model.settings.value(of: declaration)) })
    }
}

// MARK: - Field kinds

extension ConfigField {
    /// A key stored in a property of one of the setting types, allowed by `rule`.
    static func field<Value: SettingValue>(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, Value>, _ rule: SettingRule = .any
    ) -> ConfigField {
        // Key paths to stored properties are immutable; Swift 5 mode cannot yet infer that they are Sendable.
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in
                // YAMLRead.entry returns the kind it is asked for, which Value's initialiser takes.
                if let value = Value(try YAMLRead.entry(node, kind: Value.kind)) { config[keyPath: keyPath] = value }
            },
            check: { config in rule.problem(with: config[keyPath: keyPath].entry).map(FieldProblem.init) },
            render: { config in YAMLText.entry(config[keyPath: keyPath].entry) })
    }

    /// A full-range `UInt64`; only the type can be wrong, so every range problem is found while reading.
    static func unsignedInteger(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, UInt64>
    ) -> ConfigField {
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in config[keyPath: keyPath] = try YAMLRead.unsignedInteger(node) },
            check: { _ in nil },
            render: { config in String(config[keyPath: keyPath]) })
    }
}

// MARK: - Reading typed values from YAML nodes

extension Node {
    /// The YAML type: an explicit tag (`!!str 5`) or the one the default (YAML 1.1) resolver infers.
    var tagName: Tag.Name { Resolver.default.resolveTag(of: self) }
}

/// Strict readers: a value must already have the YAML type the field wants (quoted numbers are strings, `1` is not
/// a boolean). Errors describe what was found, quoted as written.
enum YAMLRead {
    static func string(_ node: Node) throws -> String {
        guard let scalar = node.scalar, node.tagName != .null else {
            throw problem("expected a string", node)
        }
        return scalar.string
    }

    /// An integer; a float is accepted only when it has no fractional part (`1e3`, `10.0`).
    static func integer(_ node: Node) throws -> Int {
        guard let scalar = plainScalar(node) else { throw problem("expected an integer", node) }
        switch node.tagName {
        case .int:
            if let value = Int.construct(from: scalar) { return value }
            throw problem("expected an integer that fits in 64 bits", node)
        case .float:
            if let value = Double.construct(from: scalar), value == value.rounded(),
               value >= -0x1p63, value < 0x1p63 {
                return Int(value)
            }
            throw problem("expected an integer", node)
        default:
            throw problem("expected an integer", node)
        }
    }

    static func unsignedInteger(_ node: Node) throws -> UInt64 {
        let expectation = "expected an integer from 0 to \(UInt64.max)"
        guard let scalar = plainScalar(node) else { throw problem("expected an integer", node) }
        switch node.tagName {
        case .int:
            if let value = UInt64.construct(from: scalar) { return value }
            throw problem(expectation, node)
        case .float:
            guard let value = Double.construct(from: scalar), value == value.rounded() else {
                throw problem("expected an integer", node)
            }
            guard value >= 0, value < 0x1p64 else { throw problem(expectation, node) }
            return UInt64(value)
        default:
            throw problem("expected an integer", node)
        }
    }

    /// A value of `kind`, as a setting stores it.
    static func entry(_ node: Node, kind: SettingKind) throws -> SettingEntry {
        switch kind {
        case .integer: .integer(try integer(node))
        case .number: .number(try number(node))
        case .boolean: .boolean(try boolean(node))
        case .text: .text(try string(node))
        case .integers: .integers(try integerList(node))
        }
    }

    static func integerList(_ node: Node) throws -> [Int] {
        guard let sequence = node.sequence else { throw problem("expected a list of integers", node) }
        return try sequence.enumerated().map { index, element in
            do {
                return try integer(element)
            } catch var elementProblem as FieldProblem {
                elementProblem.elementIndex = index
                throw elementProblem
            }
        }
    }

    static func number(_ node: Node) throws -> Double {
        guard let scalar = plainScalar(node), node.tagName == .float || node.tagName == .int,
              let value = Double.construct(from: scalar)
        else { throw problem("expected a number", node) }
        return value
    }

    /// A YAML boolean: `true`/`false` (and YAML 1.1's `yes`/`no`/`on`/`off`); never `1` or `"true"`.
    static func boolean(_ node: Node) throws -> Bool {
        guard let scalar = plainScalar(node), node.tagName == .bool, let value = Bool.construct(from: scalar) else {
            throw problem("expected a boolean (true or false)", node)
        }
        return value
    }

    /// The scalar, unless it is quoted or a block scalar: those are strings whatever they contain.
    private static func plainScalar(_ node: Node) -> Node.Scalar? {
        guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar
    }

    private static func problem(_ expectation: String, _ node: Node) -> FieldProblem {
        FieldProblem(message: "\(expectation), got \(YAMLText.describe(node))", line: node.mark?.line)
    }
}

// MARK: - Writing and quoting

enum YAMLText {
    /// A node as an error message shows it: `'fast'`, `the string "0.1"`, `no value`, `a list`.
    static func describe(_ node: Node) -> String {
        if let scalar = node.scalar {
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
                return "the string \(quoted(scalar.string))"
            }
            if node.tagName == .null {
                return scalar.string.isEmpty ? "no value" : "null"
            }
            return "'\(oneLine(scalar.string))'"
        }
        if node.sequence != nil { return "a list" }
        if node.mapping != nil { return "a mapping" }
        return "'\(oneLine(String(describing: node)))'"
    }

    /// Shortened to one line, so a block scalar cannot break the one-line error rule.
    static func oneLine(_ text: String, limit: Int = 60) -> String { SettingRule.oneLine(text, limit: limit) }

    /// A setting's value as a YAML flow scalar or flow list.
    static func entry(_ entry: SettingEntry) -> String {
        switch entry {
        case .integer(let value): String(value)
        case .number(let value): number(value)
        case .boolean(let value): value ? "true" : "false"
        case .text(let value): string(value)
        case .integers(let values): "[" + values.map(String.init).joined(separator: ", ") + "]"
        }
    }

    /// A number that reads back as the same `Double`, and as a YAML float (`.inf`, not `inf`).
    static func number(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        return value.description
    }

    /// Plain when that reads back as the same string, otherwise double-quoted.
    static func string(_ value: String) -> String {
        let plainSafe = value.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._/-+".unicodeScalars.contains(scalar))
        }
        if plainSafe, let first = value.unicodeScalars.first, first != "-", first != ".",
           Node(value).tagName == .str {
            return value
        }
        return quoted(value)
    }

    /// A YAML double-quoted scalar; its escapes are a superset of JSON's.
    static func quoted(_ value: String) -> String { QuotedString.yaml(value) }
}
