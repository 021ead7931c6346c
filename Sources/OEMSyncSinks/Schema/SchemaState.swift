import OEMSyncCore

/// Where a database's schema stands against the migrations this binary knows.
public struct SchemaState: Sendable, Codable, Hashable {
    public struct Applied: Sendable, Codable, Hashable {
        public var name: String
        /// ISO 8601, UTC.
        public var appliedAt: String
    }

    /// Applied migrations this binary knows, in order.
    public var applied: [Applied]
    /// Migrations this binary knows that the database has not applied: `oemsync db migrate` applies them.
    public var pending: [String]
    /// Migrations the database has applied that this binary does not know: a newer oemsync
    /// migrated it, and this one must not write into it (its tables may mean something else now).
    public var unknown: [Applied]

    public var isCurrent: Bool { pending.isEmpty && unknown.isEmpty }

    /// The refusal of a binary older than the schema, naming the migrations it does not know.
    public var newerMessage: String? {
        guard !unknown.isEmpty else { return nil }
        return "the database's schema is newer than this oemsync (\(OEMSyncVersion.current)) knows: it has "
            + unknown.map { "\($0.name) (applied \($0.appliedAt))" }.joined(separator: ", ")
            + "; run the oemsync that applied them, or a later one"
    }
}

extension DealerDatabase {
    /// Reads `oemsync_migrations` (none yet: every migration pending).
    public func schemaState() throws(SinkError) -> SchemaState {
        let pending = try pendingMigrations()
        let known = Set(Migration.all.map(\.name))
        guard pending.count < Migration.all.count else { return SchemaState(applied: [], pending: pending, unknown: []) }
        let rows = try select("SELECT name, \(Ledger(self).time("applied_at")) FROM oemsync_migrations ORDER BY name", [])
        var applied: [SchemaState.Applied] = []
        var unknown: [SchemaState.Applied] = []
        for r in rows {
            guard let name = r[0] else { continue }
            let entry = SchemaState.Applied(name: name, appliedAt: r[1] ?? "")
            if known.contains(name) { applied.append(entry) } else { unknown.append(entry) }
        }
        let order = Dictionary(uniqueKeysWithValues: Migration.all.enumerated().map { ($1.name, $0) })
        applied.sort { (order[$0.name] ?? 0) < (order[$1.name] ?? 0) }
        return SchemaState(applied: applied, pending: pending, unknown: unknown)
    }
}
