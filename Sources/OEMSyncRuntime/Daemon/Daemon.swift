import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks
import AsyncAlgorithms

/// `oemsync run`: every configured feed on its schedule and windows, in one process, for months.
///
/// The main loop waits for something to happen: a run that ended, a stop or reload request, or its
/// timer (the next feed due, and at least every `tick`, for the watchdog and the heartbeat). Then
/// it asks the ``FeedScheduler`` which feeds start (at most `max_parallel` at a time), starts them
/// as child tasks, each on a thread of its own (the sync blocks on libpq, libcurl and files), takes
/// in the runs that ended, records the feeds' states in the database for `oemsync status`, and
/// pings systemd's watchdog while healthy. A sync asks before every batch whether it may start
/// (``RunControl``): a blackout near, or the daemon stopping, and it stops after the batch in
/// flight, checkpointed.
///
/// Time is the daemon's clock: with a test clock the loop's timer fires when the test moves the
/// clock, so tests wait on what the daemon does (``progress()``), never on the wall clock.
///
/// Startup: a database that is down or not migrated is waited for (systemd hears `STATUS=` and an
/// extended start timeout); a mapping that does not fit the database's tables exits 78. SIGHUP
/// (``requestReload()``) reloads config and mappings once they validate; otherwise the running
/// ones stay and the log says why.
public final class Daemon: @unchecked Sendable {
    public struct Options: Sendable {
        public var configPath: String
        /// The longest the main loop waits without looking at the feeds.
        public var tick: Duration

        public init(configPath: String, tick: Duration = .seconds(1)) {
            self.configPath = configPath
            self.tick = tick
        }
    }

    /// What wakes the main loop.
    enum Event: Sendable {
        case finished(String, FeedReport)
        /// Something for the feed arrived: a file in its drop directory.
        case due(String)
        case stop
        case reload
        case timer
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
    private let events = AsyncChannel<Event>()

    private let lock = NSLock()
    private var stopping = false
    private var reloadWanted = false
    private var ready = false
    private var lastTick: Duration
    private var published: [String: FeedState] = [:]
    private var stalled = false
    private var observers: [Int: AsyncStream<Progress>.Continuation] = [:]
    private var nextObserver = 0
    private var turns = 0

