import Foundation
import OEMSyncCore
import OEMSyncSinks

/// A real dealer database for one test: a SQLite file in a temp folder, or a fresh schema in the
/// PostgreSQL cluster `make test` starts (`OEMSYNC_TEST_PG_URL`).
///
/// When `CI` is set and the PostgreSQL URL is missing, opening the PostgreSQL backend fails: the
/// tests fail, they never skip.
public final class TestDatabase: @unchecked Sendable {
    public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
        case sqlite
        case postgres
        public var description: String { rawValue }
    }

    /// The backends every sink test runs against: SQLite always; PostgreSQL when `make test`
    /// provides it, and always under CI (where a missing database is then a failure).
    public static var backends: [Backend] {
        let env = ProcessInfo.processInfo.environment
        return env["OEMSYNC_TEST_PG_URL"] != nil || env["CI"] != nil ? [.sqlite, .postgres] : [.sqlite]
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public let backend: Backend
    public let database: any DealerDatabase
    /// Where the data lives, for a config file: `sqlite:PATH`, or a `postgresql://` URL.
    public let url: String
    /// The PostgreSQL schema of this test.
    public let schema: String?
    private let directory: TemporaryDirectory
    private let reader: Reader

    enum Reader {
        case sqlite(SQLiteConnection)
        case postgres(PostgresConnection)
    }

    /// Opens a fresh, migrated database.
    public init(_ backend: Backend, migrate: Bool = true) throws {
        self.backend = backend
        directory = try TemporaryDirectory("db")
        switch backend {
        case .sqlite:
            let path = directory.file("dealer.db")
            database = try SQLiteDealerDatabase(path: path)
            url = "sqlite:" + path
            schema = nil
            reader = .sqlite(try SQLiteConnection(path: path))
        case .postgres:
            guard let conninfo = ProcessInfo.processInfo.environment["OEMSYNC_TEST_PG_URL"] else {
                throw Unavailable(description: "OEMSYNC_TEST_PG_URL is not set: run the tests with `make test`, which starts PostgreSQL")
            }
            let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            schema = String(name)
            let admin = try PostgresConnection(url: conninfo, password: nil)
            try admin.execute("CREATE SCHEMA \(name)")
            database = try PostgresDealerDatabase(url: conninfo, password: nil, schema: String(name), displayName: "test \(name)")
            url = Self.postgresURL(conninfo)
            try admin.execute("SET search_path TO \(name)")
            reader = .postgres(admin)
        }
        if migrate { _ = try database.migrate() }
    }

    /// The start of a config file for this database, with the repository's dictionary:
    /// `oemsync: 1`, `database:` (url and schema) and `dictionary:`, each on its own line.
    public var configPrologue: String {
        var yaml = "oemsync: 1\ndatabase:\n  url: \"\(url)\"\n"
        if let schema { yaml += "  schema: \(schema)\n" }
        return yaml + "dictionary: \(Fixture.repository("Mappings/dictionary"))\n"
    }

    /// `host=/tmp/x port=5 user=u dbname=d` -> `postgresql://u@/d?host=/tmp/x&port=5`.
    public static func postgresURL(_ conninfo: String) -> String {
        var parts: [String: String] = [:]
        for item in conninfo.split(separator: " ") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2 { parts[kv[0]] = kv[1] }
        }
        return "postgresql://\(parts["user"] ?? "postgres")@/\(parts["dbname"] ?? "postgres")?host=\(parts["host"] ?? "/tmp")&port=\(parts["port"] ?? "5432")"
    }

    /// Rows of a query on a SQLite file a child process writes, on a connection of the test's own.
    public static func sqliteQuery(path: String, _ sql: String) throws -> [[String?]] {
        try SQLiteConnection(path: path).query(sql)
    }

    /// Rows of a query as text, through a connection of the test's own.
    public func query(_ sql: String) throws -> [[String?]] {
        switch reader {
        case .sqlite(let c): return try c.query(sql)
        case .postgres(let c): return try c.query(sql)
        }
    }

    public func execute(_ sql: String) throws {
        switch reader {
        case .sqlite(let c): try c.execute(sql)
        case .postgres(let c): try c.execute(sql)
        }
    }

    public func count(_ table: String, where condition: String = "true") throws -> Int {
        Int(try query("SELECT count(*) FROM \(table) WHERE \(condition)").first?[0] ?? "0") ?? -1
    }

    /// A table's content as text rows, normalised so both backends print the same: decimals with
    /// two places, dates `YYYY-MM-DD`, date-times `YYYY-MM-DDTHH:MM:SSZ` in UTC, NULL as "∅".
    public func dump(_ table: String, _ columns: [(String, ColumnType)], orderBy: String) throws -> [[String]] {
        let expressions = columns.map { name, type -> String in
            switch (backend, type) {
            case (.sqlite, .decimal): return "printf('%.2f', \(name))"
            case (.postgres, .decimal): return "to_char(\(name), 'FM999999999990.00')"
            case (.postgres, .datetime): return "to_char(\(name) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            case (.postgres, .bool): return "CASE WHEN \(name) THEN '1' WHEN NOT \(name) THEN '0' END"
            default: return "CAST(\(name) AS TEXT)"
            }
        }
        return try query("SELECT \(expressions.joined(separator: ", ")) FROM \(table) ORDER BY \(orderBy)").map { $0.map { $0 ?? "∅" } }
    }

    /// Every way the ledger breaks its own rules, one line each (empty when it keeps them):
    /// records in = written + rejected for every batch; the rejects table holds exactly `rejected`
    /// rows per batch; refused rows are among the rejects; every failed or partial batch that is not
    /// a replay has its payload; a replay's original exists and is no replay itself.
    public func ledgerViolations() throws -> [String] {
        var problems: [String] = []
        for r in try query(
            """
            SELECT b.id, b.status, b.records_in, b.written, b.rejected, b.refused, b.replay_of,
                (SELECT count(*) FROM oemsync_rejects j WHERE j.batch_id = b.id),
                (SELECT count(*) FROM oemsync_payloads p WHERE p.batch_id = b.id),
                (SELECT count(*) FROM oemsync_batches o WHERE o.id = b.replay_of AND o.replay_of IS NULL)
            FROM oemsync_batches b ORDER BY b.id
            """)
        {
            let n = r.map { Int($0 ?? "") ?? -1 }
            let id = r[0] ?? "?"
            if n[2] != n[3] + n[4] { problems.append("batch \(id): \(n[2]) in != \(n[3]) written + \(n[4]) rejected") }
            if n[7] != n[4] { problems.append("batch \(id): \(n[4]) rejected but \(n[7]) rows in oemsync_rejects") }
            if n[5] > n[4] { problems.append("batch \(id): \(n[5]) refused > \(n[4]) rejected") }
            if r[6] == nil, r[1] != "ok", n[8] != 1 { problems.append("batch \(id): \(r[1] ?? "?") without its payload") }
            if r[6] != nil, n[9] != 1 { problems.append("batch \(id): replays \(r[6] ?? "?"), which is missing or a replay") }
        }
        return problems
    }
}

/// A write lock on a SQLite file held by the test, as another process's long transaction holds it.
public final class SQLiteLock: @unchecked Sendable {
    private let connection: SQLiteConnection

    public init(path: String) throws {
        connection = try SQLiteConnection(path: path)
        try connection.execute("BEGIN EXCLUSIVE")
    }

    public func release() { try? connection.execute("ROLLBACK") }
}
