import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks

/// `oemsync status`: where every feed stands, from the ledger and the checkpoints: last batch,
/// figures, open and flagged rejects, failed batches, the checkpoint and the lag.
///
/// Lag: for a REST feed, how far the newest change time committed lies behind now; for a CSV drop,
/// the files waiting in the directory and the age of the oldest.
public enum StatusCommand {
    public struct FeedStatus: Sendable, Codable {
        public var feed: String
        public var kind: String
        /// `never run`, `ok`, `rejects` (open rejects wait for a replay), `failing` (the last batch failed),
        /// `not configured` (a ledger without a feed in the config).
        public var state: String
        public var summary: FeedSummary
        /// The checkpoint in words.
        public var position: String?
        public var lag: String?
        public var lagSeconds: Int64?
        /// The schedule in words (`every 15m, Asia/Shanghai`), and whether its windows let it run now.
        public var schedule: String?
        public var window: String?
        /// What the daemon (`oemsync run`) last recorded: running, idle, in window, parked on quota,
        /// failing, stopped; its reason and the next run. Nil when no daemon has run the feed.
        public var daemon: DaemonFeedState?
        /// Set when the daemon that recorded ``daemon`` has stopped writing its heartbeat without
        /// stopping cleanly (killed, its machine down): `stale (last seen …, host:pid)`.
        public var stale: String?
    }

    public static func run(configPath: String, json: Bool, console: Console, now: Timestamp = .now()) -> Int32 {
        let access: LedgerAccess
        switch LedgerAccess.open(configPath: configPath, command: "status", console: console) {
        case .ready(let a): access = a
        case .exit(let code): return code
        }
        let summaries: [String: FeedSummary]
        let daemonStates: [String: DaemonFeedState]
        let heartbeats: [String: DaemonHeartbeat]
        do {
            summaries = try access.ledger.feedSummaries()
            daemonStates = try access.ledger.feedStates()
            heartbeats = try access.ledger.daemons()
        } catch {
            console.err("oemsync status: \(error)\n")
            return ExitStatus.failure
        }
        var statuses: [FeedStatus] = []
        for feed in access.configuration.feeds {
            let summary = summaries[feed.name] ?? FeedSummary(feed: feed.name)
            var status = FeedStatus(feed: feed.name, kind: feed.source.kind.name, state: state(summary), summary: summary)
            feed.source.describe(&status, now: now)
            let schedule = feed.schedule
            status.schedule = "\(schedule.trigger), \(schedule.zoneName)"
            status.window = schedule.closure(at: now).map { "closed: \($0)" } ?? "open"
            status.daemon = daemonStates[feed.name]
            if let d = status.daemon { status.stale = staleness(d, heartbeats[d.process], now: now) }
            statuses.append(status)
        }
        for (name, summary) in summaries.sorted(by: { $0.key < $1.key }) where access.configuration.feed(named: name) == nil {
            statuses.append(FeedStatus(feed: name, kind: "-", state: "not configured", summary: summary, position: summary.checkpoint?.position))
        }
        if json {
            console.out(CommandJSON.encode(["feeds": statuses]))
            return ExitStatus.ok
        }
        let rows = statuses.map { s -> [String] in
            let open = s.summary.flaggedRejects > 0 ? "\(s.summary.openRejects) (\(s.summary.flaggedRejects) flagged)" : String(s.summary.openRejects)
            return [
                s.feed, s.kind, s.state, s.summary.lastBatch?.finishedAt ?? "-", String(s.summary.recordsIn), String(s.summary.written),
                String(s.summary.rejected), open, String(s.summary.failedBatches), s.lag ?? "-", s.stale != nil ? "stale" : s.daemon?.state ?? "-",
                s.daemon?.nextRun ?? "-",
            ]
        }
        var out = TextTable.render(
            header: [
                "feed", "kind", "state", "last batch", "records", "written", "rejected", "open rejects", "failed batches", "lag", "daemon", "next run",
            ],
            rows: rows)
        out += "\nschedules:\n"
        for s in statuses where s.schedule != nil {
            out += "  \(s.feed): \(s.schedule!); windows \(s.window ?? "open")"
            if let d = s.daemon {
                out += "; daemon \(d.state)" + (d.detail.map { " (\($0))" } ?? "") + " as of \(d.updatedAt) [\(d.process)]"
                if let stale = s.stale { out += "; \(stale)" }
            }
            out += "\n"
        }
        out += "\ncheckpoints:\n"
        for s in statuses {
            out += "  \(s.feed): \(s.position ?? "none")"
            if let at = s.summary.checkpoint?.updatedAt { out += " (stored \(at)" + (s.summary.checkpoint?.batchID.map { " by batch \($0))" } ?? " by hand)") }
            out += "\n"
            if let failure = s.summary.lastFailure, s.state == "failing" {
                out += "    last failure: batch \(failure.id) at \(failure.finishedAt): \(failure.error ?? "?")\n"
            }
        }
        console.out(out)
        return ExitStatus.ok
    }

    /// `stale (last seen …, host:pid)` when the daemon that recorded a feed's state has gone quiet
    /// without a clean stop; nil while it writes its heartbeat, after a clean stop, or for a
    /// daemon older than heartbeats.
    static func staleness(_ state: DaemonFeedState, _ heartbeat: DaemonHeartbeat?, now: Timestamp) -> String? {
        guard state.state != FeedState.stopped.name, let heartbeat, heartbeat.isLive(at: now) == false else { return nil }
        return "stale (last seen \(heartbeat.heartbeatAt), \(heartbeat.process))"
    }

    static func state(_ s: FeedSummary) -> String {
        guard let last = s.lastBatch else { return s.checkpoint == nil ? "never run" : "ok" }
        if last.status == "failed" { return "failing" }
        return s.openRejects > 0 ? "rejects" : "ok"
    }
}

extension StatusCommand.FeedStatus {
    /// The lag of a feed whose newest data is from `since` (microseconds): `12m behind`.
    public mutating func behind(since: Int64, now: Timestamp) {
        let seconds = max(0, (now.microseconds - since) / 1_000_000)
        lagSeconds = seconds
        lag = Duration.seconds(seconds).shortDescription + " behind"
    }
}

extension Duration {
    /// `45s`, `12m`, `3h 20m`, `2d 4h`.
    var shortDescription: String {
        let s = components.seconds
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h"
    }
}
