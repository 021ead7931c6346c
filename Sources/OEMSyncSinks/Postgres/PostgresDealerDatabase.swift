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

    /// - Parameters:
    ///   - url: a `postgresql://` URL or libpq connection string (without the password).
    ///   - password: from the environment or a credential file, passed to libpq separately.
    ///   - schema: the schema to work in (created by ``migrate()``); nil for the user's default.
    ///   - displayName: how to name this database in messages.
    public init(url: String, password: String?, schema: String?, displayName: String) throws(SinkError) {
        self.displayName = displayName
        self.schema = schema
        connection = try PostgresConnection(url: url, password: password)
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

    // MARK: Writing

    public func commit(_ chunks: any BatchChunks, to table: TargetTable, context c: BatchContext) throws(SinkError)
        -> BatchReceipt
    {
        let upsert = try upsertStatement(for: table)
        try connection.execute("BEGIN", code: .write)
        do throws(SinkError) {
            // The ledger entry is opened first (the rows' provenance needs its id) and closed with the
            // batch's figures at the end, in the same transaction.
            let id = try connection.query(
                """
                INSERT INTO oemsync_batches (feed, source, source_ref, position_start, position_end, records_in, written,
                    rejected, warnings, status, mapping, mapping_version, dictionary_version, started_at, finished_at,
                    credentials, message_id)
                VALUES ($1, $2, $3, $4, $4, 0, 0, 0, 0, 'ok', $5, $6, $7, $8, clock_timestamp(), $9, $10)
                RETURNING id
                """,
                [
                    c.feed, c.source, c.sourceRef, c.positionStart, c.mapping, c.mappingVersion, c.dictionaryVersion,
                    c.startedAt.description, c.credentials, c.messageID,
                ],
                code: .write)
            guard let idText = id.first?[0] ?? nil, let batchID = Int64(idText) else {
                throw SinkError(.write, "ledger insert returned no id")
            }
            var receipt = BatchReceipt(batchID: batchID, inserted: 0, updated: 0, unchanged: 0)
            var totals = BatchTotals()
            // The staging table empties itself at commit (ON COMMIT DELETE ROWS); between the chunks
            // of one batch it is emptied here. A one-chunk batch (a REST page) saves that round trip.
            var staged = false
            while let chunk = chunks.next() {
                try chunk.checkConserved(feed: c.feed)
                if !chunk.rows.isEmpty {
                    if staged { try connection.execute(upsert.clear, code: .write) }
                    try connection.copyIn(upsert.copy, data: chunk.encodedRows ?? Self.encode(chunk.rows))
                    let counts = try connection.query(upsert.upsert, [String(batchID)], code: .write)
                    let inserted = Int(counts.first?[0] ?? "0") ?? 0
                    let updated = Int(counts.first?[1] ?? "0") ?? 0
                    receipt.inserted += inserted
                    receipt.updated += updated
                    receipt.unchanged += chunk.rows.count - inserted - updated
                    staged = true
                }
                try copyRejects(chunk.rejects, batchID: batchID, context: c)
                try copyWarnings(chunk.warnings, batchID: batchID, context: c)
                totals.add(chunk)
            }
            guard let end = chunks.end else { throw SinkError(.abandoned, "the source stopped before the batch ended; rolled back") }
            let figures: [String?] = [
                String(totals.recordsIn), String(totals.written), String(totals.superseded), String(totals.rejected),
                String(totals.warnings), totals.status(end), String(receipt.inserted), String(receipt.updated), String(receipt.unchanged),
                end.positionEnd, String(end.requests), String(end.duplicates), end.notes, end.failure?.message, String(batchID),
            ]
            _ = try connection.command(
                """
                UPDATE oemsync_batches SET records_in = $1, written = $2, superseded = $3, rejected = $4, warnings = $5,
                    status = $6, inserted = $7, updated = $8, unchanged = $9, position_end = $10, finished_at = clock_timestamp(),
                    requests = $11, duplicates = $12, notes = $13, error = $14
                WHERE id = $15
                """, figures, code: .write)
            if let f = end.failure {
                // bytea in hex input form: the body goes in as a bound parameter like any other value.
                let hex = f.body.map(Self.byteaHex)
                _ = try connection.command(
                    "INSERT INTO oemsync_payloads (batch_id, feed, request, status, content_type, body) VALUES ($1, $2, $3, $4, $5, $6::bytea)",
                    [String(batchID), c.feed, f.request, f.status.map(String.init), f.contentType, hex], code: .write)
            }
            var moved = 1
            if let after = end.checkpointAfter {
                if let before = c.checkpointBefore {
                    moved = try connection.command(
                        "UPDATE oemsync_checkpoints SET position = $1, batch_id = $2, updated_at = now() WHERE feed = $3 AND position = $4",
                        [after, String(batchID), c.feed, before], code: .checkpoint)
                } else {
                    moved = try connection.command(
                        "INSERT INTO oemsync_checkpoints (feed, position, batch_id, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
                        [c.feed, after, String(batchID)], code: .checkpoint)
                }
            }
            guard moved == 1 else {
                throw SinkError(.checkpoint, "the checkpoint of feed '\(c.feed)' changed underneath this run (another process?); batch rolled back")
            }
            try connection.execute("COMMIT", code: .write)
            return receipt
        } catch {
            try? connection.execute("ROLLBACK")
            var e = error
            e.feed = c.feed
            throw e
        }
    }

    private func copyRejects(_ rejects: [Reject], batchID: Int64, context c: BatchContext) throws(SinkError) {
        guard !rejects.isEmpty else { return }
        var data = CopyEncoder()
        for r in rejects {
            let p = r.primary
            data.appendRow([
                .int(batchID), .string(c.feed), .string(c.source), .int(Int64(r.line)), p.field.map(Value.string) ?? .null,
                .string(p.code), .string(p.message), p.rawValue.map(Value.string) ?? .null,
                .string(ProblemsJSON.encode(r.problems)), .string(r.rawRecord),
            ])
        }
        try connection.copyIn(
            "COPY oemsync_rejects (batch_id, feed, source, line, field, reason, message, raw_value, problems, raw_record) FROM STDIN",
            data: data.bytes)
    }

    private func copyWarnings(_ warnings: [Warning], batchID: Int64, context c: BatchContext) throws(SinkError) {
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
        /// Empties the staging table between the chunks of one batch (it also empties at commit).
        var clear: String
    }

    /// Creates the staging table for `table` (once per connection) and builds its statements.
    private func upsertStatement(for table: TargetTable) throws(SinkError) -> UpsertStatement {
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
        let conflict: String
        if valueColumns.isEmpty {
            conflict = "ON CONFLICT (\(key)) DO NOTHING"
        } else {
            let old = valueColumns.map { "\(target).\($0)" }.joined(separator: ", ")
            let new = valueColumns.map { "EXCLUDED.\($0)" }.joined(separator: ", ")
            conflict = "ON CONFLICT (\(key)) DO UPDATE SET \(sets.joined(separator: ", ")) WHERE ROW(\(old)) IS DISTINCT FROM ROW(\(new))"
        }
        // Without provenance columns $1 is still bound; a no-op filter keeps its type known.
        let guardParam = provenance ? "" : " WHERE $1::bigint IS NOT NULL"
        let upsert = """
            WITH up AS (
                INSERT INTO \(target) (\(insertColumns)) SELECT \(selectColumns) FROM \(stage)\(guardParam)
                \(conflict)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
            """
        let s = UpsertStatement(copy: "COPY \(stage) (\(columns)) FROM STDIN", upsert: upsert, clear: "TRUNCATE \(stage)")
        statements[table] = s
        return s
    }
}
