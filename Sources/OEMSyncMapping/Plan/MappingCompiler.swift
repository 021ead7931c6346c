import OEMSyncCore
import Yams

/// Compiles a mapping file into a ``MappingPlan``, reporting every problem with its position.
///
/// ```swift
/// let compiler = MappingCompiler(dictionary: dictionary, catalog: ReferenceSchema.catalog)
/// let (plan, diagnostics) = compiler.compile(path: "Mappings/acme/stock.v1.yaml")
/// ```
/// Nothing here touches the network or a database: the catalog is a value (the reference schema at
/// `oemsync check` time, the live database's tables at sync time).
public struct MappingCompiler {
    public var dictionary: DataDictionary
    public var catalog: SchemaCatalog?
    /// Whether a table missing from the catalog is an error (the live database) or only a warning
    /// (the reference schema, which a dealer's own tables extend).
    public var catalogIsComplete: Bool

    public init(dictionary: DataDictionary = .empty, catalog: SchemaCatalog? = nil, catalogIsComplete: Bool = true) {
        self.dictionary = dictionary
        self.catalog = catalog
        self.catalogIsComplete = catalogIsComplete
    }

    static let topKeys = [
        "oemsync_mapping", "name", "version", "description", "source", "target", "timezone", "columns",
    ]
    static let sourceKeys = ["format", "header", "delimiter", "encoding", "records", "namespaces"]
    static let csvSourceKeys: Set<String> = ["header", "delimiter", "encoding"]
    static let targetKeys = ["table", "key"]

    public func compile(path: String, displayPath: String? = nil, reference: SourceLocation? = nil)
        -> (MappingPlan?, [Diagnostic], YAMLDocument?)
    {
        let (document, problems) = YAMLDocument.load(path: path, displayPath: displayPath, code: "M105", reference: reference)
        guard let document else { return (nil, problems, nil) }
        guard document.parsed else { return (nil, problems, document) }
        let (plan, diagnostics) = compile(document)
        return (plan, diagnostics, document)
    }

    public func compile(_ document: YAMLDocument) -> (MappingPlan?, [Diagnostic]) {
        var reader = YAMLReader(file: document.path, prefix: "M")
        guard let root = document.root else {
            reader.add(.error("M102", "empty mapping file", at: SourceLocation(file: document.path, line: 1, column: 1)))
            return (nil, reader.diagnostics)
        }
        guard let entries = reader.entries(root, what: "a mapping file", allowed: Self.topKeys) else {
            return (nil, reader.diagnostics)
        }
        reader.require(["oemsync_mapping", "name", "version", "source", "target", "columns"], in: entries, of: root, what: "a mapping file")

        var name = ""
        var version = ""
        var source = SourceSpec()
        var table: (String, Node)?
        var key: [(String, Node)] = []
        var zone: ZoneConverter?
        var columnsNode: Node?
        for entry in entries {
            switch entry.key {
            case "oemsync_mapping":
                if let v = reader.int(entry.value, what: "oemsync_mapping"), v != 1 {
                    reader.error("104", "unsupported mapping format \(v)", at: entry.value, help: "this oemsync reads mapping format 1")
                }
            case "name": name = reader.nonEmptyString(entry.value, what: "name") ?? ""
            case "version":
                if case .scalar(let s) = entry.value, !s.string.isEmpty, !YAMLReader.isNull(entry.value) { version = s.string } else {
                    reader.error("103", "version must be a number or a string", at: entry.value)
                }
            case "description": _ = reader.string(entry.value, what: "description")
            case "source": source = readSource(entry.value, reader: &reader)
            case "target":
                guard let keys = reader.entries(entry.value, what: "target", allowed: Self.targetKeys) else { continue }
                reader.require(["table", "key"], in: keys, of: entry.value, what: "target")
                for k in keys {
                    if k.key == "table", let t = reader.nonEmptyString(k.value, what: "target table") { table = (t, k.value) }
                    if k.key == "key", let items = reader.sequence(k.value, what: "target key", allowScalar: true) {
                        for item in items { if let s = reader.nonEmptyString(item, what: "a key column") { key.append((s, item)) } }
                        if items.isEmpty { reader.error("104", "the natural key needs at least one column", at: k.value) }
                    }
                }
            case "timezone": zone = readZone(entry.value, reader: &reader)
            case "columns": columnsNode = entry.value
            default: break
            }
        }

        var columns: [ColumnPlan] = []
        var columnNodes: [String: Node] = [:]
        var declared: Set<String> = []
        var columnsReadable = false
        if let columnsNode, let list = reader.entries(columnsNode, what: "columns") {
            columnsReadable = true
            if list.isEmpty { reader.error("104", "a mapping needs at least one column", at: columnsNode) }
            for column in list {
                declared.insert(column.key)
                if column.key.hasPrefix("oemsync_") {
                    reader.error(
                        "307", "column '\(column.key)' is reserved: oemsync_* columns record provenance and are set by oemsync",
                        at: column.keyNode)
                    continue
                }
                guard Identifier.isValid(column.key) else {
                    reader.error(
                        "306", "invalid column name '\(column.key)'", at: column.keyNode,
                        help: "target columns are a lowercase letter, then lowercase letters, digits and '_' (at most 63)")
                    continue
                }
                var compiler = ColumnCompiler(
                    name: column.key, keyNode: column.keyNode, dictionary: dictionary, mappingZone: zone,
                    headerless: !source.header, json: source.format == .json ? source.recordsDepth : nil,
                    xml: source.format == .xml ? source.namespaces : nil,
                    isKey: key.contains { $0.0 == column.key })
                if let plan = compiler.compile(column.value, reader: &reader) {
                    columns.append(plan)
                    columnNodes[column.key] = column.keyNode
                }
            }
        }

        // The natural key: mapped, never nulled, unique in the schema.
        for (k, node) in key where columnsReadable {
            guard let index = columns.firstIndex(where: { $0.name == k }) else {
                if !declared.contains(k) {
                    reader.error("303", "key column '\(k)' is not mapped", at: node, help: "add '\(k)' under columns:")
                }
                continue
            }
            if columns[index].onError != .reject {
                reader.error(
                    "208", "key column '\(k)' cannot use on_error: \(columns[index].onError.rawValue)",
                    at: columnNodes[k] ?? node, help: "a record without its key cannot be written; remove on_error")
            }
        }
        if let (t, node) = table {
            if !Identifier.isValid(t) {
                reader.error("306", "invalid table name '\(t)'", at: node, help: "table names are a lowercase letter, then lowercase letters, digits and '_' (at most 63)")
            } else if let catalog {
                checkSchema(table: t, tableNode: node, key: key, columns: columns, columnNodes: columnNodes, catalog: catalog, reader: &reader)
            }
        }
        guard !reader.diagnostics.hasErrors, let (t, _) = table else { return (nil, reader.diagnostics) }
        let plan = MappingPlan(
            file: document.path, name: name, version: version, dictionaryVersion: dictionary.version, source: source,
            table: t, key: key.map(\.0), columns: columns)
        return (plan, reader.diagnostics)
    }

