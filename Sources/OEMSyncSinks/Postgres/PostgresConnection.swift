#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibPQ
import Foundation
import OEMSyncCore

/// A thin wrapper over one libpq connection: parameterised statements and `COPY ... FROM STDIN`.
///
/// Used from one thread at a time (the sink's writer). Values always travel as parameters or COPY
/// data, never inside SQL text.
///
/// Every wait is bounded (``DatabaseLimits``): the connection runs in libpq's nonblocking mode and
/// each answer is awaited with `poll` until a deadline, because a frozen server answers nothing,
/// not even its own `statement_timeout`, and a blocking libpq call would wait forever. A deadline
/// missed abandons the connection (its socket is shut down, so its open transaction never
/// commits), and every later call fails at once.
///
/// Commits are durable whatever the server's tuning: a server configured with
/// `synchronous_commit = off` acknowledges commits it may lose in a crash, so this session turns it
/// on for itself (any other setting, `local` or `remote_apply`, already waits for the disk and is kept).
public final class PostgresConnection: @unchecked Sendable {
    let conn: OpaquePointer
    let limits: DatabaseLimits
    /// Set when a deadline was missed: the connection is unusable.
    private var abandoned: String?

    /// Connects with a libpq connection string or `postgresql://` URL, plus a password kept out of it.
    public init(url: String, password: String?, applicationName: String = "oemsync " + FeedLock.processName, limits: DatabaseLimits = DatabaseLimits()) throws(SinkError)
    {
        self.limits = limits
        let keepalive = max(1, limits.keepalive.components.seconds)
        var keys = [
            "dbname", "application_name", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
            "tcp_user_timeout",
        ]
        var values = [
            url, applicationName, String(max(2, (limits.connectTimeout.milliseconds + 999) / 1000)), "1", String(keepalive), "10", "3",
            String((keepalive + 30) * 1000),
        ]
        if let password {
            keys.append("password")
            values.append(password)
        }
        let c = Self.withCStrings(keys) { k in
            Self.withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let c else { throw SinkError(.connect, "cannot allocate a PostgreSQL connection") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c)).trimmingTrailingNewlines()
            PQfinish(c)
            throw SinkError(.connect, "cannot connect to PostgreSQL: \(Self.scrub(message))")
        }
        conn = c
        _ = PQsetClientEncoding(conn, "UTF8")
        // Server notices ("schema already exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        guard PQsetnonblocking(conn, 1) == 0 else { throw SinkError(.connect, "cannot put the PostgreSQL connection in nonblocking mode") }
        try execute(
            """
            SET statement_timeout = \(limits.statementTimeout.milliseconds);
            SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'
            """, code: .connect)
    }

    deinit { PQfinish(conn) }

    // MARK: Statements

    /// Runs SQL without parameters (DDL, BEGIN/COMMIT, several statements at once).
    public func execute(_ sql: String, code: SinkError.Code = .query) throws(SinkError) {
        let results = try run(code: code) { PQsendQuery(conn, sql) }
        defer { results.forEach { PQclear($0) } }
        for r in results { try check(r, code: code, expect: [PGRES_COMMAND_OK, PGRES_TUPLES_OK]) }
    }

    /// Statements with parameters, prepared on first use: the server parses and plans each once per
    /// connection instead of once per batch (a REST page is a small batch, its SQL the same every time).
    private var prepared: [String: String] = [:]

    private func execute(_ sql: String, _ parameters: [String?], code: SinkError.Code) throws(SinkError) -> OpaquePointer? {
        guard !parameters.isEmpty else { return try single(code: code) { PQsendQuery(conn, sql) } }
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "oemsync_\(prepared.count + 1)"
            let result = try single(code: code) { PQsendPrepare(conn, name, sql, Int32(parameters.count), nil) }
            defer { PQclear(result) }
            try check(result, code: code, expect: [PGRES_COMMAND_OK])
            prepared[sql] = name
        }
        return try Self.withOptionalCStrings(parameters) { params throws(SinkError) in
            try single(code: code) { PQsendQueryPrepared(conn, name, Int32(parameters.count), params, nil, nil, 0) }
        }
    }

    /// Runs one statement with text parameters and returns its rows as text (NULL as nil).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = [], code: SinkError.Code = .query) throws(SinkError) -> [[String?]] {
        let result = try execute(sql, parameters, code: code)
        defer { PQclear(result) }
        try check(result, code: code, expect: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        let rows = Int(PQntuples(result))
        let columns = Int(PQnfields(result))
        var out: [[String?]] = []
        out.reserveCapacity(rows)
        for r in 0..<rows {
            var row: [String?] = []
            for c in 0..<columns {
                row.append(PQgetisnull(result, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(c))))
            }
            out.append(row)
        }
        return out
    }

    /// Rows affected by a statement with parameters.
    public func command(_ sql: String, _ parameters: [String?] = [], code: SinkError.Code = .query) throws(SinkError) -> Int {
        let result = try execute(sql, parameters, code: code)
        defer { PQclear(result) }
        try check(result, code: code, expect: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// `COPY ... FROM STDIN` (text format) with `data` already encoded; returns the rows copied.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8], code: SinkError.Code = .write) throws(SinkError) -> Int {
        let deadline = ContinuousClock.now + limits.answerTimeout
        try send(code: code, deadline: deadline) { PQsendQuery(conn, sql) }
        guard let start = try nextResult(code: code, deadline: deadline) else { throw SinkError(code, "COPY failed: \(lastMessage)") }
        if PQresultStatus(start) != PGRES_COPY_IN {
            defer { PQclear(start) }
            try check(start, code: code, expect: [PGRES_COPY_IN])
        }
        PQclear(start)
        var offset = 0
        let chunk = 1 << 18
        while offset < data.count {
            let n = min(chunk, data.count - offset)
            let rc = data.withUnsafeBufferPointer { buf in
                buf.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: n) { PQputCopyData(conn, $0, Int32(n)) }
            }
            if rc == 0 {  // libpq's buffer is full: wait until the socket takes more
                try flush(code: code, deadline: deadline)
                continue
            }
            guard rc == 1 else { throw SinkError(code, "COPY failed: \(lastMessage)") }
            offset += n
        }
        while true {
            let rc = PQputCopyEnd(conn, nil)
            if rc == 1 { break }
            guard rc == 0 else { throw SinkError(code, "COPY failed: \(lastMessage)") }
            try flush(code: code, deadline: deadline)
        }
        try flush(code: code, deadline: deadline)
        var rows = 0
        var failure: SinkError?
        while let result = try nextResult(code: code, deadline: deadline) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = error(from: result, code: code)
            }
            PQclear(result)
        }
        if let failure { throw failure }
        return rows
    }

    public var isConnected: Bool { abandoned == nil && PQstatus(conn) == CONNECTION_OK }

    // MARK: Nonblocking I/O with deadlines

    /// Sends a command and collects every result it produces.
    private func run(code: SinkError.Code, _ sendCommand: () -> Int32) throws(SinkError) -> [OpaquePointer] {
        let deadline = ContinuousClock.now + limits.answerTimeout
        try send(code: code, deadline: deadline, sendCommand)
        var results: [OpaquePointer] = []
        do throws(SinkError) {
            while let r = try nextResult(code: code, deadline: deadline) { results.append(r) }
        } catch {
            results.forEach { PQclear($0) }
            throw error
        }
        return results
    }

    /// Sends a command with one result; nil when the server sent none.
    private func single(code: SinkError.Code, _ sendCommand: () -> Int32) throws(SinkError) -> OpaquePointer? {
        var results = try run(code: code, sendCommand)
        guard !results.isEmpty else { return nil }
        let last = results.removeLast()
        results.forEach { PQclear($0) }
        return last
    }

    private func send(code: SinkError.Code, deadline: ContinuousClock.Instant, _ sendCommand: () -> Int32) throws(SinkError) {
        if let abandoned { throw SinkError(code, abandoned) }
        guard sendCommand() == 1 else { throw SinkError(code, lastMessage.isEmpty ? "connection to PostgreSQL lost" : lastMessage) }
        try flush(code: code, deadline: deadline)
    }

    /// Writes out what libpq holds, reading whatever the server sends meanwhile.
    private func flush(code: SinkError.Code, deadline: ContinuousClock.Instant) throws(SinkError) {
        while true {
            let rc = PQflush(conn)
            if rc == 0 { return }
            guard rc == 1 else { throw SinkError(code, "connection to PostgreSQL lost: \(lastMessage)") }
            if try wait(code: code, write: true, deadline: deadline) {
                guard PQconsumeInput(conn) == 1 else { throw SinkError(code, "connection to PostgreSQL lost: \(lastMessage)") }
            }
        }
    }

    /// The next result of the command in flight, once the server sent it whole; nil after the last.
    private func nextResult(code: SinkError.Code, deadline: ContinuousClock.Instant) throws(SinkError) -> OpaquePointer? {
        while PQisBusy(conn) == 1 {
            _ = try wait(code: code, write: false, deadline: deadline)
            guard PQconsumeInput(conn) == 1 else {
                throw SinkError(code, lastMessage.isEmpty ? "connection to PostgreSQL lost" : "connection to PostgreSQL lost: \(lastMessage)")
            }
        }
        return PQgetResult(conn)
    }

    /// Waits until the socket is readable (or writable, when asked), at most until `deadline`;
    /// returns whether it is readable. A deadline missed abandons the connection.
    private func wait(code: SinkError.Code, write: Bool, deadline: ContinuousClock.Instant) throws(SinkError) -> Bool {
        let socket = PQsocket(conn)
        guard socket >= 0 else { throw SinkError(code, "connection to PostgreSQL lost") }
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { throw abandon(code: code) }
            var fds = pollfd(fd: socket, events: Int16(POLLIN) | (write ? Int16(POLLOUT) : 0), revents: 0)
            let n = poll(&fds, 1, Int32(clamping: min(left.milliseconds, 60_000)))
            if n < 0 {
                if errno == EINTR { continue }
                throw SinkError(code, "cannot wait for PostgreSQL: \(String(cString: strerror(errno)))")
            }
            if n > 0 { return fds.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 }
        }
    }

    private func abandon(code: SinkError.Code) -> SinkError {
        let message =
            "PostgreSQL did not answer within \(limits.answerTimeout.short) (statement_timeout \(limits.statementTimeout.short) + \(limits.answerMargin.short)): the server is frozen or unreachable; the connection was abandoned and its open transaction not committed"
        abandoned = message
        shutdown(PQsocket(conn), Int32(SHUT_RDWR))
        return SinkError(code, message)
    }

    // MARK: Errors

    var lastMessage: String { Self.scrub(SinkError.maskValues(String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines())) }

    private func check(_ result: OpaquePointer?, code: SinkError.Code, expect: [ExecStatusType]) throws(SinkError) {
        guard let result else { throw SinkError(code, lastMessage.isEmpty ? "no result (connection lost?)" : lastMessage) }
        if !expect.contains(PQresultStatus(result)) { throw error(from: result, code: code) }
    }

    private func error(from result: OpaquePointer, code: SinkError.Code) -> SinkError {
        func field(_ f: Int32) -> String? {
            guard let p = PQresultErrorField(result, f) else { return nil }
            return String(cString: p)
        }
        let sqlState = field(Int32(UInt8(ascii: "C")))
        let primary = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines()
        var message = SinkError.maskValues(primary)
        if let column = field(Int32(UInt8(ascii: "c"))) { message += " (column \(column))" }
        if primary.isEmpty && !isConnected { message = "connection to PostgreSQL lost" }
        return SinkError(code, message, databaseCode: sqlState)
    }

    /// libpq can echo connection parameters in errors; never let a password through.
    static func scrub(_ message: String) -> String {
        var out = message
        for marker in ["password=", "password ="] {
            while let r = out.range(of: marker) {
                let end = out[r.upperBound...].firstIndex(where: { $0 == " " || $0 == "&" }) ?? out.endIndex
                out.replaceSubrange(r.upperBound..<end, with: "***")
                if out[r.upperBound...].hasPrefix("***") { break }
            }
        }
        return out
    }

    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return body(pointers.map { UnsafePointer($0) })
    }

    static func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) throws(SinkError) -> R) throws(SinkError) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
        defer { for p in pointers { free(p) } }
        return try body(pointers.map { UnsafePointer($0) })
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") || s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}

extension Duration {
    /// `500ms`, `30s`, `10m`, `2h`: how the config writes durations.
    var short: String {
        let ms = milliseconds
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
