import CLibPQ
import Foundation
import OEMSyncCore

/// A thin wrapper over one libpq connection: parameterised statements and `COPY ... FROM STDIN`.
///
/// Used from one thread at a time (the sink's writer). Values always travel as parameters or COPY
/// data, never inside SQL text.
public final class PostgresConnection: @unchecked Sendable {
    let conn: OpaquePointer

    /// Connects with a libpq connection string or `postgresql://` URL, plus a password kept out of it.
    public init(url: String, password: String?, applicationName: String = "oemsync") throws(SinkError) {
        var keys = ["dbname", "application_name", "connect_timeout"]
        var values = [url, applicationName, "10"]
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
    }

    deinit { PQfinish(conn) }

    /// Runs SQL without parameters (DDL, BEGIN/COMMIT, several statements at once).
    public func execute(_ sql: String, code: SinkError.Code = .query) throws(SinkError) {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result, code: code, expect: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
    }

    /// Statements with parameters, prepared on first use: the server parses and plans each once per
    /// connection instead of once per batch (a REST page is a small batch, its SQL the same every time).
    private var prepared: [String: String] = [:]

    private func execute(_ sql: String, _ parameters: [String?], code: SinkError.Code) throws(SinkError) -> OpaquePointer? {
        guard !parameters.isEmpty else { return PQexec(conn, sql) }
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "oemsync_\(prepared.count + 1)"
            let result = PQprepare(conn, name, sql, Int32(parameters.count), nil)
            defer { PQclear(result) }
            try check(result, code: code, expect: [PGRES_COMMAND_OK])
            prepared[sql] = name
        }
        return Self.withOptionalCStrings(parameters) { params in
            PQexecPrepared(conn, name, Int32(parameters.count), params, nil, nil, 0)
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
        let start = PQexec(conn, sql)
        let status = PQresultStatus(start)
        if status != PGRES_COPY_IN {
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
            guard rc == 1 else { throw SinkError(code, "COPY failed: \(lastMessage)") }
            offset += n
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw SinkError(code, "COPY failed: \(lastMessage)") }
        var rows = 0
        var failure: SinkError?
        while let result = PQgetResult(conn) {
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

    public var isConnected: Bool { PQstatus(conn) == CONNECTION_OK }

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

    static func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
        defer { for p in pointers { free(p) } }
        return body(pointers.map { UnsafePointer($0) })
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") || s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
