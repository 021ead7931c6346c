/// The result of mapping one batch of raw records: rows for the target table, rejects, warnings.
///
/// The conservation law holds for every batch and is checked before it is written:
/// `recordsIn == rows.count + superseded + rejects.count`.
public struct MappedBatch: Sendable {
    /// Rows in target-column order, at most one per natural key (the last occurrence wins).
    public var rows: [[Value]]
    /// The source line of each row, parallel to `rows`.
    public var rowLines: [Int]
    /// Records whose key occurred again later in the same batch: applied, then overwritten by the
    /// later record, exactly as sequential upserts would. Counted as written.
    public var superseded: Int
    public var rejects: [Reject]
    public var warnings: [Warning]
    public var recordsIn: Int
    /// The rows already encoded for the sink's bulk path (PostgreSQL `COPY` text), when the sink
    /// asked for it: done on the mapping thread, so the database never waits for the encoding.
    public var encodedRows: [UInt8]?

    public init(
        rows: [[Value]] = [], rowLines: [Int] = [], superseded: Int = 0, rejects: [Reject] = [],
        warnings: [Warning] = [], recordsIn: Int = 0
    ) {
        self.rows = rows
        self.rowLines = rowLines
        self.superseded = superseded
        self.rejects = rejects
        self.warnings = warnings
        self.recordsIn = recordsIn
    }

    /// Records accepted: rows plus superseded duplicates.
    public var written: Int { rows.count + superseded }

    public var isConserved: Bool { recordsIn == written + rejects.count }
}

/// A record that was not written, with every problem found in it.
public struct Reject: Sendable, Hashable {
    public var line: Int
    public var problems: [RecordProblem]
    /// The record's fields as read (JSON array of strings), kept so it can be replayed.
    public var rawRecord: String
    /// How many replays rejected this record before (0 for a first reject): past a limit,
    /// `oemsync replay` flags it instead of trying again.
    public var attempts: Int

    public init(line: Int, problems: [RecordProblem], rawRecord: String, attempts: Int = 0) {
        self.line = line
        self.problems = problems
        self.rawRecord = rawRecord
        self.attempts = attempts
    }

    /// The first problem: what `oemsync sync` and the rejects table lead with.
    public var primary: RecordProblem { problems[0] }
}

/// A value that was nulled, defaulted or kept with a doubt; the record was written.
public struct Warning: Sendable, Hashable {
    public var line: Int
    public var problem: RecordProblem
    /// What was written: `null`, `default`, or `kept` (the value as it came, e.g. an unknown code
    /// with `on_missing: keep`, an advisory VIN).
    public var action: String

    public init(line: Int, problem: RecordProblem, action: String) {
        self.line = line
        self.problem = problem
        self.action = action
    }
}
