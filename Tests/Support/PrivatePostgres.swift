import Foundation
import OEMSyncSinks

/// A PostgreSQL cluster of the test's own (`scripts/ci-pg.sh`), for what the shared test server
/// must not go through: crash stops, a frozen server, durability settings of its own.
public final class PrivatePostgres: @unchecked Sendable {
    /// The cluster's folder (its unix socket is there).
    public let dir: String
    /// A libpq connection string.
    public let url: String
    public let port: String

    /// - Parameter options: server options (`-c synchronous_commit=off -c fsync=on`).
    public init(options: String) throws {
        let (status, out) = try Self.script(["start"], environment: ["OEMSYNC_PG_OPTIONS": options, "PGPORT": ""])
        guard status == 0 else { throw Failure(description: "ci-pg.sh start failed: \(out)") }
        func value(_ key: String) -> String? {
            guard let r = out.range(of: "\(key)='") else { return nil }
            return String(out[r.upperBound...].prefix { $0 != "'" })
        }
        guard let dir = value("OEMSYNC_TEST_PG_DIR"), let url = value("OEMSYNC_TEST_PG_URL"), let port = value("PGPORT") else {
            throw Failure(description: "ci-pg.sh start said: \(out)")
        }
        self.dir = dir
        self.url = url
        self.port = port
    }

    deinit { _ = try? Self.script(["stop", dir]) }

    /// `postgresql://…` for a config file.
    public var configURL: String { TestDatabase.postgresURL(url) }

    /// Rows of a query, on a connection of its own.
    public func query(_ sql: String) throws -> [[String?]] {
        try PostgresConnection(url: url, password: nil).query(sql)
    }

    /// Stops the server the way a crash does (no shutdown checkpoint, nothing flushed), then starts it.
    public func restartImmediately() throws {
        let (status, out) = try Self.script(["restart-immediate", dir])
        guard status == 0 else { throw Failure(description: "restart failed: \(out)") }
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server and its backends.
    public func signal(_ name: String) throws {
        let (status, out) = try Self.script(["signal", dir, name])
        guard status == 0 else { throw Failure(description: "signal \(name) failed: \(out)") }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static func script(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { if v.isEmpty { env.removeValue(forKey: k) } else { env[k] = v } }
        // posix_spawn and waitpid, output to a file: the server the script starts inherits the
        // script's descriptors, and Foundation's Process waits for those to close.
        let output = NSTemporaryDirectory() + "/oemsync-pg-script-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess("/bin/bash", [Fixture.root + "/scripts/ci-pg.sh"] + arguments, environment: env, log: output)
        let status = child.wait()
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
