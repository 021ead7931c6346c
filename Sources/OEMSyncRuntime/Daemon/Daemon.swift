import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// `oemsync run`: every configured feed on its schedule and windows, in one process, for months.
///
/// The main loop ticks once a second: it starts the feeds that are due (each sync on a thread of
/// its own, at most `max_parallel` at a time), takes in the runs that ended, decides each feed's
/// state and next run (``FeedPlanner``), records the states in the database for `oemsync status`,
/// and pings systemd's watchdog while healthy. A sync asks before every batch whether it may start
/// (``RunControl``): a blackout near, or the daemon stopping, and it stops after the batch in
/// flight, checkpointed.
///
/// Startup: a database that is down or not migrated is waited for (systemd hears `STATUS=` and an
/// extended start timeout); a mapping that does not fit the database's tables exits 78. SIGHUP
/// (``requestReload()``) reloads config and mappings once they validate; otherwise the running
/// ones stay and the log says why.
public final class Daemon: @unchecked Sendable {
    public struct Options: Sendable {
        public var configPath: String
        /// How often the main loop looks at the feeds.
        public var tick: Duration

        public init(configPath: String, tick: Duration = .seconds(1)) {
            self.configPath = configPath
            self.tick = tick
        }
    }

    let options: Options
    let logger: Logger
    let console: Console
    let clock: any SyncClock
    let notifier: SystemdNotifier
    public let metrics = DaemonMetrics()
    /// `host:pid`, recorded beside each feed state.
    let process: String
    /// Called on the sync thread after each committed batch (tests move their clock here).
    let onBatch: (@Sendable (RunControl.Batch) -> Void)?

    private let lock = NSLock()
    private var stopping = false
    private var reloadWanted = false
    private var ready = false
    private var lastTick: Duration
    private var finished: [(String, FeedReport)] = []
    private var published: [String: FeedState] = [:]
    private var stalled = false

    // The main loop's own state.
    private var project: Project?
    private var services: SourceServices?
    private var feeds: [FeedRuntime] = []
    private var recorder: StateRecorder?
    private var lastStatus = ""
    /// The OEM hosts of the REST feeds, for the circuit-breaker gauges.
    private var hosts: Set<String> = []

    public init(
        options: Options, logger: Logger, console: Console = .standard, clock: any SyncClock = SystemClock(),
        notifier: SystemdNotifier = SystemdNotifier(), onBatch: (@Sendable (RunControl.Batch) -> Void)? = nil
    ) {
        self.options = options
        self.logger = logger
        self.console = console
        self.clock = clock
        self.notifier = notifier
        self.onBatch = onBatch
        self.lastTick = clock.uptime()
        process = FeedLock.processName
    }

    // MARK: Controls (any thread)

