import OEMSyncCore

/// The daemon's schedule as a value: where each feed stands, which feeds start at a given time, and
/// what follows when a run ends. It reads no clock and starts nothing itself: the daemon asks it
/// with the time, and does what it answers; its tests give it times.
public struct FeedScheduler: Sendable {
    /// One feed as the scheduler sees it.
    public struct Entry: Sendable {
        public var name: String
        public var schedule: FeedSchedule
        public var state: FeedState = .idle
        public var nextRun: Timestamp?
        public var lastStart: Timestamp?
        public var failures = 0
        public var running = false
        /// Gone from the config while running: dropped once its run ends.
        public var removed = false
        /// Asked to run while it was running (a file dropped meanwhile): it runs again once done.
        public var again = false

        public init(name: String, schedule: FeedSchedule, lastStart: Timestamp? = nil) {
            self.name = name
            self.schedule = schedule
            self.lastStart = lastStart
        }
    }

    /// What the daemon does now.
    public enum Action: Sendable, Hashable {
        /// Start a run of the feed (the scheduler marked it running).
        case start(String)
        /// The feed's windows hold it: it stays put, in this state, until its next run.
        case hold(String, FeedState)
    }

    public private(set) var entries: [Entry] = []
    /// Runs at most at once (`daemon.max_parallel`).
    public var maxParallel: Int

    /// When a feed whose windows leave no open time in the horizon looks again.
    static let noWindowRetry = Duration.seconds(3600)

    public init(maxParallel: Int) { self.maxParallel = maxParallel }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
    public var running: [String] { entries.filter(\.running).map(\.name) }

    /// Takes the configured feeds (a start, a reload): a feed it knows keeps its state, its last
    /// start and its failures; an idle one follows its (maybe new) schedule, one parked, failing or
    /// held keeps the time it waits for. A feed gone from the config while it runs stays, marked
    /// removed, until its run ends; one gone while idle is dropped.
    /// - Returns: the feeds dropped.
    @discardableResult
    public mutating func adopt(_ feeds: [(name: String, schedule: FeedSchedule)], now: Timestamp) -> [String] {
        var next: [Entry] = []
        for (name, schedule) in feeds {
            if var e = entry(name) {
                e.schedule = schedule
                e.removed = false
                if !e.running, e.state == .idle || e.state == .stopped { e.nextRun = schedule.nextRun(lastStart: e.lastStart, now: now) }
                next.append(e)
            } else {
                var e = Entry(name: name, schedule: schedule)
                e.nextRun = schedule.nextRun(lastStart: nil, now: now)
                next.append(e)
            }
        }
        let gone = entries.filter { old in !next.contains { $0.name == old.name } }
        for var e in gone where e.running {
            e.removed = true
            next.append(e)
        }
        entries = next
        return gone.filter { !$0.running }.map(\.name)
    }

    /// Where each feed's schedule stands after a restart: its last run's start, so a cron run
    /// missed while the daemon was down runs once now, and an interval counts from that run.
    public mutating func resume(lastStarts: [String: Timestamp], now: Timestamp) {
        for i in entries.indices {
            if let start = lastStarts[entries[i].name] { entries[i].lastStart = start }
            entries[i].nextRun = entries[i].schedule.nextRun(lastStart: entries[i].lastStart, now: now)
        }
    }

    /// The feeds to start at `now`, oldest configured first, at most ``maxParallel`` running; a
    /// due feed its windows hold (or will, within its drain margin) is held instead.
    /// - Parameter recentBatch: the longest recent batch of a feed (the drain margin's `auto`).
    public mutating func due(now: Timestamp, recentBatch: (String) -> Duration? = { _ in nil }) -> [Action] {
        var actions: [Action] = []
        var running = entries.filter(\.running).count
        for i in entries.indices where !entries[i].running && !entries[i].removed && running < maxParallel {
            guard let due = entries[i].nextRun else {
                // Its windows leave no open time within the horizon: look again later.
                entries[i].state = .inWindow("not open within the next \(FeedSchedule.horizon.short)")
                entries[i].nextRun = now.adding(Self.noWindowRetry)
                actions.append(.hold(entries[i].name, entries[i].state))
                continue
            }
            guard due <= now else { continue }
            if let (state, next) = FeedPlanner.beforeRun(entries[i].schedule, now: now, recentBatch: recentBatch(entries[i].name)) {
                entries[i].state = state
                entries[i].nextRun = next ?? now.adding(Self.noWindowRetry)
                actions.append(.hold(entries[i].name, state))
                continue
            }
            entries[i].running = true
            entries[i].lastStart = now
            entries[i].state = .running
            running += 1
            actions.append(.start(entries[i].name))
        }
        return actions
    }

    /// Something for the feed arrived (a file dropped, `oemsync trigger`): it is due now, its
    /// windows permitting, or, while it runs, as soon as that run ends. False for an unknown feed.
    @discardableResult
    public mutating func runSoon(_ name: String, now: Timestamp) -> Bool {
        guard let i = entries.firstIndex(where: { $0.name == name && !$0.removed }) else { return false }
        if entries[i].running {
            entries[i].again = true
        } else if let next = entries[i].nextRun, next > now, Self.waitsForItself(entries[i].state) {
            // Parked on its quota, or held by its window: it waits for that, not for the file.
        } else {
            entries[i].nextRun = now
        }
        return true
    }

    /// A state whose next run is set by something a new file does not change: the quota's day, a window.
    static func waitsForItself(_ state: FeedState) -> Bool {
        switch state {
        case .parkedOnQuota, .inWindow: return true
        default: return false
        }
    }

    /// A run of `name` ended with `report`: its next state and run. Nil for a feed not running.
    public mutating func finished(_ name: String, report: FeedReport, now: Timestamp) -> FeedPlanner.Outcome? {
        guard let i = entries.firstIndex(where: { $0.name == name && $0.running }) else { return nil }
        let e = entries[i]
        let outcome = FeedPlanner.afterRun(report, schedule: e.schedule, lastStart: e.lastStart ?? now, now: now, failures: e.failures)
        if e.removed {
            entries.remove(at: i)
            return outcome
        }
        entries[i].running = false
        entries[i].state = outcome.state
        entries[i].nextRun = outcome.nextRun
        entries[i].failures = outcome.failures
        if e.again {
            // Asked again while it ran: once more now, unless this run says to wait (a failure
            // backing off, a quota, a window, the daemon stopping).
            entries[i].again = false
            if outcome.state == .idle, let next = outcome.nextRun, next > now { entries[i].nextRun = now }
        }
        return outcome
    }

    /// The daemon stops: every feed not running is stopped, without a next run.
    public mutating func stopAll() {
        for i in entries.indices where !entries[i].running {
            entries[i].state = .stopped
            entries[i].nextRun = nil
        }
    }

    /// The earliest time a feed not running is due: when the daemon must look again at the latest.
    public var nextDue: Timestamp? {
        entries.filter { !$0.running && !$0.removed }.compactMap(\.nextRun).min()
    }
}
