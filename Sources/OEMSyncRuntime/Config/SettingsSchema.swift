import OEMSyncMapping
import Yams

/// One key of a settings block: its name, whether the block needs it, its default as the docs
/// show it, and what it means.
public struct SettingKey: Sendable {
    public var name: String
    public var required: Bool
    /// The default, as `oemsync kinds` shows it; nil when there is none.
    public var defaultValue: String?
    public var doc: String
    /// The keys of the block this key holds (`pagination:`, `retry:`), when it is one.
    public var children: [SettingKey] = []

    public static func required(_ name: String, _ doc: String) -> SettingKey {
        SettingKey(name: name, required: true, defaultValue: nil, doc: doc)
    }

    public static func optional(_ name: String, default value: String? = nil, _ doc: String) -> SettingKey {
        SettingKey(name: name, required: false, defaultValue: value, doc: doc)
    }

    /// An optional block of keys, declared with its own schema.
    public static func block(_ name: String, default value: String? = nil, _ doc: String, _ schema: SettingsSchema) -> SettingKey {
        SettingKey(name: name, required: false, defaultValue: value, doc: doc, children: schema.keys)
    }
}

/// The keys of a settings block, declared once: the loader allows exactly these (unknown keys are
/// `C101`, with a "did you mean"), requires the required ones (`C102`), and reads only declared
/// ones (``SettingsBlock``); `oemsync kinds` and the docs list them from here.
public struct SettingsSchema: Sendable {
    public var keys: [SettingKey]

    public init(_ keys: [SettingKey]) { self.keys = keys }

    public var names: [String] { keys.map(\.name) }
    public var requiredNames: [String] { keys.filter(\.required).map(\.name) }
    public func declares(_ name: String) -> Bool { keys.contains { $0.name == name } }
}

/// A settings block as written, its keys checked against its schema.
public struct SettingsBlock {
    public let node: Node
    public let entries: [YAMLReader.Entry]
    public let schema: SettingsSchema
    /// What the block is, for messages: `the rest source of feed 'orders'`.
    public let what: String

    /// The entry of a declared key, if the block has it. Reading a key the schema does not declare
    /// is a programming error: the schema is where keys are declared.
    public subscript(_ key: String) -> YAMLReader.Entry? {
        precondition(schema.declares(key), "'\(key)' is not declared in the schema of \(what)")
        return entries.first { $0.key == key }
    }
}

extension YAMLReader {
    /// The block at `node`: a mapping whose keys are `schema`'s (and `extra`, read by the caller
    /// before, such as a source's `kind`), with its required keys present.
    public mutating func block(_ node: Node, what: String, schema: SettingsSchema, extra: [String] = []) -> SettingsBlock? {
        guard let entries = entries(node, what: what, allowed: extra + schema.names) else { return nil }
        require(schema.requiredNames, in: entries, of: node, what: what)
        return SettingsBlock(node: node, entries: entries.filter { !extra.contains($0.key) }, schema: schema, what: what)
    }
}