    private func readSource(_ node: Node, reader: inout YAMLReader) -> SourceSpec {
        var spec = SourceSpec()
        guard let keys = reader.entries(node, what: "source", allowed: Self.sourceKeys) else { return spec }
        // An XML records path needs the namespaces, wherever they are written.
        let isXML = keys.contains { k in
            if k.key == "format", case .scalar(let s) = k.value { return s.string == "xml" }
            return false
        }
        for k in keys {
            switch k.key {
            case "format":
                if let f = reader.string(k.value, what: "source format") {
                    if let format = SourceSpec.Format(rawValue: f) {
                        spec.format = format
                    } else {
                        reader.error("104", "invalid source format '\(f)'", at: k.value, notes: ["expected one of: csv, json, xml"])
                    }
                }
            case "header": spec.header = reader.bool(k.value, what: "header") ?? true
            case "delimiter":
                if let d = reader.string(k.value, what: "delimiter") {
                    let value = d == "\\t" ? "\t" : d
                    if value.utf8.count == 1, let b = value.utf8.first, b != UInt8(ascii: "\""), b != 0x0A, b != 0x0D {
                        spec.delimiter = b
                    } else {
                        reader.error("104", "delimiter must be one ASCII character other than a quote or a newline", at: k.value)
                    }
                }
            case "encoding":
                if var e = reader.string(k.value, what: "encoding") {
                    e = e.lowercased()
                    if e == "gbk" || e == "gb2312" || e == "cp936" { e = "gb18030" }  // supersets: read as GB18030
                    if e == "utf8" { e = "utf-8" }
                    if let enc = TextEncoding(rawValue: e) {
                        spec.encoding = enc
                    } else {
                        reader.error("104", "invalid encoding '\(e)'", at: k.value, notes: ["expected one of: auto, utf-8, gb18030 (gbk)"])
                    }
                }
            case "namespaces":
                guard let entries = reader.entries(k.value, what: "namespaces") else { continue }
                for e in entries {
                    guard let uri = reader.nonEmptyString(e.value, what: "the namespace of prefix '\(e.key)'") else { continue }
                    if e.key.isEmpty || !e.key.allSatisfy(XMLPath.isNameCharacter) || e.key.contains(".") {
                        reader.error("104", "invalid namespace prefix '\(e.key)'", at: e.keyNode, help: "prefixes are names such as soap, star, wsse")
                    } else {
                        spec.namespaces[e.key] = uri
                    }
                }
            case "records" where isXML:
                break  // read below, once the namespaces are known
            case "records":
                if let text = reader.nonEmptyString(k.value, what: "records") {
                    do {
                        var path = try JSONPath(parsing: text)
                        if case .parent = path.anchor {
                            reader.error("210", "the records path starts at the document ('$'), not at an enclosing record ('^')", at: k.value)
                        }
                        path.anchor = .root
                        spec.records = path
                    } catch {
                        reader.error("210", "invalid JSON path '\(text)': \(error)", at: k.value, help: Self.pathHelp)
                    }
                }
            default: break
            }
        }
        if spec.format == .xml, let k = keys.first(where: { $0.key == "records" }), let text = reader.nonEmptyString(k.value, what: "records") {
            do {
                let path = try XMLPath(text, namespaces: spec.namespaces)
                if path.absolute, path.attribute == nil {
                    spec.xmlRecords = path
                } else {
                    reader.error("210", "an XML records path is an element path from the document root, starting with '/'", at: k.value, help: Self.xmlPathHelp)
                }
            } catch {
                reader.error("210", error.description, at: k.value, help: Self.xmlPathHelp)
            }
        }
        // Options of the other format are mistakes, not silently ignored settings.
        for k in keys {
            if spec.format != .csv, Self.csvSourceKeys.contains(k.key) {
                reader.error("104", "\(k.key) applies to format: csv only (\(spec.format == .json ? "JSON is always UTF-8, with named fields" : "XML says its own encoding"))", at: k.keyNode)
            }
            if spec.format == .csv, k.key == "records" {
                reader.error("104", "records applies to format: json and xml only", at: k.keyNode)
            }
            if spec.format != .xml, k.key == "namespaces" {
                reader.error("104", "namespaces applies to format: xml only", at: k.keyNode)
            }
        }
        if spec.format == .xml, !keys.contains(where: { $0.key == "records" }) {
            reader.error("102", "an xml source needs records: the element path of the records, e.g. records: /soap:Envelope/soap:Body/star:ShowVehicleInventory/…", at: node)
        }
        if spec.format == .json, spec.records == nil, !keys.contains(where: { $0.key == "records" }) {
            reader.error("102", "a json source needs records: the JSON path of the records, e.g. records: $.data.list[*]", at: node)
        }
        return spec
    }

