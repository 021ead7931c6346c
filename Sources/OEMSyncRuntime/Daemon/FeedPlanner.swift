import OEMSyncCore

/// Where a feed stands in the daemon.
public enum FeedState: Sendable, Hashable {
    case idle
    case running
    /// Closed by a window (a blackout, outside the allowed windows, or too near one to start a batch).
    case inWindow(String)
    /// The daily request quota of its credentials is spent.
    case parkedOnQuota(until: Timestamp?)
    /// The last run failed (the database, the OEM, a page that failed after its retries).
    case failing(String)
    /// Another process holds the feed's lock and syncs it (another daemon, an `oemsync sync`):
    /// this daemon leaves the feed, and its recorded state, to that process, and looks again on schedule.
    case elsewhere(String)
    case stopped

    public static let names = ["idle", "running", "in window", "parked on quota", "failing", "elsewhere", "stopped"]

    public var name: String {
        switch self {
        case .idle: return "idle"
        case .running: return "running"
        case .inWindow: return "in window"
        case .parkedOnQuota: return "parked on quota"
        case .failing: return "failing"
        case .elsewhere: return "elsewhere"
        case .stopped: return "stopped"
        }
    }

    public var detail: String? {
        switch self {
        case .inWindow(let why), .failing(let why), .elsewhere(let why): return why
        case .parkedOnQuota(let until): return until.map { "the quota renews at \($0)" } ?? "the daily quota is spent"
        case .idle, .running, .stopped: return nil
        }
    }
}

/// The daemon's decisions for one feed, as pure functions of its schedule, what its last run did
/// and the time: what state follows and when it runs next.
public enum FeedPlanner {
    /// After a failed run the next try comes sooner than the schedule would bring it, backing off:
    /// 30 s, 1 min, 2 min ... up to 15 min.
    public static func retryDelay(failures: Int) -> Duration {
        let seconds = 30 * (1 << min(max(failures - 1, 0), 5))
        return .seconds(min(seconds, 900))
    }

    /// When a feed held by its windows may go on: when the closed period ends, or, when it is held by
    /// the drain margin while still open, after the closed period ahead of it.
    public static func reopening(_ schedule: FeedSchedule, now: Timestamp) -> Timestamp? {
        if !schedule.isOpen(at: now) { return schedule.nextOpen(from: now) }
        let close = schedule.nextClose(after: now) ?? now.adding(.seconds(60))
        return schedule.nextOpen(from: close)
    }

    /// Whether a due feed may start now; if not, its state and when to look again.
    public static func beforeRun(_ schedule: FeedSchedule, now: Timestamp, recentBatch: Duration?) -> (FeedState, Timestamp?)? {
        guard let reason = schedule.holdBatch(at: now, recentBatch: recentBatch) else { return nil }
        return (.inWindow(reason), reopening(schedule, now: now))
    }

    public struct Outcome: Sendable, Hashable {
        public var state: FeedState
        public var nextRun: Timestamp?
        public var failures: Int
        /// For `oemsync_runs_total`: ok, held, parked, failed, busy.
        public var label: String
    }

    /// The state and next run after a run that started at `lastStart` ended with `report`.
    public static func afterRun(_ report: FeedReport, schedule: FeedSchedule, lastStart: Timestamp, now: Timestamp, failures: Int) -> Outcome {
        let normal = schedule.nextRun(lastStart: lastStart, now: now)
        if let error = report.error, error.code == .busy {
            return Outcome(state: .elsewhere(error.message), nextRun: normal, failures: failures, label: "busy")
        }
        if let error = report.error {
            let n = failures + 1
            let retry = now.adding(retryDelay(failures: n))
            let next = schedule.nextOpen(from: min(retry, normal ?? retry))
            return Outcome(state: .failing(error.description), nextRun: next, failures: n, label: "failed")
        }
        if report.held?.kind == .shutdown { return Outcome(state: .stopped, nextRun: nil, failures: failures, label: "held") }
        if report.quotaSpent {
            let until = report.held?.until
            return Outcome(
                state: .parkedOnQuota(until: until), nextRun: schedule.nextOpen(from: max(until ?? now.adding(.seconds(3600)), now)),
                failures: 0, label: "parked")
        }
        if let hold = report.held {
            if hold.kind == .window {
                return Outcome(state: .inWindow(hold.reason), nextRun: reopening(schedule, now: now), failures: 0, label: "held")
            }
            // Parked by the OEM (Retry-After) or by max_pages: on at the time it gave, or on schedule.
            let next = hold.until.map { schedule.nextOpen(from: max($0, now)) } ?? normal
            return Outcome(state: .idle, nextRun: next, failures: 0, label: "parked")
        }
        if report.failed {
            return Outcome(state: .failing(failureSummary(report)), nextRun: normal, failures: 0, label: "failed")
        }
        return Outcome(state: .idle, nextRun: normal, failures: 0, label: "ok")
    }

    /// `2 files quarantined`, `1 page failed`: what made a run fail without a feed error.
    static func failureSummary(_ report: FeedReport) -> String {
        var parts: [String] = []
        if report.quarantined > 0 { parts.append(Plural.count(report.quarantined, "file") + " quarantined") }
        let failed = report.files.reduce(0) { $0 + $1.failedBatches }
        if failed > 0 { parts.append(Plural.count(failed, "batch", "batches") + " failed") }
        return parts.isEmpty ? "the last run failed" : "last run: " + parts.joined(separator: ", ")
    }
}
