import OEMSyncCore

/// The canonical field definitions and code tables every mapping of a dealer shares.
///
/// Loaded from `Mappings/dictionary/` by ``DataDictionaryLoader``. A mapping column that names a
/// field (`field: vin`, or implicitly by having the field's name as its target) inherits its type,
/// format, checks and personal-data flag. The `version` is recorded with every batch, so a row can be
/// traced to the dictionary that produced it.
public struct DataDictionary: Sendable {
    public var version: String
    public var fields: [String: FieldDefinition]
    public var codeTables: [String: CodeTable]
    /// Text of every file read, for rendering diagnostics with their source line.
    public var sources: [String: String]

    public init(
        version: String, fields: [String: FieldDefinition] = [:], codeTables: [String: CodeTable] = [:],
        sources: [String: String] = [:]
    ) {
        self.version = version
        self.fields = fields
        self.codeTables = codeTables
        self.sources = sources
    }

    /// A dictionary with nothing in it, for mappings checked on their own.
    public static let empty = DataDictionary(version: "none")
}

/// The canonical definition of one dealer field.
public struct FieldDefinition: Sendable {
    public var name: String
    public var meaning: String
    public var type: ColumnType
    public var checks: ValueChecks
    /// `vin` or `phone`: the field is validated (and normalised) by that validator.
    public var format: FieldFormat?
    /// Personal data (PIPL): masked wherever it could reach a log.
    public var personal: Bool
    /// Decimal places kept for `decimal` fields.
    public var scale: Int?
    public var location: SourceLocation
}

public enum FieldFormat: String, Sendable, CaseIterable {
    case vin
    case phone
}

/// A translation of OEM codes (model, colour, order status) into the dealer's codes.
public struct CodeTable: Sendable {
    public var name: String
    public var meaning: String
    public var codes: [String: String]
    public var location: SourceLocation
}

/// Declarative checks on a mapped value. Each failing check is a `value.*` problem.
public struct ValueChecks: Sendable, Hashable {
    /// Allowed length in characters (strings).
    public var length: ClosedRange<Int>?
    /// Allowed numeric range (int, decimal) or date range (date, datetime, as `YYYY-MM-DD`).
    public var minimum: RangeBound?
    public var maximum: RangeBound?
    /// A regular expression the whole value must match.
    public var pattern: String?
    /// The only values allowed.
    public var allowed: [String]?

    public init(
        length: ClosedRange<Int>? = nil, minimum: RangeBound? = nil, maximum: RangeBound? = nil,
        pattern: String? = nil, allowed: [String]? = nil
    ) {
        self.length = length
        self.minimum = minimum
        self.maximum = maximum
        self.pattern = pattern
        self.allowed = allowed
    }

    /// The mapping's own checks where it has them, the dictionary's otherwise.
    public func overriding(_ base: ValueChecks) -> ValueChecks {
        ValueChecks(
            length: length ?? base.length, minimum: minimum ?? base.minimum, maximum: maximum ?? base.maximum,
            pattern: pattern ?? base.pattern, allowed: allowed ?? base.allowed)
    }
}

public enum RangeBound: Sendable, Hashable, CustomStringConvertible {
    case number(Double)
    case date(CivilDate)

    public var description: String {
        switch self {
        case .number(let n):
            return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .date(let d): return d.description
        }
    }
}