    public static let pathHelp = "paths look like $.data.list[*], customer.mobile, options[0].code, ['车架号'] or ^.orderNo"
    public static let xmlPathHelp = "XML paths use the prefixes of source: namespaces:, e.g. /soap:Envelope/soap:Body/star:Items/star:Item for records, star:Vehicle/star:VehicleID or @currencyID for a field"

    func readZone(_ node: Node, reader: inout YAMLReader) -> ZoneConverter? {
        guard let id = reader.nonEmptyString(node, what: "timezone") else { return nil }
        guard let zone = ZoneConverter(identifier: id) else {
            reader.error("202", "unknown time zone '\(id)'", at: node, help: "use an IANA name such as Asia/Shanghai or Europe/Berlin")
            return nil
        }
        return zone
    }

    private func checkSchema(
        table: String, tableNode: Node, key: [(String, Node)], columns: [ColumnPlan], columnNodes: [String: Node],
        catalog: SchemaCatalog, reader: inout YAMLReader
    ) {
        guard let schema = catalog.tables[table] else {
            let help = Suggestion.closest(to: table, in: catalog.tables.keys).map { "did you mean '\($0)'?" }
            let notes = ["tables: \(catalog.tables.keys.sorted().joined(separator: ", "))"]
            if catalogIsComplete {
                reader.error("301", "unknown table '\(table)' in \(catalog.origin)", at: tableNode, notes: notes, help: help)
            } else {
                reader.add(
                    .warning(
                        "M301", "table '\(table)' is not in \(catalog.origin); its columns are checked against the database at sync time",
                        at: reader.location(tableNode), notes: notes, help: help))
            }
            return
        }
        let mappable = schema.columns.keys.filter { !$0.hasPrefix("oemsync_") }.sorted()
        for column in columns {
            let node = columnNodes[column.name]!
            guard let type = schema.columns[column.name] else {
                let help = Suggestion.closest(to: column.name, in: mappable).map { "did you mean '\($0)'?" }
                reader.error(
                    "302", "unknown column '\(column.name)' in table '\(table)'", at: node,
                    notes: ["table '\(table)' has columns: \(mappable.joined(separator: ", "))"], help: help)
                continue
            }
            if !Self.compatible(column.coercion.type, type) {
                reader.error(
                    "305", "column '\(column.name)' is \(type) in table '\(table)', but the mapping makes it \(column.coercion.type)",
                    at: node, help: "set type: \(type)")
            }
        }
        let keyNames = key.map(\.0)
        if !keyNames.isEmpty, keyNames.allSatisfy({ schema.columns[$0] != nil }), !schema.hasUniqueKey(keyNames) {
            reader.error(
                "304", "(\(keyNames.joined(separator: ", "))) is not a primary or unique key of table '\(table)'",
                at: key[0].1, notes: ["unique keys: " + schema.uniqueKeys.map { "(\($0.joined(separator: ", ")))" }.joined(separator: ", ")],
                help: "an upsert needs a unique constraint on the natural key")
        }
    }

    /// A value of the mapping's type may be stored in a column of the schema's type.
    static func compatible(_ mapped: ColumnType, _ stored: ColumnType) -> Bool {
        mapped == stored || (mapped == .int && stored == .decimal)
    }
}
