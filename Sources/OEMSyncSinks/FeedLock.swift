#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import OEMSyncCore

/// Held while one process syncs one feed, so that two daemons on one database (or a daemon and an
/// `oemsync sync`) never run the same feed at once: they would resume the same pull, claim
/// the same checkpoint, and overwrite each other's feed states.
///
/// - PostgreSQL: a session advisory lock on the connection that writes the feed's batches, keyed by
///   the schema and the feed. The server releases it when that session ends, however it ends.
/// - SQLite: an `flock` on `<database>.locks/feed-<name>.lock`, beside the database file; the
///   kernel releases it when the process dies.
///
/// The loser learns who holds it: the holder's `host:pid` (PostgreSQL: from the holder session's
/// `application_name`, which oemsync sets to it; SQLite: written into the lock file).
public final class FeedLock: @unchecked Sendable {
    public enum Outcome {
        case acquired(FeedLock)
        /// Another process holds it; what is known of that process.
        case busy(holder: String)
    }

    private let release: () -> Void
    private var released = false

    init(release: @escaping () -> Void) { self.release = release }

    public func unlock() {
        guard !released else { return }
        released = true
        release()
    }

    deinit { unlock() }

    /// `host:pid` of this process, as locks and feed states name it.
    public static let processName = "\(ProcessInfo.processInfo.hostName):\(getpid())"

    /// The advisory lock key of a feed: 64 bits of SHA-256 over schema and name, so feeds of
    /// different schemas in one database never share a lock.
    static func advisoryKey(schema: String?, feed: String) -> Int64 {
        let hex = SHA256.hex(Array("oemsync feed \(schema ?? "")/\(feed)".utf8))
        return Int64(bitPattern: UInt64(hex.prefix(16), radix: 16) ?? 0)
    }

    /// The lock file of a feed beside a SQLite database.
    static func lockFile(database path: String, feed: String) -> String {
        let name = feed.utf8.count <= 200 ? feed : String(SHA256.hex(Array(feed.utf8)).prefix(32))
        return path + ".locks/feed-" + name + ".lock"
    }

    /// Takes the feed's lock file without waiting.
    static func file(database path: String, feed: String) throws(SinkError) -> Outcome {
        let lockPath = lockFile(database: path, feed: feed)
        let dir = (lockPath as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: dir) {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SinkError(.connect, "cannot open the feed lock '\(lockPath)': \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            return .busy(holder: holder.isEmpty ? "another oemsync process" : FileName.display(holder))
        }
        let text = Array("oemsync \(processName) since \(Timestamp.now())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return .acquired(
            FeedLock {
                _ = ftruncate(fd, 0)
                flock(fd, LOCK_UN)
                close(fd)
            })
    }
}

extension DealerDatabase {
    /// Takes the feed's lock without waiting (see ``FeedLock``); hold it for the whole run.
    public func lockFeed(_ feed: String) throws(SinkError) -> FeedLock.Outcome {
        switch self {
        case let pg as PostgresDealerDatabase: return try pg.lockFeed(feed)
        case let sqlite as SQLiteDealerDatabase: return try sqlite.lockFeed(feed)
        default: return .acquired(FeedLock {})
        }
    }
}

extension SQLiteDealerDatabase {
    func lockFeed(_ feed: String) throws(SinkError) -> FeedLock.Outcome {
        guard displayName != ":memory:" else { return .acquired(FeedLock {}) }
        return try FeedLock.file(database: displayName, feed: feed)
    }
}

extension PostgresDealerDatabase {
    func lockFeed(_ feed: String) throws(SinkError) -> FeedLock.Outcome {
        let key = String(FeedLock.advisoryKey(schema: schema, feed: feed))
        let got = try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [key])
        if got.first?[0] == "t" {
            let connection = self.connection
            return .acquired(FeedLock { _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [key]) })
        }
        let holder = try? connection.query(
            """
            SELECT a.application_name, coalesce(host(a.client_addr), 'local'), a.pid, to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.classid::bigint = (($1::bigint >> 32) & 4294967295) AND l.objid::bigint = ($1::bigint & 4294967295)
            """, [key])
        guard let row = holder?.first else { return .busy(holder: "another session of the database") }
        let name = FileName.display(row[0] ?? "")
        return .busy(holder: "\(name.isEmpty ? "a session" : name) (server pid \(row[2] ?? "?") from \(row[1] ?? "?"), connected \(row[3] ?? "?"))")
    }
}
