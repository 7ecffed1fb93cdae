import Foundation
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

    var elementSuffix: String { elementIndex.map { "[\($0)]" } ?? "" }
}

/// One key of a config file: its place, how to read it from a YAML node, its range check and how to write it back.
///
/// The table ``all`` is the single source of truth for key order, names, types and ranges, so parsing, validation
/// and ``RunConfig/yaml()`` cannot drift apart.
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

    /// Every key, in file order.
    static let all: [ConfigField] = [
        text("model_params", "name", \.model.name, .nonEmpty),
        text("model_params", "network", \.model.network, .oneOf([""] + NetworkFamily.all.map(\.name))),
        integerList("model_params", "hidden_sizes", \.model.hiddenSizes, elementRange: 1...65536),
        integer("model_params", "latent_size", \.model.latentSize, 0...4096),
        text("model_params", "activation", \.model.activation, .oneOf(RunConfig.Activation.allCases.map(\.rawValue))),
        text("model_params", "likelihood", \.model.likelihood, .oneOf(RunConfig.Likelihood.allCases.map(\.rawValue))),
        integer("model_params", "dense_size", \.model.denseSize, 0...65536),
        number("model_params", "likelihood_variance", \.model.likelihoodVariance, NumberRange(above: 0, atMost: 1e6)),
        boolean("model_params", "learn_variance", \.model.learnVariance),
        number("model_params", "beta", \.model.beta, NumberRange(atLeast: 0)),
        number("model_params", "capacity_max", \.model.capacityMax, NumberRange(atLeast: 0)),
        integer("model_params", "capacity_steps", \.model.capacitySteps, 0...Int.max),
        number("model_params", "gamma", \.model.gamma, NumberRange(atLeast: 0)),
        integer("model_params", "importance_samples", \.model.importanceSamples, 1...100_000),
        integer("model_params", "importance_groups", \.model.importanceGroups, 1...10_000),
        integer("model_params", "class_count", \.model.classCount, 0...65536),
        integer("model_params", "categorical_size", \.model.categoricalSize, 0...4096),
        integer("model_params", "categories", \.model.categories, 2...4096),
        number("model_params", "temperature", \.model.temperature, NumberRange(above: 0, atMost: 1e6)),
        number("model_params", "temperature_min", \.model.temperatureMinimum, NumberRange(above: 0, atMost: 1e6)),
        number("model_params", "temperature_rate", \.model.temperatureRate, NumberRange(atLeast: 0)),
        boolean("model_params", "hard", \.model.hard),
        number("model_params", "discrete_capacity_max", \.model.discreteCapacityMax, NumberRange(atLeast: 0)),
        integer("model_params", "discrete_capacity_steps", \.model.discreteCapacitySteps, 0...Int.max),
        integer("model_params", "codebook_size", \.model.codebookSize, 1...65536),
        integer("model_params", "code_size", \.model.codeSize, 1...4096),
        number("model_params", "commitment", \.model.commitment, NumberRange(atLeast: 0)),
        number("model_params", "ema_decay", \.model.emaDecay, NumberRange(atLeast: 0, below: 1)),
        integer("model_params", "prior_epochs", \.model.priorEpochs, 0...100_000),

        text("data_params", "dataset", \.data.dataset, .any),
        text("data_params", "data_dir", \.data.dataDirectory, .nonEmpty),
        integer("data_params", "batch_size", \.data.batchSize, 1...65536),
        integer("data_params", "test_batch_size", \.data.testBatchSize, 1...65536),
        boolean("data_params", "binarize", \.data.binarize),
        integer("data_params", "train_limit", \.data.trainLimit, 0...Int.max),
        integer("data_params", "test_limit", \.data.testLimit, 0...Int.max),
        text("data_params", "format", \.data.format, .oneOf(["auto", "idx", "folder"])),
        integer("data_params", "image_size", \.data.imageSize, 0...4096),
        integer("data_params", "channels", \.data.channels, 0...3),
        boolean("data_params", "horizontal_flip", \.data.horizontalFlip),

        text("exp_params", "optimizer", \.experiment.optimizer, .oneOf(RunConfig.Optimizer.allCases.map(\.rawValue))),
        number("exp_params", "learning_rate", \.experiment.learningRate, NumberRange(above: 0, atMost: 10)),
        number("exp_params", "weight_decay", \.experiment.weightDecay, NumberRange(atLeast: 0)),
        number("exp_params", "momentum", \.experiment.momentum, NumberRange(atLeast: 0, below: 1)),
        number("exp_params", "beta1", \.experiment.beta1, NumberRange(atLeast: 0, below: 1)),
        number("exp_params", "beta2", \.experiment.beta2, NumberRange(atLeast: 0, below: 1)),
        number("exp_params", "gradient_clip_norm", \.experiment.gradientClipNorm, NumberRange(atLeast: 0)),
        unsignedInteger("exp_params", "seed", \.experiment.seed),

        integer("trainer_params", "epochs", \.trainer.epochs, 1...100_000),
        text("trainer_params", "run_name", \.trainer.runName, .fileName),
        text("trainer_params", "output_dir", \.trainer.outputDirectory, .nonEmpty),
        integer("trainer_params", "threads", \.trainer.threads, 1...256),
        boolean("trainer_params", "data_parallel", \.trainer.dataParallel),
        integer("trainer_params", "picture_count", \.trainer.pictureCount, 1...1024),
        integer("trainer_params", "picture_every", \.trainer.pictureEvery, 0...100_000),
    ]

    static func keys(in section: String) -> [String] {
        all.filter { $0.section == section }.map(\.key)
    }
}

