import CSQLite3
import OEMSyncCore

/// A thin, safe wrapper over one libsqlite3 connection.
///
/// Used from one thread at a time (the sink's writer); values are always bound, never spliced into SQL.
public final class SQLiteConnection: @unchecked Sendable {
    let db: OpaquePointer

    /// `SQLITE_TRANSIENT`: SQLite copies bound text before the call returns (a C macro Swift cannot import).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Configures the library once, before any connection exists.
    private static let configured: Bool = {
        _ = oemsync_sqlite3_disable_memstatus()
        return true
    }()

    /// - Parameter busyTimeout: how long a statement waits for another process's lock.
    public init(path: String, busyTimeout: Duration = .seconds(30)) throws(SinkError) {
        _ = Self.configured
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SinkError(.connect, "cannot open SQLite database '\(path)': \(message)", databaseCode: String(rc))
        }
        db = handle
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.milliseconds))
    }

    deinit { sqlite3_close_v2(db) }

    var lastMessage: String { String(cString: sqlite3_errmsg(db)) }

    func error(_ code: SinkError.Code, _ context: String) -> SinkError {
        SinkError(code, "\(context): \(SinkError.maskValues(lastMessage))", databaseCode: String(sqlite3_extended_errcode(db)))
    }

    /// Runs one or more statements without parameters (DDL, PRAGMA, BEGIN/COMMIT).
    public func execute(_ sql: String, code: SinkError.Code = .query) throws(SinkError) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw error(code, "SQLite") }
    }

    public func prepare(_ sql: String) throws(SinkError) -> SQLiteStatement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK, let stmt else {
            throw error(.query, "cannot prepare statement")
        }
        return SQLiteStatement(connection: self, stmt: stmt)
    }

    /// Rows of a query as text (NULL as nil).
    public func query(_ sql: String, _ arguments: [Value] = []) throws(SinkError) -> [[String?]] {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.text($0) })
        }
        return rows
    }

    public var changes: Int { Int(sqlite3_changes(db)) }
    /// True outside a transaction (also after SQLite rolled one back by itself).
    public var isAutocommit: Bool { sqlite3_get_autocommit(db) != 0 }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }
}

/// A prepared statement, reset and rebound for every row.
public final class SQLiteStatement {
    let connection: SQLiteConnection
    let stmt: OpaquePointer

    init(connection: SQLiteConnection, stmt: OpaquePointer) {
        self.connection = connection
        self.stmt = stmt
    }

    deinit { sqlite3_finalize(stmt) }

    public func bind(_ values: [Value], from start: Int32 = 1) throws(SinkError) {
        sqlite3_reset(stmt)
        for (i, v) in values.enumerated() { try bind(v, at: start + Int32(i)) }
    }

    public func bind(_ value: Value, at index: Int32) throws(SinkError) {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(stmt, index)
        case .int(let i): rc = sqlite3_bind_int64(stmt, index, i)
        case .bool(let b): rc = sqlite3_bind_int64(stmt, index, b ? 1 : 0)
        case .string(let s): rc = bindText(s, index)
        case .decimal(let d): rc = bindText(d, index)
        case .date(let d): rc = bindText(d.description, index)
        case .datetime(let t): rc = bindText(t.description, index)
        }
        guard rc == SQLITE_OK else { throw connection.error(.query, "cannot bind parameter \(index)") }
    }

    /// Binds bytes as a BLOB (nil as NULL). Must follow ``bind(_:from:)``, which resets the statement.
    public func bindBlob(_ bytes: [UInt8]?, at index: Int32) throws(SinkError) {
        let rc: Int32
        if let bytes {
            rc = bytes.withUnsafeBytes { sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32($0.count), SQLiteConnection.transient) }
        } else {
            rc = sqlite3_bind_null(stmt, index)
        }
        guard rc == SQLITE_OK else { throw connection.error(.query, "cannot bind parameter \(index)") }
    }

    /// Binds the string's own UTF-8 bytes with their length: no C-string copy, no strlen.
    private func bindText(_ s: String, _ index: Int32) -> Int32 {
        var s = s
        return s.withUTF8 { buf in
            guard let base = buf.baseAddress, buf.count > 0 else {
                return sqlite3_bind_text(stmt, index, "", 0, SQLiteConnection.transient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                sqlite3_bind_text(stmt, index, $0, Int32(buf.count), SQLiteConnection.transient)
            }
        }
    }

    /// Steps once: true while a row is available, false when done.
    @discardableResult
    public func step() throws(SinkError) -> Bool {
        switch sqlite3_step(stmt) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(.write, "SQLite")
        }
    }

    public var columnCount: Int { Int(sqlite3_column_count(stmt)) }

    public func text(_ column: Int) -> String? {
        guard sqlite3_column_type(stmt, Int32(column)) != SQLITE_NULL, let p = sqlite3_column_text(stmt, Int32(column)) else { return nil }
        return String(cString: p)
    }

    public func int64(_ column: Int) -> Int64 { sqlite3_column_int64(stmt, Int32(column)) }

    /// An integer column, nil when NULL.
    public func int(_ column: Int) -> Int64? {
        sqlite3_column_type(stmt, Int32(column)) == SQLITE_NULL ? nil : sqlite3_column_int64(stmt, Int32(column))
    }

    public func blob(_ column: Int) -> [UInt8]? {
        guard sqlite3_column_type(stmt, Int32(column)) != SQLITE_NULL else { return nil }
        let n = Int(sqlite3_column_bytes(stmt, Int32(column)))
        guard n > 0, let p = sqlite3_column_blob(stmt, Int32(column)) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    /// Ends the current execution, so the statement holds no read lock until it is stepped again.
    public func reset() { sqlite3_reset(stmt) }
}
