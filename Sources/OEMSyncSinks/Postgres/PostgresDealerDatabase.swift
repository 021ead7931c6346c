import Foundation
import OEMSyncCore

/// The dealer database on PostgreSQL, through libpq.
///
/// A batch is written with `COPY` into a session-private staging table (`ON COMMIT DELETE ROWS`),
/// then one `INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE (old) IS DISTINCT FROM (new)`:
/// the server's own bulk path, and unchanged rows are not rewritten. Rejects and warnings go in by
/// `COPY` too. All of it, with the ledger row and the checkpoint, in one transaction.
public final class PostgresDealerDatabase: DealerDatabase, @unchecked Sendable {
    public let dialect = SQLDialect.postgres
    public let displayName: String
    let connection: PostgresConnection
    let schema: String?
    private var statements: [TargetTable: UpsertStatement] = [:]
    /// Whether the staging table may hold rows of this transaction (it empties at commit).
    var staged = false

    /// - Parameters:
    ///   - url: a `postgresql://` URL or libpq connection string (without the password).
    ///   - password: from the environment or a credential file, passed to libpq separately.
    ///   - schema: the schema to work in (created by ``migrate()``); nil for the user's default.
    ///   - displayName: how to name this database in messages.
    ///   - limits: the connect, statement and keepalive bounds.
    public init(url: String, password: String?, schema: String?, displayName: String, limits: DatabaseLimits = DatabaseLimits()) throws(SinkError) {
        self.displayName = displayName
        self.schema = schema
        connection = try PostgresConnection(url: url, password: password, limits: limits)
        if let schema {
            try connection.execute("SET search_path TO \(SQLIdentifier.quote(schema))", code: .connect)
        }
    }

    // MARK: Migrations