    /// SIGTERM: every sync stops after its batch in flight; then ``run()`` returns 0.
    public func requestStop() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        if first {
            notifier.notify("STOPPING=1")
            logger.notice("stopping: syncs finish their batch in flight")
        }
    }

    /// SIGHUP: reload config and mappings at the next tick.
    public func requestReload() { lock.withLock { reloadWanted = true } }

    var isStopping: Bool { lock.withLock { stopping } }

    /// For /healthz (the main loop ticks and no sync is stalled) and /readyz.
    public var health: (live: Bool, ready: Bool) {
        let now = clock.uptime()
        return lock.withLock { (now - lastTick < .seconds(30) + options.tick * 5 && !stalled, ready) }
    }

    /// The feeds' states, as the main loop last published them (tests).
    public func states() -> [String: FeedState] { lock.withLock { published } }

    // MARK: Main loop

    /// Runs until stopped; returns the exit status (0, or 78 when a mapping does not fit the database).
    public func run() async -> Int32 {
        guard let code = await prepare() else { return 0 }
        guard code == ExitStatus.ok else { return code }
        lock.withLock { ready = true }
        metrics.set(DaemonMetrics.up, [:], 1)
        let now = clock.now()
        for feed in feeds { feed.nextRun = feed.schedule.nextRun(lastStart: feed.lastStart, now: now) }
        notifier.notify("READY=1\nSTATUS=\(statusLine())")
        logger.notice("daemon ready", metadata: [LogKey.feeds: .stringConvertible(feeds.count)])
        var lastPing = clock.uptime()
        let startedAt = clock.now()
        var lastHeartbeat: Duration?
        while true {
            lock.withLock { lastTick = clock.uptime() }
            if lock.withLock({ defer { reloadWanted = false }; return reloadWanted }) { reload() }
            let now = clock.now()
            collectFinished(now: now)
            if isStopping {
                if !feeds.contains(where: \.running) { break }
            } else {
                startDue(now: now)
            }
            publish(now: now)
            if lastHeartbeat.map({ clock.uptime() - $0 >= Ledger.heartbeatInterval }) ?? true {
                recorder?.heartbeat(process: process, startedAt: startedAt, now: now)
                lastHeartbeat = clock.uptime()
            }
            if healthy() { pingWatchdog(&lastPing) }
            try? await Task.sleep(for: sleepTime)
        }
        for feed in feeds {
            feed.state = .stopped
            feed.nextRun = nil
        }
        publish(now: clock.now())
        recorder?.stopped(process: process, now: clock.now())
        recorder?.flush()
        logger.notice("daemon stopped")
        return ExitStatus.ok
    }

    /// The main loop's pause: its tick, or half the watchdog interval when that is shorter.
    private var sleepTime: Duration {
        guard let interval = notifier.watchdogInterval else { return options.tick }
        return min(options.tick, interval / 2)
    }

    /// `WATCHDOG=1` once half of systemd's interval has passed since the last one.
    private func pingWatchdog(_ last: inout Duration) {
        guard let interval = notifier.watchdogInterval, clock.uptime() - last >= interval / 2 else { return }
        notifier.notify("WATCHDOG=1")
        last = clock.uptime()
    }

    /// Waits for a usable database and compiles the mappings against it. Nil when stopped while
    /// waiting; 78 when a mapping does not fit.
    private func prepare() async -> Int32? {
        var attempt = 0
        while !isStopping {
            switch load() {
            case .ready(let project, let database):
                adopt(project, keeping: [])
                // Where each feed's schedule stands: its last batch's start, so a cron run missed
                // while the daemon was down runs once now, and an interval counts from that run.
                let summaries = (try? Ledger(database).feedSummaries()) ?? [:]
                for feed in feeds {
                    guard let started = summaries[feed.name]?.lastBatch?.startedAt, let date = try? Date(started, strategy: .iso8601) else { continue }
                    feed.lastStart = Timestamp(seconds: Int64(date.timeIntervalSince1970))
                }
                recorder = StateRecorder(database: database, settings: project.configuration.database, logger: logger)
                return ExitStatus.ok
            case .invalid:
                return ExitStatus.config
            case .databaseUnavailable(let message):
                attempt += 1
                let wait = Duration.seconds(min(30, 1 << min(attempt - 1, 5)))
                logger.warning("database unavailable", metadata: [LogKey.error: .string(message), "oemsync.retry_in": .string(wait.short)])
                notifier.extendTimeout(wait + .seconds(30))
                notifier.notify("STATUS=waiting for the database: \(message)")
                let until = clock.uptime() + wait
                var lastPing = Duration.zero
                while clock.uptime() < until, !isStopping {
                    pingWatchdog(&lastPing)
                    try? await Task.sleep(for: sleepTime)
                }
            }
        }
        return nil
    }

    enum Load {
        case ready(Project, any DealerDatabase)
        case invalid
        case databaseUnavailable(String)
    }

    /// Reads the config, opens its database and compiles every mapping against the live tables.
    private func load(reloading: Bool = false) -> Load {
        let loaded = ConfigurationLoader().load(path: options.configPath)
        guard let configuration = loaded.configuration else {
            console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [options.configPath: $0] } ?? [:]))
            return .invalid
        }
        let database: any DealerDatabase
        let catalog: SchemaCatalog
        do {
            database = try DatabaseOpener.open(configuration.database)
            switch try SchemaGate.check(database, displayName: configuration.database.displayName) {
            case .usable: break
            case .pending(let message): return .databaseUnavailable(message)
            case .newer(let message):
                console.err("oemsync run: \(message)\n")
                return .invalid
            }
            catalog = try database.catalog()
        } catch {
            return .databaseUnavailable(error.description)
        }
        let load = Project.load(configPath: options.configPath, catalog: catalog, catalogIsComplete: true)
        guard let project = load.project else {
            console.report(load.diagnostics, load.renderer)
            return .invalid
        }
        // Warnings were printed by the check before start; on a reload they are news.
        if reloading, !load.diagnostics.isEmpty { console.report(load.diagnostics, load.renderer) }
        return .ready(project, database)
    }

    /// Takes a project's feeds, keeping what the daemon knows of feeds it already ran.
    private func adopt(_ project: Project, keeping old: [FeedRuntime]) {
        self.project = project
        let credentials = project.configuration.credentials
        services = services?.reloaded(credentials: credentials) ?? SourceServices(credentials: credentials, clock: clock)
        let now = clock.now()
        let updated = project.configuration.feeds.compactMap { settings -> FeedRuntime? in
            guard let plan = project.plans[settings.name] else { return nil }
            if let existing = old.first(where: { $0.name == settings.name }) {
                existing.settings = settings
                existing.plan = plan
                existing.removed = false
                // An idle feed follows its (maybe new) schedule; one parked, failing or held by a
                // window keeps the time it waits for.
                if !existing.running, existing.state == .idle || existing.state == .stopped {
                    existing.nextRun = settings.schedule.nextRun(lastStart: existing.lastStart, now: now)
                }
                return existing
            }
            return FeedRuntime(settings: settings, plan: plan)
        }
        // A feed removed from the config while it runs finishes its batch and is then dropped.
        let kept = old.filter { gone in gone.running && !updated.contains { $0 === gone } }
        for gone in kept { gone.removed = true }
        feeds = updated + kept
        hosts = Set(updated.compactMap { $0.settings.source.http.map(\.url).map { RequestRunner.host(of: $0) } })
        // Series of feeds no longer configured stop being reported.
        for gone in old where !updated.contains(where: { $0 === gone }) { metrics.removeFeed(gone.name) }
    }

    private func reload() {
        notifier.reloading()
        logger.notice("reloading configuration")
        switch load(reloading: true) {
        case .ready(let project, let database):
            adopt(project, keeping: feeds)
            recorder?.replace(database: database, settings: project.configuration.database)
            logger.notice("configuration reloaded", metadata: [LogKey.feeds: .stringConvertible(project.configuration.feeds.count)])
        case .invalid:
            logger.error("configuration not reloaded", metadata: [LogKey.reason: "the config or a mapping is invalid (see the diagnostics above); the running configuration stays"])
        case .databaseUnavailable(let message):
            logger.error("configuration not reloaded", metadata: [LogKey.reason: .string("the database is unavailable: \(message); the running configuration stays")])
        }
        notifier.notify("READY=1\nSTATUS=\(statusLine())")
    }

    // MARK: Runs

    private func startDue(now: Timestamp) {
        guard let project, let services else { return }
        var running = feeds.filter(\.running).count
        for feed in feeds where !feed.running && !feed.removed && running < project.configuration.daemon.maxParallel {
            guard let due = feed.nextRun else {
                // Its windows leave no open time within the horizon: look again in an hour.
                feed.state = .inWindow("not open within the next \(FeedSchedule.horizon.short)")
                feed.nextRun = now.adding(.seconds(3600))
                continue
            }
            guard due <= now else { continue }
            if let (state, next) = FeedPlanner.beforeRun(feed.schedule, now: now, recentBatch: feed.recentBatch) {
                if feed.state != state { logger.info("feed in window", metadata: [LogKey.feed: .string(feed.name), LogKey.reason: .string(state.detail ?? "")]) }
                feed.state = state
                feed.nextRun = next ?? now.adding(.seconds(3600))
                continue
            }
            launch(feed, configuration: project.configuration, services: services, now: now)
            running += 1
        }
    }

    private func launch(_ feed: FeedRuntime, configuration: Configuration, services: SourceServices, now: Timestamp) {
        feed.running = true
        feed.lastStart = now
        feed.state = .running
        feed.touch(clock.uptime())
        let schedule = feed.schedule
        let settings = feed.settings
        let plan = feed.plan
        let metrics = self.metrics
        let clock = self.clock
        let onBatch = self.onBatch
        let name = feed.name
        let control = RunControl(
            hold: { [weak self] t in
                guard let self, !self.isStopping else { return RunControl.Hold(reason: "the daemon is stopping", kind: .shutdown) }
                return schedule.holdBatch(at: t, recentBatch: feed.recentBatch).map { RunControl.Hold(reason: $0, kind: .window) }
            },
            committed: { batch in
                feed.record(batch.duration, at: clock.uptime())
                metrics.add(DaemonMetrics.recordsIn, ["feed": name], Double(batch.recordsIn))
                metrics.add(DaemonMetrics.written, ["feed": name], Double(batch.written))
                metrics.add(DaemonMetrics.rejected, ["feed": name], Double(batch.rejected))
                metrics.add(DaemonMetrics.batches, ["feed": name, "status": batch.failed ? "failed" : batch.rejected > 0 ? "partial" : "ok"])
                metrics.observe(DaemonMetrics.batchDuration, ["feed": name], batch.duration.seconds)
                onBatch?(batch)
            },
            retried: {
                feed.touch(clock.uptime())
                metrics.add(DaemonMetrics.retries, ["feed": name])
            },
            now: { clock.now() })
        var feedLogger = self.logger
        feedLogger[metadataKey: LogKey.feed] = .string(name)
        feedLogger.info("run started")
        let logger = feedLogger
        let database = configuration.database
        let thread = Thread { [weak self] in
            let report: FeedReport
            do {
                let db = try DatabaseOpener.open(database)
                report = FeedRunner.run(settings, plan: plan, database: db, services: services, logger: logger, control: control)
            } catch {
                var r = FeedReport(feed: name)
                r.error = FeedError(.database, feed: name, "\(error)")
                report = r
            }
            self?.lock.withLock { self?.finished.append((name, report)) }
        }
        thread.name = "oemsync-feed"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func collectFinished(now: Timestamp) {
        let done = lock.withLock {
            defer { finished.removeAll() }
            return finished
        }
        for (name, report) in done {
            guard let feed = feeds.first(where: { $0.name == name && $0.running }) else { continue }
            feed.running = false
            let outcome = FeedPlanner.afterRun(report, schedule: feed.schedule, lastStart: feed.lastStart ?? now, now: now, failures: feed.failures)
            feed.state = outcome.state
            feed.nextRun = outcome.nextRun
            feed.failures = outcome.failures
            metrics.add(DaemonMetrics.runs, ["feed": name, "outcome": outcome.label])
            var meta: Logger.Metadata = [
                LogKey.feed: .string(name), LogKey.state: .string(outcome.state.name), LogKey.records: .stringConvertible(report.recordsIn),
                LogKey.written: .stringConvertible(report.written), LogKey.rejected: .stringConvertible(report.rejected),
            ]
            if let next = outcome.nextRun { meta[LogKey.next] = .string(next.description) }
            if let detail = outcome.state.detail { meta[LogKey.reason] = .string(detail) }
            if case .failing = outcome.state { logger.warning("run finished", metadata: meta) } else { logger.info("run finished", metadata: meta) }
            recorder?.refreshLag(feed: feed.settings, metrics: metrics, now: now)
        }
        feeds.removeAll { $0.removed && !$0.running }
    }

    /// Healthy: no running feed has gone without progress for the config's `stall_timeout`.
    private func healthy() -> Bool {
        let now = clock.uptime()
        let limit = project?.configuration.daemon.stallTimeout ?? DaemonSettings().stallTimeout
        let stuck = feeds.filter { $0.running && now - $0.lastProgress > limit }
        let was = lock.withLock { () -> Bool in
            defer { stalled = !stuck.isEmpty }
            return stalled
        }
        if !stuck.isEmpty, !was {
            logger.error("sync stalled: watchdog pings stop", metadata: [LogKey.feeds: .string(stuck.map(\.name).joined(separator: ","))])
        } else if stuck.isEmpty, was {
            logger.notice("sync progressing again: watchdog pings resume")
        }
        return stuck.isEmpty
    }

    // MARK: What the daemon tells

    /// Tells what changed since the last tick: each feed's state, reason, next run and window (to
    /// the database, the metrics and `STATUS=`), and the quotas and circuit breakers (metrics).
    private func publish(now: Timestamp) {
        var records: [FeedStateRecord] = []
        var changed = false
        for feed in feeds {
            let open = feed.schedule.isOpen(at: now)
            let record = FeedStateRecord(
                feed: feed.name, state: feed.state.name, detail: feed.state.detail, nextRun: feed.nextRun, windowOpen: open, process: process,
                updatedAt: now)
            if let last = feed.recorded, last.sameState(as: record) { continue }
            feed.recorded = record
            changed = true
            // A feed another process runs is that process's to record.
            if case .elsewhere = feed.state {} else { records.append(record) }
            metrics.set(DaemonMetrics.window, ["feed": feed.name], open ? 1 : 0)
            metrics.select(DaemonMetrics.state, ["feed": feed.name], key: "state", value: feed.state.name, among: FeedState.names)
            if let next = feed.nextRun {
                metrics.set(DaemonMetrics.nextRun, ["feed": feed.name], Double(next.microseconds / 1_000_000))
            } else {
                metrics.remove(DaemonMetrics.nextRun, ["feed": feed.name])
            }
        }
        if let services {
            for (name, limiter) in services.limiters() {
                if let left = limiter.remainingToday { metrics.set(DaemonMetrics.quotaLeft, ["credentials": name], Double(left)) }
            }
            for host in hosts {
                let open: Bool
                if case .open = services.breakers.state(host: host) { open = true } else { open = false }
                metrics.set(DaemonMetrics.circuit, ["host": host], open ? 1 : 0)
            }
        }
        guard changed else { return }
        if !records.isEmpty { recorder?.save(records) }
        let snapshot = Dictionary(feeds.map { ($0.name, $0.state) }, uniquingKeysWith: { a, _ in a })
        lock.withLock { published = snapshot }
        let line = statusLine()
        if line != lastStatus {
            lastStatus = line
            notifier.notify("STATUS=\(line)")
        }
    }

    /// `4 feeds: 1 running, 2 idle, 1 in window`.
    func statusLine() -> String {
        var counts: [String: Int] = [:]
        for feed in feeds { counts[feed.state.name, default: 0] += 1 }
        let parts = FeedState.names.compactMap { name in counts[name].map { "\($0) \(name)" } }
        let head = Plural.count(feeds.count, "feed")
        return parts.isEmpty ? head : head + ": " + parts.joined(separator: ", ")
    }
}

