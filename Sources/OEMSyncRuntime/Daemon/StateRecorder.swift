import Dispatch
import Logging
import OEMSyncCore
import OEMSyncSinks

/// Writes the feeds' states to `oemsync_feed_states` off the main loop, on a queue of its own, so
/// a slow or unreachable database never delays the loop (nor the watchdog). A write that fails is
/// logged once and retried with the next change; the connection is opened again after a failure.
final class StateRecorder: @unchecked Sendable {
    private let queue = DispatchQueue(label: "oemsync-states")
    private var database: (any DealerDatabase)?
    private var settings: DatabaseSettings
    private let logger: Logger
    private var failing = false
    /// Records not yet written (a failed write keeps them for the next one).
    private var pending: [String: FeedStateRecord] = [:]

    init(database: any DealerDatabase, settings: DatabaseSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    func replace(database: any DealerDatabase, settings: DatabaseSettings) {
        queue.async {
            self.database = database
            self.settings = settings
        }
    }

    func save(_ records: [FeedStateRecord]) {
        queue.async { self.write(records) }
    }

    /// Sets the feed's checkpoint lag gauge from the ledger, as `oemsync status` computes it.
    func refreshLag(feed: FeedSettings, metrics: DaemonMetrics, now: Timestamp) {
        queue.async {
            guard let db = self.connection(), let checkpoint = try? Ledger(db).checkpoint(feed: feed.name) else { return }
            var summary = FeedSummary(feed: feed.name)
            summary.checkpoint = checkpoint
            var status = StatusCommand.FeedStatus(feed: feed.name, kind: feed.source.kind.name, state: "", summary: summary)
            feed.source.describe(&status, now: now)
            if let lag = status.lagSeconds { metrics.set(DaemonMetrics.lag, ["feed": feed.name], Double(lag)) }
        }
    }

    /// The daemon's heartbeat (`oemsync_daemons`), so `status` can tell a live daemon from a dead one.
    func heartbeat(process: String, startedAt: Timestamp, now: Timestamp) {
        queue.async {
            do {
                guard let db = self.connection() else { return }
                try Ledger(db).heartbeat(process: process, version: OEMSyncVersion.current, startedAt: startedAt, now: now)
            } catch {
                self.database = nil  // opened again next time; the feed states' writes say why
            }
        }
    }

    /// A clean stop: the feed states this daemon leaves are final, not stale.
    func stopped(process: String, now: Timestamp) {
        queue.async {
            guard let db = self.connection() else { return }
            try? Ledger(db).daemonStopped(process: process, now: now)
        }
    }

    /// Waits for the writes queued so far.
    func flush() { queue.sync {} }

    private func connection() -> (any DealerDatabase)? {
        if let database { return database }
        database = try? DatabaseOpener.open(settings)
        return database
    }

    private func write(_ records: [FeedStateRecord]) {
        for r in records { pending[r.feed] = r }
        do {
            guard let db = connection() else { throw SinkError(.connect, "cannot open \(settings.displayName)") }
            try Ledger(db).saveFeedStates(pending.values.sorted { $0.feed < $1.feed })
            pending.removeAll()
            if failing { logger.notice("feed states recorded again") }
            failing = false
        } catch {
            if !failing { logger.warning("feed states not recorded", metadata: [LogKey.error: .string("\(error)")]) }
            failing = true
            database = nil
        }
    }
}