    // The main loop's own state.
    private var project: Project?
    private var services: SourceServices?
    private var scheduler = FeedScheduler(maxParallel: 1)
    private var feeds: [String: FeedRuntime] = [:]
    private var recorder: StateRecorder?
    private var lastStatus = ""
    /// The OEM hosts of the HTTP feeds, for the circuit-breaker gauges.
    private var hosts: Set<String> = []
    /// Watches the file feeds' drop directories, to run a feed as soon as a file arrives.
    private var watcher: DropWatcher?
    /// Takes `oemsync trigger` requests.
    private var control: ControlSocket?

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
            wake(.stop)
        }
    }

    /// SIGHUP: reload config and mappings.
    public func requestReload() {
        lock.withLock { reloadWanted = true }
        wake(.reload)
    }

    /// `oemsync trigger FEED` (the control socket): the feed runs now, its windows and quota
    /// permitting; the answer line says so, or why not.
    func answer(_ request: String) -> String {
        let parts = request.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0] == "run" else { return "error: unknown request; the request is 'run FEED'" }
        let name = String(parts[1])
        let states = self.states()
        guard let state = states[name] else {
            return "error: no feed '\(name)' in the running configuration; feeds: \(states.keys.sorted().joined(separator: ", "))"
        }
        if isStopping { return "error: the daemon is stopping" }
        wake(.due(name))
        logger.info("run requested", metadata: [LogKey.feed: .string(name)])
        switch state {
        case .running: return "ok: feed '\(name)' is running; it runs again as soon as this run ends"
        case .parkedOnQuota, .inWindow: return "ok: feed '\(name)' is \(state.name) (\(state.detail ?? "")); it runs when that ends"
        default: return "ok: feed '\(name)' runs now"
        }
    }

    private func wake(_ event: Event) {
        let events = self.events
        Task { await events.send(event) }
    }

    var isStopping: Bool { lock.withLock { stopping } }

    /// For /healthz (the main loop turns and no sync is stalled) and /readyz.
    public var health: (live: Bool, ready: Bool) {
        let now = clock.uptime()
        return lock.withLock { (now - lastTick < .seconds(30) + options.tick * 5 && !stalled, ready) }
    }

    /// The feeds' states, as the main loop last published them.
    public func states() -> [String: FeedState] { lock.withLock { published } }

    /// Where the daemon stands after a turn of its main loop.
    public struct Progress: Sendable {
        /// Turns so far: each handles what woke the loop (a run ended, a request, its timer).
        public var turn: Int
        public var states: [String: FeedState]
    }

    /// The daemon after every turn of its main loop, starting with the last one: what tests wait
    /// on instead of the clock. The loop's timer is set before a turn is told, so a test that moves
    /// its clock after seeing a turn always gets another.
    public func progress() -> AsyncStream<Progress> {
        let (stream, continuation) = AsyncStream<Progress>.makeStream(bufferingPolicy: .bufferingNewest(64))
        lock.withLock {
            let id = nextObserver
            nextObserver += 1
            observers[id] = continuation
            continuation.yield(Progress(turn: turns, states: published))
            continuation.onTermination = { [weak self] _ in _ = self?.lock.withLock { self?.observers.removeValue(forKey: id) } }
        }
        return stream
    }

    /// The turns of the main loop so far.
    public var turn: Int { lock.withLock { turns } }

    /// Waits until the daemon satisfies `condition` after a turn of its loop; false when it has
    /// not within `timeout` (a failing test, not a wait).
    public func until(_ timeout: Duration = .seconds(60), _ condition: @escaping @Sendable (Progress) -> Bool) async -> Bool {
        let stream = progress()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await progress in stream where condition(progress) { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Waits for the feed states recorded so far to be written to the database.
    func flushStates() { recorder?.flush() }

    // MARK: Main loop

    /// Runs until stopped; returns the exit status (0, or 78 when a mapping does not fit the database).
    public func run() async -> Int32 {
        guard let code = await prepare() else { return 0 }
        guard code == ExitStatus.ok else { return code }
        lock.withLock { ready = true }
        metrics.set(DaemonMetrics.up, [:], 1)
        if let path = project?.configuration.daemon.control {
            do {
                control = try ControlSocket(path: path) { [weak self] request in self?.answer(request) ?? "error: the daemon is stopping" }
                logger.info("control socket listening", metadata: [LogKey.file: .string(path)])
            } catch {
                logger.notice("no control socket: oemsync trigger is unavailable", metadata: [LogKey.file: .string(path), LogKey.reason: .string(error.description)])
            }
        }
        notifier.notify("READY=1\nSTATUS=\(statusLine())")
        logger.notice("daemon ready", metadata: [LogKey.feeds: .stringConvertible(feeds.count)])
        var lastPing = clock.uptime()
        let startedAt = clock.now()
        var lastHeartbeat: Duration?
        await withTaskGroup(of: Void.self) { group in
            var timer: Task<Void, Never>?
            var iterator = events.makeAsyncIterator()
            var event = Event.timer
            while true {
                lock.withLock { lastTick = clock.uptime() }
                switch event {
                case .finished(let name, let report):
                    collect(name, report, now: clock.now())
                    watchDrops()  // a first run creates its drop directory
                case .due(let name):
                    if scheduler.runSoon(name, now: clock.now()) { logger.debug("drop directory changed", metadata: [LogKey.feed: .string(name)]) }
                case .stop, .reload, .timer:
                    break
                }
                if lock.withLock({ defer { reloadWanted = false }; return reloadWanted }) { reload() }
                let now = clock.now()
                if isStopping {
                    if scheduler.running.isEmpty { break }
                } else {
                    startDue(now: now, in: &group)
                }
                publish(now: now)
                if lastHeartbeat.map({ clock.uptime() - $0 >= Ledger.heartbeatInterval }) ?? true {
                    recorder?.heartbeat(process: process, startedAt: startedAt, now: now)
                    lastHeartbeat = clock.uptime()
                }
                if healthy() { pingWatchdog(&lastPing) }
                // Look again when the next feed is due, and at least every tick.
                var wait = sleepTime
                if !isStopping, scheduler.running.count < scheduler.maxParallel, let due = scheduler.nextDue, due > now {
                    wait = min(wait, .microseconds(due.microseconds - now.microseconds))
                }
                let deadline = clock.uptime() + wait
                let (timerClock, timerEvents) = (clock, events)
                timer?.cancel()
                timer = Task {
                    await timerClock.wait(until: deadline)
                    if !Task.isCancelled { await timerEvents.send(.timer) }
                }
                announce()
                guard let next = await iterator.next() else { break }
                event = next
            }
            timer?.cancel()
        }
        // Requests that come after the last turn have nothing left to wake.
        events.finish()
        watcher?.stop()
        control?.stop()
        scheduler.stopAll()
        publish(now: clock.now())
        announce()
        recorder?.stopped(process: process, now: clock.now())
        recorder?.flush()
        lock.withLock {
            for (_, o) in observers { o.finish() }
            observers.removeAll()
        }
        logger.notice("daemon stopped")
        return ExitStatus.ok
    }

    /// The main loop's longest wait: its tick, or half the watchdog interval when that is shorter.
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

    /// Tells the observers (``progress()``) the states after this turn.
    private func announce() {
        lock.withLock {
            turns += 1
            for (_, o) in observers { o.yield(Progress(turn: turns, states: published)) }
        }
    }

    /// Waits for a usable database and compiles the mappings against it. Nil when stopped while
    /// waiting; 78 when a mapping does not fit.
    private func prepare() async -> Int32? {
        var attempt = 0
        while !isStopping {
            switch load() {
            case .ready(let project, let database):
                adopt(project)
                // Where each feed's schedule stands: its last batch's start, so a cron run missed
                // while the daemon was down runs once now, and an interval counts from that run.
                let summaries = (try? Ledger(database).feedSummaries()) ?? [:]
                var starts: [String: Timestamp] = [:]
                for (name, summary) in summaries {
                    guard let started = summary.lastBatch?.startedAt, let date = try? Date(started, strategy: .iso8601) else { continue }
                    starts[name] = Timestamp(seconds: Int64(date.timeIntervalSince1970))
                }
                scheduler.resume(lastStarts: starts, now: clock.now())
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
    private func adopt(_ project: Project) {
        self.project = project
        let configuration = project.configuration
        services = services?.reloaded(credentials: configuration.credentials) ?? SourceServices(credentials: configuration.credentials, clock: clock)
        scheduler.maxParallel = configuration.daemon.maxParallel
        let configured = configuration.feeds.filter { project.plans[$0.name] != nil }
        let dropped = scheduler.adopt(configured.map { ($0.name, $0.schedule) }, now: clock.now())
        for settings in configured {
            let plan = project.plans[settings.name]!
            if let existing = feeds[settings.name] {
                existing.settings = settings
                existing.plan = plan
            } else {
                feeds[settings.name] = FeedRuntime(settings: settings, plan: plan)
            }
        }
        // Series of feeds no longer configured stop being reported; one still running goes once it ends.
        for name in dropped {
            feeds[name] = nil
            metrics.removeFeed(name)
        }
        hosts = Set(configured.compactMap { $0.source.http.map { RequestRunner.host(of: $0.url) } })
        let snapshot = Dictionary(scheduler.entries.map { ($0.name, $0.state) }, uniquingKeysWith: { a, _ in a })
        lock.withLock { published = snapshot }
        watchDrops()
    }

    /// Watches the drop directory of every file feed (inotify); drops are found on schedule too.
    private func watchDrops() {
        var directories: [String: [String]] = [:]
        for entry in scheduler.entries where !entry.removed {
            guard let drop = feeds[entry.name]?.settings.source.dropDirectory else { continue }
            directories[drop.path, default: []].append(entry.name)
        }
        if watcher == nil, !directories.isEmpty {
            watcher = DropWatcher(logger: logger) { [weak self] name in self?.wake(.due(name)) }
        }
        watcher?.watch(directories)
    }

    private func reload() {
        notifier.reloading()
        logger.notice("reloading configuration")
        switch load(reloading: true) {
        case .ready(let project, let database):
            adopt(project)
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

    /// Starts the feeds the scheduler says are due, as child tasks of the loop's group.
    private func startDue(now: Timestamp, in group: inout TaskGroup<Void>) {
        guard let project, let services else { return }
        let feeds = self.feeds
        for action in scheduler.due(now: now, recentBatch: { feeds[$0]?.recentBatch }) {
            switch action {
            case .hold(let name, let state):
                if feeds[name]?.recorded?.state != state.name {
                    logger.info("feed in window", metadata: [LogKey.feed: .string(name), LogKey.reason: .string(state.detail ?? "")])
                }
            case .start(let name):
                guard let feed = feeds[name] else { continue }
                launch(feed, configuration: project.configuration, services: services, in: &group)
            }
        }
    }

    private func launch(_ feed: FeedRuntime, configuration: Configuration, services: SourceServices, in group: inout TaskGroup<Void>) {
        feed.touch(clock.uptime())
        let schedule = feed.settings.schedule
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
        let events = self.events
        // The sync blocks (libpq, libcurl, files): it gets a thread of its own, never one of the
        // cooperative pool's.
        group.addTask {
            let executor = BlockingExecutor(name: "oemsync-feed")
            let report = await withTaskExecutorPreference(executor) {
                await Self.sync(settings, plan: plan, database: database, services: services, logger: logger, control: control)
            }
            executor.stop()
            await events.send(.finished(name, report))
        }
    }

    /// One run of a feed, on the feed's own thread (nonisolated and async: it runs on the task's
    /// preferred executor).
    private static func sync(
        _ settings: FeedSettings, plan: MappingPlan, database: DatabaseSettings, services: SourceServices, logger: Logger, control: RunControl
    ) async -> FeedReport {
        do {
            let db = try DatabaseOpener.open(database)
            return FeedRunner.run(settings, plan: plan, database: db, services: services, logger: logger, control: control)
        } catch {
            var r = FeedReport(feed: settings.name)
            r.error = FeedError(.database, feed: settings.name, "\(error)")
            return r
        }
    }

    /// A run that ended: the feed's next state and run, its metrics and log line.
    private func collect(_ name: String, _ report: FeedReport, now: Timestamp) {
        guard let outcome = scheduler.finished(name, report: report, now: now) else { return }
        metrics.add(DaemonMetrics.runs, ["feed": name, "outcome": outcome.label])
        var meta: Logger.Metadata = [
            LogKey.feed: .string(name), LogKey.state: .string(outcome.state.name), LogKey.records: .stringConvertible(report.recordsIn),
            LogKey.written: .stringConvertible(report.written), LogKey.rejected: .stringConvertible(report.rejected),
        ]
        if let next = outcome.nextRun { meta[LogKey.next] = .string(next.description) }
        if let detail = outcome.state.detail { meta[LogKey.reason] = .string(detail) }
        if case .failing = outcome.state { logger.warning("run finished", metadata: meta) } else { logger.info("run finished", metadata: meta) }
        guard let feed = feeds[name] else { return }
        if scheduler.entry(name) == nil {
            // Removed from the config while it ran.
            feeds[name] = nil
            metrics.removeFeed(name)
            return
        }
        recorder?.refreshLag(feed: feed.settings, metrics: metrics, now: now)
    }

    /// Healthy: no running feed has gone without progress for the config's `stall_timeout`.
    private func healthy() -> Bool {
        let now = clock.uptime()
        let limit = project?.configuration.daemon.stallTimeout ?? DaemonSettings().stallTimeout
        let stuck = scheduler.running.compactMap { feeds[$0] }.filter { now - $0.lastProgress > limit }
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

    /// Tells what changed since the last turn: each feed's state, reason, next run and window (to
    /// the database, the metrics and `STATUS=`), and the quotas and circuit breakers (metrics).
    private func publish(now: Timestamp) {
        var records: [FeedStateRecord] = []
        var changed = false
        for entry in scheduler.entries {
            guard let feed = feeds[entry.name] else { continue }
            let open = entry.schedule.isOpen(at: now)
            let record = FeedStateRecord(
                feed: entry.name, state: entry.state.name, detail: entry.state.detail, nextRun: entry.nextRun, windowOpen: open, process: process,
                updatedAt: now)
            if let last = feed.recorded, last.sameState(as: record) { continue }
            feed.recorded = record
            changed = true
            // A feed another process runs is that process's to record.
            if case .elsewhere = entry.state {} else { records.append(record) }
            metrics.set(DaemonMetrics.window, ["feed": entry.name], open ? 1 : 0)
            metrics.select(DaemonMetrics.state, ["feed": entry.name], key: "state", value: entry.state.name, among: FeedState.names)
            if let next = entry.nextRun {
                metrics.set(DaemonMetrics.nextRun, ["feed": entry.name], Double(next.microseconds / 1_000_000))
            } else {
                metrics.remove(DaemonMetrics.nextRun, ["feed": entry.name])
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
        let snapshot = Dictionary(scheduler.entries.map { ($0.name, $0.state) }, uniquingKeysWith: { a, _ in a })
        lock.withLock { published = snapshot }
        guard changed else { return }
        if !records.isEmpty { recorder?.save(records) }
        let line = statusLine()
        if line != lastStatus {
            lastStatus = line
            notifier.notify("STATUS=\(line)")
        }
    }

    /// `4 feeds: 1 running, 2 idle, 1 in window`.
    func statusLine() -> String {
        var counts: [String: Int] = [:]
        for entry in scheduler.entries { counts[entry.state.name, default: 0] += 1 }
        let parts = FeedState.names.compactMap { name in counts[name].map { "\($0) \(name)" } }
        let head = Plural.count(scheduler.entries.count, "feed")
        return parts.isEmpty ? head : head + ": " + parts.joined(separator: ", ")
    }
}

/// What the daemon keeps of one feed beside its schedule: its settings and mapping, the state last
/// published, and what its sync thread reports (batch durations, progress) through the locked part.
final class FeedRuntime: @unchecked Sendable {
    var settings: FeedSettings
    var plan: MappingPlan
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