/// One feed as the daemon runs it. The main loop owns it; the sync thread reports its batches'
/// durations and its progress through the locked part.
final class FeedRuntime: @unchecked Sendable {
    var settings: FeedSettings
    var plan: MappingPlan
    var state: FeedState = .idle
    var nextRun: Timestamp?
    var lastStart: Timestamp?
    var failures = 0
    var running = false
    var removed = false
    /// The state last published, to publish only changes.
    var recorded: FeedStateRecord?

    private let lock = NSLock()
    private var durations: [Duration] = []
    private var progress = Duration.zero

    init(settings: FeedSettings, plan: MappingPlan) {
        self.settings = settings
        self.plan = plan
    }

    var name: String { settings.name }
    var schedule: FeedSchedule { settings.schedule }

    /// The longest of the last ten batches: the drain margin's `auto`.
    var recentBatch: Duration? { lock.withLock { durations.max() } }
    var lastProgress: Duration { lock.withLock { progress } }

    func record(_ duration: Duration, at uptime: Duration) {
        lock.withLock {
            durations.append(duration)
            if durations.count > 10 { durations.removeFirst() }
            progress = uptime
        }
    }

    func touch(_ uptime: Duration) { lock.withLock { progress = uptime } }
}

extension FeedStateRecord {
    /// Whether two records say the same, whenever they were written.
    func sameState(as other: FeedStateRecord) -> Bool {
        state == other.state && detail == other.detail && nextRun == other.nextRun && windowOpen == other.windowOpen
    }
}

extension SourceServices {
    /// The request limiters built so far, by credentials name.
    func limiters() -> [(String, RequestLimiter)] {
        lockedBuilt().map { ($0.key, $0.value.1) }
    }
}
