/// The SQL dialects oemsync writes.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A named schema change, applied once and recorded in `oemsync_migrations`.
///
/// Released migrations are never edited: a change to the schema is a new migration with a new name.
/// Each carries its SQL for both dialects, written out literally (no generated DDL that could
/// drift when code changes).
public struct Migration: Sendable {
    public var name: String
    public var sqlite: String
    public var postgres: String

    public func sql(for dialect: SQLDialect) -> String {
        dialect == .sqlite ? sqlite : postgres
    }

    /// Every migration, in the order they apply.
    public static let all: [Migration] = [ledger, referenceDealerSchema, httpSources, replay, daemon, durability]
}
