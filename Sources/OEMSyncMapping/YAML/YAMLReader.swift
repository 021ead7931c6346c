import OEMSyncCore
import Yams

/// Reads a node tree into typed values, collecting every problem as a diagnostic instead of
/// stopping at the first.
///
/// Shape codes share their numbers across file kinds and differ by prefix (`C` config, `M` mapping,
/// `D` dictionary): `x101` unknown key, `x102` missing key, `x103` wrong YAML type, `x104` invalid value.
public struct YAMLReader {
    public let file: String
    public let prefix: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String, prefix: String) {
        self.file = file
        self.prefix = prefix
    }

    /// A key/value pair of a YAML mapping, with the key's node kept for its position.
    public struct Entry {
        public var key: String
        public var keyNode: Node
        public var value: Node
    }

    public func location(_ node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    public mutating func error(
        _ suffix: String, _ message: String, at node: Node, notes: [String] = [], help: String? = nil
    ) {
        diagnostics.append(.error(code(suffix), message, at: location(node), notes: notes, help: help))
    }

    public mutating func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
    public mutating func add(_ more: [Diagnostic]) { diagnostics.append(contentsOf: more) }

    public func code(_ suffix: String) -> String { prefix + suffix }

    /// The entries of a YAML mapping; reports x103 if `node` is not a mapping, and x101 for every key
    /// not in `allowed` (with a "did you mean" help).
    public mutating func entries(_ node: Node, what: String, allowed: [String]? = nil) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error("103", "\(what) must be a mapping (key: value), found \(Self.kind(node))", at: node)
            return nil
        }
        var result: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error("103", "keys of \(what) must be plain strings", at: keyNode)
                continue
            }
            let key = scalar.string
            if let allowed, !allowed.contains(key) {
                let help = Suggestion.closest(to: key, in: allowed).map { "did you mean '\($0)'?" }
                error(
                    "101", "unknown key '\(key)' in \(what)", at: keyNode,
                    notes: ["allowed keys: \(allowed.joined(separator: ", "))"], help: help)
                continue
            }
            result.append(Entry(key: key, keyNode: keyNode, value: value))
        }
        return result
    }

    /// Reports x102 for each required key missing from `entries`.
    public mutating func require(_ keys: [String], in entries: [Entry], of node: Node, what: String) {
        for key in keys where !entries.contains(where: { $0.key == key }) {
            error("102", "missing required key '\(key)' in \(what)", at: node)
        }
    }

    public mutating func string(_ node: Node, what: String) -> String? {
        guard case .scalar(let scalar) = node, Self.plainKind(scalar) != .null else {
            error("103", "\(what) must be a string, found \(Self.kind(node))", at: node)
            return nil
        }
        return scalar.string
    }

    public mutating func nonEmptyString(_ node: Node, what: String) -> String? {
        guard let s = string(node, what: what) else { return nil }
        if s.isEmpty {
            error("104", "\(what) must not be empty", at: node)
            return nil
        }
        return s
    }

    public mutating func int(_ node: Node, what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            error("103", "\(what) must be an integer, found \(Self.kind(node))", at: node)
            return nil
        }
        if let range, !range.contains(value) {
            error("104", "\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(value)", at: node)
            return nil
        }
        return value
    }

    public mutating func number(_ node: Node, what: String) -> Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string) else {
            error("103", "\(what) must be a number, found \(Self.kind(node))", at: node)
            return nil
        }
        return value
    }

    public mutating func bool(_ node: Node, what: String) -> Bool? {
        guard case .scalar(let scalar) = node, scalar.style == .plain else {
            error("103", "\(what) must be true or false, found \(Self.kind(node))", at: node)
            return nil
        }
        switch scalar.string {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error("103", "\(what) must be true or false, found '\(scalar.string)'", at: node)
            return nil
        }
    }

    /// One of a fixed set of words; x104 with the allowed values and a suggestion otherwise.
    public mutating func choice(_ node: Node, what: String, allowed: [String]) -> String? {
        // `on_error: null` reads naturally; YAML would make it a null, so take it as the word.
        if Self.isNull(node), case .scalar(let scalar) = node, allowed.contains(scalar.string) { return scalar.string }
        guard let s = string(node, what: what) else { return nil }
        guard allowed.contains(s) else {
            let help = Suggestion.closest(to: s, in: allowed).map { "did you mean '\($0)'?" }
            error(
                "104", "invalid \(what) '\(s)'", at: node,
                notes: ["expected one of: \(allowed.joined(separator: ", "))"], help: help)
            return nil
        }
        return s
    }

    /// A sequence of nodes; a single scalar is accepted as a one-element list when `allowScalar`.
    public mutating func sequence(_ node: Node, what: String, allowScalar: Bool = false) -> [Node]? {
        switch node {
        case .sequence(let sequence): return Array(sequence)
        case .scalar where allowScalar: return [node]
        default:
            error("103", "\(what) must be a list, found \(Self.kind(node))", at: node)
            return nil
        }
    }

    public mutating func stringList(_ node: Node, what: String, allowScalar: Bool = false) -> [String]? {
        guard let items = sequence(node, what: what, allowScalar: allowScalar) else { return nil }
        var result: [String] = []
        for item in items {
            guard let s = string(item, what: "each item of \(what)") else { return nil }
            result.append(s)
        }
        return result
    }

    /// What a plain scalar stands for under the YAML 1.2 core schema. Decided from the text, as
    /// Yams leaves plain scalars' tags implicit until they are constructed.
    enum PlainKind {
        case null, bool, int, float, string
    }

    static func plainKind(_ scalar: Node.Scalar) -> PlainKind {
        guard scalar.style == .plain else { return .string }
        let s = scalar.string
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE": return .bool
        default: break
        }
        if Int(s) != nil || (s.hasPrefix("0x") && Int(s.dropFirst(2), radix: 16) != nil) { return .int }
        if Double(s) != nil, s.contains(where: { $0.isNumber }) { return .float }
        return .string
    }

    public static func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch plainKind(scalar) {
            case .null: return "null"
            case .int: return "an integer"
            case .float: return "a number"
            case .bool: return "a boolean"
            case .string: return "a string"
            }
        }
    }

    public static func isPlainInt(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return plainKind(scalar) == .int
    }

    public static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return plainKind(scalar) == .null
    }
}

extension [YAMLReader.Entry] {
    /// The entry of `key`, when the mapping has it.
    public subscript(key: String) -> YAMLReader.Entry? { first { $0.key == key } }
}
