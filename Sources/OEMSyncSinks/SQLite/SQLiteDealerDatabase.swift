import Foundation
import OEMSyncCore

/// The embedded dealer database: one SQLite file in WAL mode.
///
/// Upserts are two prepared statements per row: `INSERT ... ON CONFLICT DO NOTHING`, and if the key
/// exists, an `UPDATE` guarded by `IS NOT` on every value column, so an unchanged row is neither
/// rewritten nor counted as updated.
public final class SQLiteDealerDatabase: DealerDatabase, @unchecked Sendable {
    public let dialect = SQLDialect.sqlite
    public let displayName: String
    let connection: SQLiteConnection
    private var writers: [TargetTable: TableWriter] = [:]
    private var ledger: LedgerStatements?
    /// Formatted once per batch: every row of a batch carries the same sync time.
    var syncedAt = Value.null

    /// Opens (creating if needed) the database file, in WAL mode with `synchronous=FULL`: a crash
    /// of the process or the machine never corrupts it, never splits a batch from its checkpoint, and
    /// never loses a commit (NORMAL, SQLite's usual choice for WAL, may lose the last commits in a
    /// power loss, after their files were archived).
    public init(path: String, limits: DatabaseLimits = DatabaseLimits()) throws(SinkError) {
        displayName = path
        if path != ":memory:" {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
                try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
        }
        connection = try SQLiteConnection(path: path, busyTimeout: limits.busyTimeout)
        // WAL + synchronous=FULL: every commit is on disk before it returns. An 8 MiB page
        // cache and checkpoints every ~40 MiB of WAL keep random key inserts from rewriting the same
        // index pages over and over (measured by `make bench`).
        try connection.execute(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=10000;",
            code: .connect)
    }

    // MARK: Migrations

    public func migrate() throws(SinkError) -> [String] {
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS oemsync_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)", code: .migrate)
        var applied: [String] = []
        for migration in Migration.all where try !isApplied(migration.name) {
            try connection.execute("BEGIN IMMEDIATE", code: .migrate)
            do {
                try connection.execute(migration.sqlite, code: .migrate)
                let insert = try connection.prepare("INSERT INTO oemsync_migrations (name, applied_at) VALUES (?, ?)")
                try insert.bind([.string(migration.name), .datetime(.now())])
                try insert.step()
                try connection.execute("COMMIT", code: .migrate)
            } catch {
                try? connection.execute("ROLLBACK")
                throw SinkError(.migrate, "migration \(migration.name) failed: \(error.message)", databaseCode: error.databaseCode)
            }
            applied.append(migration.name)
        }
        return applied
    }

    public func pendingMigrations() throws(SinkError) -> [String] {
        let exists = try connection.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='oemsync_migrations'")
        guard !exists.isEmpty else { return Migration.all.map(\.name) }
        var pending: [String] = []
        for m in Migration.all where try !isApplied(m.name) { pending.append(m.name) }
        return pending
    }

    private func isApplied(_ name: String) throws(SinkError) -> Bool {
        try !connection.query("SELECT 1 FROM oemsync_migrations WHERE name = ?", [.string(name)]).isEmpty
    }

    // MARK: Schema

    public func catalog() throws(SinkError) -> SchemaCatalog {
        let names = try connection.query(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'oemsync_%' ORDER BY name")
        var tables: [TableSchema] = []
        for row in names {
            guard let name = row[0], Self.isPlainName(name) else { continue }
            var columns: [String: ColumnType] = [:]
            var primaryKey: [(Int, String)] = []
            for c in try connection.query("SELECT name, type, pk FROM pragma_table_info(?)", [.string(name)]) {
                guard let column = c[0] else { continue }
                columns[column] = DeclaredType.columnType(sqlite: c[1] ?? "")
                if let pk = c[2].flatMap(Int.init), pk > 0 { primaryKey.append((pk, column)) }
            }
            var unique: [[String]] = []
            if !primaryKey.isEmpty { unique.append(primaryKey.sorted { $0.0 < $1.0 }.map(\.1)) }
            for index in try connection.query("SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND partial = 0", [.string(name)]) {
                guard let indexName = index[0] else { continue }
                let cols = try connection.query("SELECT name FROM pragma_index_info(?) ORDER BY seqno", [.string(indexName)]).compactMap { $0[0] }
                if !unique.contains(cols) { unique.append(cols) }
            }
            tables.append(TableSchema(name: name, columns: columns, uniqueKeys: unique))
        }
        return SchemaCatalog(tables: tables, origin: "the database \(displayName)")
    }

    static func isPlainName(_ name: String) -> Bool {
        name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    // MARK: Checkpoints

    public func checkpoint(feed: String) throws(SinkError) -> String? {
        try connection.query("SELECT position FROM oemsync_checkpoints WHERE feed = ?", [.string(feed)]).first?[0] ?? nil
    }

    public func requestsUsed(credentials: String, since: Timestamp) throws(SinkError) -> Int {
        let rows = try connection.query(
            "SELECT coalesce(sum(requests), 0) FROM oemsync_batches WHERE credentials = ? AND julianday(started_at) >= julianday(?)",
            [.string(credentials), .string(since.description)])
        return Int(rows.first?[0] ?? "0") ?? 0
    }

    // MARK: Ledger queries

    public func select(_ sql: String, _ values: [Value]) throws(SinkError) -> [[String?]] {
        try connection.query(sql, values)
    }

    public func transaction(_ statements: [(sql: String, values: [Value])]) throws(SinkError) -> [Int] {
        try connection.execute("BEGIN IMMEDIATE", code: .write)
        do throws(SinkError) {
            var changed: [Int] = []
            for s in statements {
                let statement = try connection.prepare(s.sql)
                try statement.bind(s.values)
                try statement.step()
                changed.append(connection.changes)
            }
            try connection.execute("COMMIT", code: .write)
            return changed
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Writing

    public func commit(_ chunks: any BatchChunks, to table: TargetTable, context: BatchContext) throws(SinkError)
        -> BatchReceipt
    {
        try commitBatch(chunks, to: table, context: context)
    }

    func tableWriter(for table: TargetTable) throws(SinkError) -> TableWriter {
        if let w = writers[table] { return w }
        let schema = try catalog().tables[table.name]
        let w = try TableWriter(connection: connection, table: table, provenance: SQLIdentifier.hasProvenance(schema))
        writers[table] = w
        return w
    }

    func ledgerStatements() throws(SinkError) -> LedgerStatements {
        if let ledger { return ledger }
        let l = try LedgerStatements(connection: connection)
        ledger = l
        return l
    }
}
