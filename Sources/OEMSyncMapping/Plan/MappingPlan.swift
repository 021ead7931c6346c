import OEMSyncCore

/// A compiled mapping: immutable, checked, and cheap to apply to millions of records.
///
/// Built by ``MappingCompiler`` from a `Mappings/*.yaml` file. Every identifier in it (table, columns,
/// key) was checked to be a plain lowercase name and, when a schema was given, to exist there.
public struct MappingPlan: Sendable {
    /// The file as shown in diagnostics and recorded in the ledger.
    public var file: String
    public var name: String
    /// The mapping's own revision (`version:`), recorded with every batch it produced.
    public var version: String
    public var dictionaryVersion: String
    public var source: SourceSpec
    public var table: String
    public var key: [String]
    public var columns: [ColumnPlan]

    /// The sink's view: table, columns in row order, key indexes.
    public var targetTable: TargetTable {
        TargetTable(
            name: table, columns: columns.map { TargetTable.Column(name: $0.name, type: $0.coercion.type) },
            keyIndexes: key.compactMap { k in columns.firstIndex { $0.name == k } })
    }

    /// Columns holding personal data (phones, names, ID numbers): masked in anything that could be logged.
    public var personalColumns: Set<String> { Set(columns.filter(\.personal).map(\.name)) }
}

/// Where and how the records are read.
public struct SourceSpec: Sendable, Hashable {
    public enum Format: String, Sendable, CaseIterable {
        case csv
        /// JSON payloads (REST responses, JSON files): records at a path, fields by path.
        case json
        /// XML payloads (SOAP responses, STAR documents): records at an element path, fields by
        /// namespace-aware paths, prefixes bound in `namespaces:`.
        case xml
    }

    public var format: Format
    /// CSV: whether the first row names the columns (then `source:` names a header), default true.
    public var header: Bool
    public var delimiter: UInt8
    public var encoding: TextEncoding
    /// JSON: where the records are in each payload (`$.data.list[*]`).
    public var records: JSONPath?
    /// XML: the records' element path from the document root, and the prefixes the paths use.
    public var xmlRecords: XMLPath?
    public var namespaces: [String: String] = [:]

    public init(
        format: Format = .csv, header: Bool = true, delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .auto,
        records: JSONPath? = nil
    ) {
        self.format = format
        self.header = header
        self.delimiter = delimiter
        self.encoding = encoding
        self.records = records
    }

    /// How many `[*]` the records path has: a field path may reach up (`^`) one fewer levels.
    public var recordsDepth: Int { records?.segments.filter { $0 == .wildcard }.count ?? 0 }
}

/// One target column: where its value comes from and everything done to it. A class, so that the
/// per-record loop shares it instead of copying its many fields for every value.
public final class ColumnPlan: Sendable {
    public enum Input: Sendable, Hashable {
        /// One source field.
        case field(FieldReference)
        /// Several fields joined by a separator (empty parts skipped); `join:` in the mapping.
        case concat([FieldReference], separator: String)
        /// A constant (`value:`), e.g. the OEM code of a feed.
        case constant(String)
    }

    /// What to do with a value that fails a check: the record, the column, or the default.
    public enum OnError: String, Sendable, CaseIterable {
        /// The whole record goes to the rejects (the default).
        case reject
        /// The column is written as null and a warning is stored.
        case null
        /// The column's `default` is written and a warning is stored.
        case `default`
    }

    public enum Validator: Sendable, Hashable {
        case vin(VINValidator)
        case phone(PhoneValidator)
    }

    public struct Lookup: Sendable {
        public enum OnMissing: String, Sendable, CaseIterable {
            /// An unknown code is a `lookup.missing` problem, handled by the column's `on_error`.
            case reject
            /// An unknown code is written as it came (the OEM code) with a warning.
            case keep
        }
        public var table: String
        public var codes: [String: String]
        public var onMissing: OnMissing
    }

    public let name: String
    public let input: Input
    public let transforms: [Transform]
    public let defaultValue: Value?
    public let required: Bool
    public let lookup: Lookup?
    public let validator: Validator?
    public let coercion: Coercion
    public let checks: ValueChecks
    let pattern: ValuePattern?
    public let onError: OnError
    public let personal: Bool
    /// Where the column is defined, for "while applying ..." context.
    public let location: SourceLocation

    init(
        name: String, input: Input, transforms: [Transform], defaultValue: Value?, required: Bool, lookup: Lookup?,
        validator: Validator?, coercion: Coercion, checks: ValueChecks, pattern: ValuePattern?, onError: OnError, personal: Bool,
        location: SourceLocation
    ) {
        self.name = name
        self.input = input
        self.transforms = transforms
        self.defaultValue = defaultValue
        self.required = required
        self.lookup = lookup
        self.validator = validator
        self.coercion = coercion
        self.checks = checks
        self.pattern = pattern
        self.onError = onError
        self.personal = personal
        self.location = location
    }
}

/// A reference to a field of the source record.
public enum FieldReference: Sendable, Hashable, CustomStringConvertible {
    /// A CSV header name.
    case header(String)
    /// A 0-based column index (written 1-based in mapping files).
    case index(Int)
    /// A JSON path, relative to the record, the document root (`$`) or an enclosing record (`^`);
    /// the values of a `[*]` path are joined by `join`.
    case path(JSONPath, join: String)
    /// An XML path relative to the record (`star:Vehicle/star:VehicleID`, `@currencyID`); the
    /// values of a repeated element are joined by `join`.
    case xml(XMLPath, join: String)

    public var description: String {
        switch self {
        case .header(let h): return "'\(h)'"
        case .index(let i): return "column \(i + 1)"
        case .path(let p, _): return "'\(p.text)'"
        case .xml(let p, _): return "'\(p.text)'"
        }
    }
}