// MARK: - Field kinds

extension ConfigField {
    /// What a string field accepts.
    enum TextRule: Sendable {
        case any
        case nonEmpty
        case oneOf([String])
        /// A single directory name: `[A-Za-z0-9._-]+`, and not `.` or `..`.
        case fileName

        func problem(with value: String) -> FieldProblem? {
            switch self {
            case .any:
                return nil
            case .nonEmpty:
                return value.isEmpty ? FieldProblem(message: "expected a non-empty string, got ''") : nil
            case .oneOf(let choices):
                guard !choices.contains(value) else { return nil }
                let message = "expected one of \(choices.joined(separator: ", ")), got '\(YAMLText.oneLine(value))'"
                return FieldProblem(message: message + Suggestion.didYouMean(value, among: choices))
            case .fileName:
                let allowed = value.unicodeScalars.allSatisfy { scalar in
                    scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                }
                if allowed, !value.isEmpty, value != ".", value != ".." { return nil }
                return FieldProblem(
                    message: "expected a name of letters, digits, '.', '_' and '-' (not '.' or '..'), "
                        + "got '\(YAMLText.oneLine(value))'")
            }
        }
    }

    /// An interval of finite numbers; either end may be open, the upper one may be absent.
    struct NumberRange: Sendable {
        var lower: Double
        var includesLower: Bool
        var upper: Double?
        var includesUpper: Bool

        init(atLeast lower: Double) {
            self.init(lower: lower, includesLower: true, upper: nil, includesUpper: false)
        }

        init(atLeast lower: Double, below upper: Double) {
            self.init(lower: lower, includesLower: true, upper: upper, includesUpper: false)
        }

        init(above lower: Double, atMost upper: Double) {
            self.init(lower: lower, includesLower: false, upper: upper, includesUpper: true)
        }

        private init(lower: Double, includesLower: Bool, upper: Double?, includesUpper: Bool) {
            self.lower = lower
            self.includesLower = includesLower
            self.upper = upper
            self.includesUpper = includesUpper
        }

        func contains(_ value: Double) -> Bool {
            guard value.isFinite else { return false }
            guard includesLower ? value >= lower : value > lower else { return false }
            guard let upper else { return true }
            return includesUpper ? value <= upper : value < upper
        }

        /// `"a number in (0, 10]"`, `"a finite number >= 0"`.
        var expectation: String {
            let lowerText = YAMLText.readable(lower)
            guard let upper else { return "a finite number \(includesLower ? ">=" : ">") \(lowerText)" }
            return "a number in \(includesLower ? "[" : "(")\(lowerText), \(YAMLText.readable(upper))\(includesUpper ? "]" : ")")"
        }
    }

    static func text(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, String>, _ rule: TextRule
    ) -> ConfigField {
        // Key paths to stored properties are immutable; Swift 5 mode cannot yet infer that they are Sendable.
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in config[keyPath: keyPath] = try YAMLRead.string(node) },
            check: { config in rule.problem(with: config[keyPath: keyPath]) },
            render: { config in YAMLText.string(config[keyPath: keyPath]) })
    }

    static func integer(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, Int>,
        _ range: ClosedRange<Int>
    ) -> ConfigField {
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in config[keyPath: keyPath] = try YAMLRead.integer(node) },
            check: { config in integerProblem(config[keyPath: keyPath], range) },
            render: { config in String(config[keyPath: keyPath]) })
    }

    static func integerList(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, [Int]>,
        elementRange: ClosedRange<Int>
    ) -> ConfigField {
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in config[keyPath: keyPath] = try YAMLRead.integerList(node) },
            check: { config in
                let values = config[keyPath: keyPath]
                if values.isEmpty {
                    return FieldProblem(message: "expected a list of at least one integer, got []")
                }
                for (index, value) in values.enumerated() {
                    if var problem = integerProblem(value, elementRange) {
                        problem.elementIndex = index
                        return problem
                    }
                }
                return nil
            },
            render: { config in "[" + config[keyPath: keyPath].map(String.init).joined(separator: ", ") + "]" })
    }

    static func number(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, Double>,
        _ range: NumberRange
    ) -> ConfigField {
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in config[keyPath: keyPath] = try YAMLRead.number(node) },
            check: { config in
                let value = config[keyPath: keyPath]
                guard !range.contains(value) else { return nil }
                return FieldProblem(message: "expected \(range.expectation), got \(YAMLText.readable(value))")
            },
            render: { config in YAMLText.number(config[keyPath: keyPath]) })
    }

    static func boolean(
        _ section: String, _ key: String, _ keyPath: WritableKeyPath<RunConfig, Bool>
    ) -> ConfigField {
        nonisolated(unsafe) let keyPath = keyPath
        return ConfigField(
            section: section, key: key,
            read: { node, config in config[keyPath: keyPath] = try YAMLRead.boolean(node) },
            check: { _ in nil },
            render: { config in config[keyPath: keyPath] ? "true" : "false" })
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

    private static func integerProblem(_ value: Int, _ range: ClosedRange<Int>) -> FieldProblem? {
        guard !range.contains(value) else { return nil }
        let expectation = range.upperBound == Int.max
            ? "an integer >= \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        return FieldProblem(message: "expected \(expectation), got \(value)")
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
    static func oneLine(_ text: String, limit: Int = 60) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }

    /// A number that reads back as the same `Double`, and as a YAML float (`.inf`, not `inf`).
    static func number(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        return value.description
    }

    /// A number for a message: `10`, not `10.0`; `nan`; `1e-05`.
    static func readable(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
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
    static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += String(format: "\\x%02X", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
