import Foundation
import OEMSyncCore
import Yams

/// Loads the data dictionary from a directory: `dictionary.yaml` (version and field definitions)
/// and any number of `*.yaml` files under it with more fields or `code_tables`.
///
/// Every file starts with `oemsync_dictionary: 1`. Problems in any file are collected (codes `D1xx`),
/// so `oemsync check` shows them all at once.
public struct DataDictionaryLoader {
    public init() {}

    static let fileKeys = ["oemsync_dictionary", "version", "description", "fields", "code_tables"]
    static let fieldKeys = [
        "meaning", "type", "length", "range", "pattern", "enum", "format", "personal", "scale", "example",
    ]
    static let tableKeys = ["meaning", "codes"]

    /// - Parameters:
    ///   - directory: the dictionary folder on disk.
    ///   - displayDirectory: how to show that folder in diagnostics (relative to the config, usually).
    public func load(directory: String, displayDirectory: String? = nil) -> (DataDictionary?, [Diagnostic]) {
        let shown = displayDirectory ?? directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            return (nil, [.error("D105", "dictionary folder not found: '\(shown)'", at: nil)])
        }
        let files = Self.yamlFiles(in: directory)
        guard files.contains("dictionary.yaml") else {
            return (
                nil,
                [
                    .error(
                        "D105", "'\(shown)' has no dictionary.yaml", at: nil,
                        help: "the dictionary folder needs a dictionary.yaml with its version")
                ]
            )
        }
        var dictionary = DataDictionary(version: "")
        var diagnostics: [Diagnostic] = []
        for relative in files {
            let path = (directory as NSString).appendingPathComponent(relative)
            let display = (shown as NSString).appendingPathComponent(relative)
            let (document, problems) = YAMLDocument.load(path: path, displayPath: display, code: "D105", reference: nil)
            diagnostics += problems
            guard let document else { continue }
            dictionary.sources[display] = document.text
            guard document.parsed else { continue }
            diagnostics += read(document, isMain: relative == "dictionary.yaml", into: &dictionary)
        }
        // With errors, the fields and tables that did load are still returned, so that mappings are
        // checked against them instead of drowning in "unknown field" errors; the errors still fail.
        return (dictionary, diagnostics)
    }

    /// Reads one dictionary file into `dictionary`; public for tests that build a dictionary in memory.
    public func read(_ document: YAMLDocument, isMain: Bool, into dictionary: inout DataDictionary) -> [Diagnostic] {
        var reader = YAMLReader(file: document.path, prefix: "D")
        guard let root = document.root else {
            reader.add(.error("D102", "empty dictionary file", at: SourceLocation(file: document.path, line: 1, column: 1)))
            return reader.diagnostics
        }
        guard let entries = reader.entries(root, what: "a dictionary file", allowed: Self.fileKeys) else {
            return reader.diagnostics
        }
        reader.require(["oemsync_dictionary"], in: entries, of: root, what: "a dictionary file")
        if isMain { reader.require(["version"], in: entries, of: root, what: "dictionary.yaml") }
        for entry in entries {
            switch entry.key {
            case "oemsync_dictionary":
                if let v = reader.int(entry.value, what: "oemsync_dictionary"), v != 1 {
                    reader.error(
                        "104", "unsupported dictionary format \(v)", at: entry.value,
                        help: "this oemsync reads dictionary format 1")
                }
            case "version":
                if let v = reader.nonEmptyString(entry.value, what: "version") {
                    if isMain {
                        dictionary.version = v
                    } else {
                        reader.error("104", "only dictionary.yaml sets the version", at: entry.keyNode)
                    }
                }
            case "description":
                _ = reader.string(entry.value, what: "description")
            case "fields":
                readFields(entry.value, reader: &reader, into: &dictionary)
            case "code_tables":
                readCodeTables(entry.value, reader: &reader, into: &dictionary)
            default:
                break
            }
        }
        return reader.diagnostics
    }

    private func readFields(_ node: Node, reader: inout YAMLReader, into dictionary: inout DataDictionary) {
        guard let fields = reader.entries(node, what: "fields") else { return }
        for field in fields {
            if let existing = dictionary.fields[field.key] {
                reader.error(
                    "106", "field '\(field.key)' is already defined", at: field.keyNode,
                    notes: ["first defined at \(existing.location)"])
                continue
            }
            guard Identifier.isValid(field.key) else {
                reader.error(
                    "104", "invalid field name '\(field.key)'", at: field.keyNode,
                    help: "field names are a lowercase letter, then lowercase letters, digits and '_' (at most 63)")
                continue
            }
            let what = "field '\(field.key)'"
            guard let keys = reader.entries(field.value, what: what, allowed: Self.fieldKeys) else { continue }
            reader.require(["meaning", "type"], in: keys, of: field.value, what: what)
            var meaning = ""
            var type: ColumnType?
            var format: FieldFormat?
            var personal = false
            var scale: Int?
            var checks = ValueChecks()
            for key in keys {
                switch key.key {
                case "meaning": meaning = reader.string(key.value, what: "meaning") ?? ""
                case "type":
                    type = reader.choice(key.value, what: "type", allowed: ColumnType.allCases.map(\.rawValue))
                        .flatMap(ColumnType.init(rawValue:))
                case "format":
                    format = reader.choice(key.value, what: "format", allowed: FieldFormat.allCases.map(\.rawValue))
                        .flatMap(FieldFormat.init(rawValue:))
                case "personal": personal = reader.bool(key.value, what: "personal") ?? false
                case "scale": scale = reader.int(key.value, what: "scale", range: 0...18)
                case "example": _ = reader.string(key.value, what: "example")
                default:
                    CheckReader.read(key, into: &checks, reader: &reader)
                }
            }
            guard let type else { continue }
            dictionary.fields[field.key] = FieldDefinition(
                name: field.key, meaning: meaning, type: type, checks: checks, format: format, personal: personal,
                scale: scale, location: reader.location(field.keyNode))
        }
    }

    private func readCodeTables(_ node: Node, reader: inout YAMLReader, into dictionary: inout DataDictionary) {
        guard let tables = reader.entries(node, what: "code_tables") else { return }
        for table in tables {
            if let existing = dictionary.codeTables[table.key] {
                reader.error(
                    "106", "code table '\(table.key)' is already defined", at: table.keyNode,
                    notes: ["first defined at \(existing.location)"])
                continue
            }
            let what = "code table '\(table.key)'"
            guard let keys = reader.entries(table.value, what: what, allowed: Self.tableKeys) else { continue }
            reader.require(["meaning", "codes"], in: keys, of: table.value, what: what)
            var meaning = ""
            var codes: [String: String] = [:]
            for key in keys {
                switch key.key {
                case "meaning": meaning = reader.string(key.value, what: "meaning") ?? ""
                case "codes":
                    guard let pairs = reader.entries(key.value, what: "codes of \(what)") else { continue }
                    for pair in pairs {
                        if let to = reader.string(pair.value, what: "the dealer code for '\(pair.key)'") {
                            codes[pair.key] = to
                        }
                    }
                default: break
                }
            }
            dictionary.codeTables[table.key] = CodeTable(
                name: table.key, meaning: meaning, codes: codes, location: reader.location(table.keyNode))
        }
    }

    /// `dictionary.yaml` first, then the other YAML files in a stable order.
    static func yamlFiles(in directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let item = enumerator.nextObject() as? String {
            if item.hasSuffix(".yaml") || item.hasSuffix(".yml") { files.append(item) }
        }
        return files.sorted { a, b in
            if a == "dictionary.yaml" { return b != "dictionary.yaml" }
            if b == "dictionary.yaml" { return false }
            return a < b
        }
    }
}

/// Rules for SQL identifiers that come from user files: a lowercase letter, then lowercase letters,
/// digits and `_`, at most 63 bytes (PostgreSQL's limit), so they never need more than double
/// quotes and always match the schema's own spelling.
public enum Identifier {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.count <= 63
            && name.utf8.allSatisfy { c in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
                    || c == UInt8(ascii: "_")
            }
    }
}
