/// One record as a source delivers it, before mapping: its fields and where it came from.
///
/// A CSV source fills `fields` in column order. A record the source could not read (undecodable
/// bytes, wrong number of columns, an unterminated quote) carries `problem` instead, and the mapping
/// stage turns it into a reject with the same line: it is never dropped.
public struct RawRecord: Sendable {
    /// 1-based line in the source file where the record starts (a quoted newline makes records
    /// span lines), or the record's index for sources without lines.
    public var line: Int
    public var fields: [String]
    public var problem: RecordProblem?

    public init(line: Int, fields: [String], problem: RecordProblem? = nil) {
        self.line = line
        self.fields = fields
        self.problem = problem
    }
}

/// Why one field, or a whole record, could not be used.
///
/// `code` is a stable reason code (`vin.check_digit`, `csv.columns`, `type.date`, ...). `message` is
/// for humans and never contains the raw value: personal data (a phone, a name) must not reach logs,
/// so the raw value travels separately in `rawValue` and is only stored in the database.
public struct RecordProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    /// The target column the problem is about, nil for whole-record problems.
    public var field: String?
    /// The offending field exactly as read from the source (before transforms), for the rejects
    /// table and `oemsync map`.
    public var rawValue: String?

    public init(code: String, message: String, field: String? = nil, rawValue: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.rawValue = rawValue
    }

    public var description: String {
        if let field { return "\(field): \(code): \(message)" }
        return "\(code): \(message)"
    }
}