    public func migrate() throws(SinkError) -> [String] {
        if let schema { try connection.execute("CREATE SCHEMA IF NOT EXISTS \(SQLIdentifier.quote(schema))", code: .migrate) }
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS oemsync_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)", code: .migrate)
        var applied: [String] = []
        for migration in Migration.all {
            try connection.execute("BEGIN", code: .migrate)
            do {
                // Serialise concurrent `oemsync db migrate` runs on the same database.
                try connection.execute("LOCK TABLE oemsync_migrations IN EXCLUSIVE MODE", code: .migrate)
                if try connection.query("SELECT 1 FROM oemsync_migrations WHERE name = $1", [migration.name]).isEmpty {
                    try connection.execute(migration.postgres, code: .migrate)
                    try connection.command("INSERT INTO oemsync_migrations (name, applied_at) VALUES ($1, now())", [migration.name])
                    applied.append(migration.name)
                }
                try connection.execute("COMMIT", code: .migrate)
            } catch {
                try? connection.execute("ROLLBACK")
                throw SinkError(.migrate, "migration \(migration.name) failed: \(error.message)", databaseCode: error.databaseCode)
            }
        }
        return applied
    }

    public func pendingMigrations() throws(SinkError) -> [String] {
        let exists = try connection.query("SELECT to_regclass('oemsync_migrations') IS NOT NULL")
        guard exists.first?[0] == "t" else { return Migration.all.map(\.name) }
        let done = Set(try connection.query("SELECT name FROM oemsync_migrations").compactMap { $0[0] })
        return Migration.all.map(\.name).filter { !done.contains($0) }
    }

    // MARK: Schema

    public func catalog() throws(SinkError) -> SchemaCatalog {
        var columns: [String: [String: ColumnType]] = [:]
        for row in try connection.query(
            """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name NOT LIKE 'oemsync\\_%'
            """)
        {
            guard let t = row[0], let c = row[1], let type = row[2] else { continue }
            columns[t, default: [:]][c] = DeclaredType.columnType(postgres: type)
        }
        var unique: [String: [[String]]] = [:]
        for row in try connection.query(
            """
            SELECT t.relname, array_to_string(array_agg(a.attname ORDER BY k.ord), ',')
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE n.nspname = current_schema() AND i.indisunique AND i.indpred IS NULL
            GROUP BY t.relname, i.indexrelid
            """)
        {
            guard let t = row[0], let cols = row[1] else { continue }
            unique[t, default: []].append(cols.split(separator: ",").map(String.init))
        }
        let tables = columns.map { TableSchema(name: $0.key, columns: $0.value, uniqueKeys: unique[$0.key] ?? []) }
        return SchemaCatalog(tables: tables, origin: "the database \(displayName)")
    }

    // MARK: Checkpoints

    public func checkpoint(feed: String) throws(SinkError) -> String? {
        try connection.query("SELECT position FROM oemsync_checkpoints WHERE feed = $1", [feed]).first?[0] ?? nil
    }

    public func requestsUsed(credentials: String, since: Timestamp) throws(SinkError) -> Int {
        let rows = try connection.query(
            "SELECT coalesce(sum(requests), 0) FROM oemsync_batches WHERE credentials = $1 AND started_at >= $2::timestamptz",
            [credentials, since.description])
        return Int(rows.first?[0] ?? "0") ?? 0
    }

    // MARK: Ledger queries

    public func select(_ sql: String, _ values: [Value]) throws(SinkError) -> [[String?]] {
        try connection.query(Self.numbered(sql), values.map(\.text))
    }

    public func transaction(_ statements: [(sql: String, values: [Value])]) throws(SinkError) -> [Int] {
        try connection.execute("BEGIN", code: .write)
        do throws(SinkError) {
            var changed: [Int] = []
            for s in statements { changed.append(try connection.command(Self.numbered(s.sql), s.values.map(\.text), code: .write)) }
            try connection.execute("COMMIT", code: .write)
            return changed
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    func forgetStagingTables() { statements.removeAll() }

    /// `?` placeholders as PostgreSQL's `$1`, `$2`, ... (the ledger's SQL has no `?` in literals).
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        for c in sql {
            if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    // MARK: Writing

    public func commit(_ chunks: any BatchChunks, to table: TargetTable, context c: BatchContext) throws(SinkError)
        -> BatchReceipt
    {
        try commitBatch(chunks, to: table, context: c)
    }

    func copyRejects(_ rejects: [Reject], batchID: Int64, context c: BatchContext) throws(SinkError) {
        guard !rejects.isEmpty else { return }
        var data = CopyEncoder()
        for r in rejects {
            let p = r.primary
            data.appendRow([
                .int(batchID), .string(c.feed), .string(c.source), .int(Int64(r.line)), p.field.map(Value.string) ?? .null,
                .string(p.code), .string(p.message), p.rawValue.map(Value.string) ?? .null,
                .string(ProblemsJSON.encode(r.problems)), .string(r.rawRecord), .int(Int64(r.attempts)),
            ])
        }
        try connection.copyIn(
            "COPY oemsync_rejects (batch_id, feed, source, line, field, reason, message, raw_value, problems, raw_record, attempts) FROM STDIN",
            data: data.bytes)
    }

    func copyWarnings(_ warnings: [Warning], batchID: Int64, context c: BatchContext) throws(SinkError) {
        guard !warnings.isEmpty else { return }
        var data = CopyEncoder()
        for w in warnings {
            let p = w.problem
            data.appendRow([
                .int(batchID), .string(c.feed), .string(c.source), .int(Int64(w.line)), p.field.map(Value.string) ?? .null,
                .string(p.code), .string(p.message), p.rawValue.map(Value.string) ?? .null, .string(w.action),
            ])
        }
        try connection.copyIn(
            "COPY oemsync_warnings (batch_id, feed, source, line, field, reason, message, raw_value, action) FROM STDIN",
            data: data.bytes)
    }

    /// `\\x0a1b...`: bytea's hex input form.
    static func byteaHex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(2 + bytes.count * 2)
        out += [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func prepare(_ batch: inout MappedBatch) {
        batch.encodedRows = Self.encode(batch.rows)
    }

    static func encode(_ rows: [[Value]]) -> [UInt8] {
        var encoder = CopyEncoder(capacity: rows.count * 128)
        for row in rows { encoder.appendRow(row) }
        return encoder.bytes
    }

    struct UpsertStatement {
        var copy: String
        var upsert: String
        /// For replays: rows a later batch wrote ($2 is the replayed batch) are left as they are.
        var replayUpsert: String
        /// Counts the staged rows a later batch than $1 wrote (nil without provenance columns).
        var newer: String?
        /// Empties the staging table between the chunks of one batch (it also empties at commit).
        var clear: String
    }

    /// Creates the staging table for `table` (once per connection) and builds its statements.
    func upsertStatement(for table: TargetTable) throws(SinkError) -> UpsertStatement {
        if let s = statements[table] { return s }
        let q = SQLIdentifier.quote
        let target = q(table.name)
        let stage = q("oemsync_stage_" + table.name)
        let columns = table.columns.map { q($0.name) }.joined(separator: ", ")
        let provenance = SQLIdentifier.hasProvenance(try catalog().tables[table.name])
        try connection.execute(
            "CREATE TEMP TABLE IF NOT EXISTS \(stage) ON COMMIT DELETE ROWS AS SELECT \(columns) FROM \(target) WITH NO DATA",
            code: .schema)
        let valueColumns = table.valueIndexes.map { q(table.columns[$0].name) }
        var insertColumns = columns
        var selectColumns = columns
        var sets = valueColumns.map { "\($0) = EXCLUDED.\($0)" }
        if provenance {
            insertColumns += ", \(q(SQLIdentifier.batchColumn)), \(q(SQLIdentifier.syncedColumn))"
            selectColumns += ", $1::bigint, now()"
            sets += [q(SQLIdentifier.batchColumn), q(SQLIdentifier.syncedColumn)].map { "\($0) = EXCLUDED.\($0)" }
        }
        let key = table.keyColumns.map { q($0.name) }.joined(separator: ", ")
        // The origin of the batch that last wrote a row: a replay counts as the batch it replays.
        let owner = "(SELECT coalesce(o.replay_of, o.id) FROM oemsync_batches o WHERE o.id = \(target).\(q(SQLIdentifier.batchColumn)))"
        func conflict(replay: Bool) -> String {
            if valueColumns.isEmpty { return "ON CONFLICT (\(key)) DO NOTHING" }
            let old = valueColumns.map { "\(target).\($0)" }.joined(separator: ", ")
            let new = valueColumns.map { "EXCLUDED.\($0)" }.joined(separator: ", ")
            let newer = replay && provenance ? " AND (\(owner) IS NULL OR \(owner) <= $2::bigint)" : ""
            return "ON CONFLICT (\(key)) DO UPDATE SET \(sets.joined(separator: ", ")) WHERE ROW(\(old)) IS DISTINCT FROM ROW(\(new))\(newer)"
        }
        // Without provenance columns $1 is still bound; a no-op filter keeps its type known.
        let guardParam = provenance ? "" : " WHERE $1::bigint IS NOT NULL"
        func upsert(replay: Bool) -> String {
            // A replay without provenance has no $2 to compare with; bind it anyway, typed.
            let replayParam = replay && (!provenance || valueColumns.isEmpty) ? (provenance ? " WHERE $2::bigint IS NOT NULL" : " AND $2::bigint IS NOT NULL") : ""
            return """
                WITH up AS (
                    INSERT INTO \(target) (\(insertColumns)) SELECT \(selectColumns) FROM \(stage)\(guardParam)\(replayParam)
                    \(conflict(replay: replay))
                    RETURNING (xmax = 0) AS inserted
                )
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
                """
        }
        let join = table.keyColumns.map { "\(target).\(q($0.name)) = s.\(q($0.name))" }.joined(separator: " AND ")
        let s = UpsertStatement(
            copy: "COPY \(stage) (\(columns)) FROM STDIN", upsert: upsert(replay: false), replayUpsert: upsert(replay: true),
            newer: provenance ? "SELECT count(*) FROM \(stage) s JOIN \(target) ON \(join) WHERE \(owner) > $1::bigint" : nil,
            clear: "TRUNCATE \(stage)")
        statements[table] = s
        return s
    }
}
