import Foundation
import OEMSyncCore

/// A daemon's last sign of life (`oemsync_daemons`): it writes its heartbeat while it runs, and its
/// stop when it stops cleanly. A daemon killed (SIGKILL, a power cut, a frozen VM) stops writing:
/// `status` then shows the feed states it left as stale, with the time it was last seen.
public struct DaemonHeartbeat: Sendable, Codable, Hashable {
    /// `host:pid`.
    public var process: String
    public var version: String
    /// ISO 8601, UTC.
    public var startedAt: String
    public var heartbeatAt: String
    public var stoppedAt: String?

    /// Whether the daemon still writes its heartbeat at `now`: not stopped, and seen within
    /// ``Ledger/staleAfter``. Nil when it stopped cleanly (neither live nor stale).
    public func isLive(at now: Timestamp) -> Bool? {
        guard stoppedAt == nil else { return nil }
        guard let seen = try? Date(heartbeatAt, strategy: .iso8601) else { return false }
        return Double(now.microseconds) / 1e6 - seen.timeIntervalSince1970 <= Double(Ledger.staleAfter.components.seconds)
    }
}

extension Ledger {
    /// How often a daemon writes its heartbeat.
    public static let heartbeatInterval = Duration.seconds(15)
    /// A heartbeat older than this, without a stop, is a daemon gone.
    public static let staleAfter = Duration.seconds(60)

    public func heartbeat(process: String, version: String, startedAt: Timestamp, now: Timestamp) throws(SinkError) {
        _ = try database.transaction([
            (
                """
                INSERT INTO oemsync_daemons (process, version, started_at, heartbeat_at, stopped_at) VALUES (?, ?, ?, ?, NULL)
                ON CONFLICT (process) DO UPDATE SET version = excluded.version, started_at = excluded.started_at,
                heartbeat_at = excluded.heartbeat_at, stopped_at = NULL
                """,
                [.string(process), .string(version), .datetime(startedAt), .datetime(now)]
            )
        ])
    }

    public func daemonStopped(process: String, now: Timestamp) throws(SinkError) {
        _ = try database.transaction([
            ("UPDATE oemsync_daemons SET heartbeat_at = ?, stopped_at = ? WHERE process = ?", [.datetime(now), .datetime(now), .string(process)])
        ])
    }

    /// Every daemon that wrote a heartbeat, by `host:pid`.
    public func daemons() throws(SinkError) -> [String: DaemonHeartbeat] {
        let rows = try database.select(
            "SELECT process, version, \(time("started_at")), \(time("heartbeat_at")), \(time("stopped_at")) FROM oemsync_daemons", [])
        var out: [String: DaemonHeartbeat] = [:]
        for r in rows {
            guard let p = r[0] else { continue }
            out[p] = DaemonHeartbeat(process: p, version: r[1] ?? "", startedAt: r[2] ?? "", heartbeatAt: r[3] ?? "", stoppedAt: r[4])
        }
        return out
    }
}
