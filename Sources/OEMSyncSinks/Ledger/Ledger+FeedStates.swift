import OEMSyncCore

/// A feed's state as the daemon last recorded it (`oemsync_feed_states`).
public struct DaemonFeedState: Sendable, Codable, Hashable {
    public var feed: String
    /// `idle`, `running`, `in window`, `parked on quota`, `failing`, `stopped`.
    public var state: String
    /// Why (the window, the failure), in words without personal data.
    public var detail: String?
    /// ISO 8601, UTC.
    public var nextRun: String?
    public var windowOpen: Bool
    /// `host:pid` of the daemon that wrote it.
    public var process: String
    public var updatedAt: String
}

/// A feed's state as the daemon writes it.
public struct FeedStateRecord: Sendable {
    public var feed: String
    public var state: String
    public var detail: String?
    public var nextRun: Timestamp?
    public var windowOpen: Bool
    public var process: String
    public var updatedAt: Timestamp

    public init(feed: String, state: String, detail: String?, nextRun: Timestamp?, windowOpen: Bool, process: String, updatedAt: Timestamp) {
        self.feed = feed
        self.state = state
        self.detail = detail
        self.nextRun = nextRun
        self.windowOpen = windowOpen
        self.process = process
        self.updatedAt = updatedAt
    }
}

extension Ledger {
    /// Writes the states given, one transaction.
    public func saveFeedStates(_ states: [FeedStateRecord]) throws(SinkError) {
        guard !states.isEmpty else { return }
        let statements = states.map { s -> (sql: String, values: [Value]) in
            (
                """
                INSERT INTO oemsync_feed_states (feed, state, detail, next_run, window_open, process, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (feed) DO UPDATE SET state = excluded.state, detail = excluded.detail, next_run = excluded.next_run,
                window_open = excluded.window_open, process = excluded.process, updated_at = excluded.updated_at
                """,
                [
                    .string(s.feed), .string(s.state), s.detail.map { .string(Redact.scrub($0)) } ?? .null,
                    s.nextRun.map(Value.datetime) ?? .null, .bool(s.windowOpen), .string(s.process), .datetime(s.updatedAt),
                ]
            )
        }
        _ = try database.transaction(statements)
    }

    /// Every feed's recorded state, by feed.
    public func feedStates() throws(SinkError) -> [String: DaemonFeedState] {
        let rows = try database.select(
            "SELECT feed, state, detail, \(time("next_run")), window_open, process, \(time("updated_at")) FROM oemsync_feed_states", [])
        var out: [String: DaemonFeedState] = [:]
        for r in rows {
            guard let feed = r[0], let state = r[1] else { continue }
            out[feed] = DaemonFeedState(
                feed: feed, state: state, detail: r[2].map { FileName.escapingControls(Redact.scrub($0)) }, nextRun: r[3], windowOpen: ["1", "t", "true"].contains(r[4] ?? "1"), process: r[5] ?? "",
                updatedAt: r[6] ?? "")
        }
        return out
    }
}
