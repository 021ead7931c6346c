import Foundation
import Logging
import OEMSimulator
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks
import OEMSyncTesting
import Synchronization
import Testing

@testable import OEMSyncRuntime

/// The daemon's decisions, pure: what follows a run, and when the feed goes on.
@Suite("daemon planning")
struct FeedPlannerTests {
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    func t(_ iso: String) -> Timestamp { Timestamp(seconds: Int64(try! Date(iso, strategy: .iso8601).timeIntervalSince1970)) }
    func schedule() -> FeedSchedule {
        FeedSchedule(trigger: .every(.seconds(900)), zone: shanghai, blackouts: [try! TimeWindow("02:00-04:00")], drainMargin: .fixed(.seconds(300)))
    }

    @Test("after a run: ok, failed (backing off), held by a window, parked on quota, stopping")
    func afterRun() {
        let s = schedule()
        let start = t("2026-11-30T10:00:00Z")
        let now = t("2026-11-30T10:01:00Z")
        var ok = FeedReport(feed: "f")
        ok.files = [FileReport(name: "a.csv", claimedName: "a", outcome: .archived(path: "/x"))]
        #expect(FeedPlanner.afterRun(ok, schedule: s, lastStart: start, now: now, failures: 2)
            == .init(state: .idle, nextRun: t("2026-11-30T10:15:00Z"), failures: 0, label: "ok"))

        var failed = FeedReport(feed: "f")
        failed.error = FeedError(.database, feed: "f", "connection refused")
        let first = FeedPlanner.afterRun(failed, schedule: s, lastStart: start, now: now, failures: 0)
        #expect(first.nextRun == t("2026-11-30T10:01:30Z"))
        #expect(first.failures == 1)
        #expect(first.state.name == "failing")
        let fourth = FeedPlanner.afterRun(failed, schedule: s, lastStart: start, now: now, failures: 3)
        #expect(fourth.nextRun == t("2026-11-30T10:05:00Z"))  // 4 min
        // Backing off never goes past the schedule's own next run.
        #expect(FeedPlanner.afterRun(failed, schedule: s, lastStart: start, now: now, failures: 9).nextRun == t("2026-11-30T10:15:00Z"))
        #expect(FeedPlanner.retryDelay(failures: 1) == .seconds(30))
        #expect(FeedPlanner.retryDelay(failures: 20) == .seconds(900))

        // Held by the drain margin at 01:57 CST: on again when the blackout ends at 04:00.
        // Held by a drain margin the planner cannot know (an auto margin from long batches), at 01:40 CST.
        var held = FeedReport(feed: "f")
        held.held = RunControl.Hold(reason: "blackout 02:00-04:00 begins at 2026-12-01 02:00", kind: .window)
        let h = FeedPlanner.afterRun(held, schedule: s, lastStart: t("2026-11-30T17:30:00Z"), now: t("2026-11-30T17:40:00Z"), failures: 0)
        #expect(h.state.name == "in window")
        #expect(h.nextRun == t("2026-11-30T20:00:00Z"))
        var stopping = FeedReport(feed: "f")
        stopping.held = RunControl.Hold(reason: "the daemon is stopping", kind: .shutdown)
        #expect(FeedPlanner.afterRun(stopping, schedule: s, lastStart: start, now: now, failures: 0).state == .stopped)

        var quota = FeedReport(feed: "f")
        quota.quotaSpent = true
        quota.held = RunControl.Hold(reason: "quota spent", until: t("2026-11-30T16:00:00Z"), kind: .source)
        #expect(FeedPlanner.afterRun(quota, schedule: s, lastStart: start, now: now, failures: 0)
            == .init(state: .parkedOnQuota(until: t("2026-11-30T16:00:00Z")), nextRun: t("2026-11-30T16:00:00Z"), failures: 0, label: "parked"))

        // Retry-After an hour away: then, not on schedule.
        var later = FeedReport(feed: "f")
        later.held = RunControl.Hold(reason: "HTTP 429", until: t("2026-11-30T11:00:00Z"), kind: .source)
        #expect(FeedPlanner.afterRun(later, schedule: s, lastStart: start, now: now, failures: 0).nextRun == t("2026-11-30T11:00:00Z"))
    }

    @Test("a due feed starts unless a window holds it; then it waits for the window's end")
    func beforeRun() {
        let s = schedule()
        #expect(FeedPlanner.beforeRun(s, now: t("2026-11-30T17:50:00Z"), recentBatch: nil) == nil)
        let near = FeedPlanner.beforeRun(s, now: t("2026-11-30T17:57:00Z"), recentBatch: nil)
        #expect(near?.0.name == "in window")
        #expect(near?.1 == t("2026-11-30T20:00:00Z"))
        #expect(FeedPlanner.beforeRun(s, now: t("2026-11-30T19:00:00Z"), recentBatch: nil)?.1 == t("2026-11-30T20:00:00Z"))
    }
}

/// The daemon's schedule as a value: given times, it answers which feeds start and what follows a run.
@Suite("daemon scheduler")
struct FeedSchedulerTests {
    let utc = TimeZone(identifier: "UTC")!
    let t0 = Timestamp(seconds: 1_764_576_000)  // 2025-12-01T08:00:00Z

    func every(_ seconds: Int64, blackout: [String] = []) -> FeedSchedule {
        FeedSchedule(trigger: .every(.seconds(seconds)), zone: utc, blackouts: blackout.map { try! TimeWindow($0) }, drainMargin: .fixed(.zero))
    }

    func ok(_ feed: String) -> FeedReport {
        var r = FeedReport(feed: feed)
        r.files = [FileReport(name: "a.csv", claimedName: "a", outcome: .archived(path: "/x"))]
        return r
    }

    @Test("at most max_parallel run; the next due feed starts when one ends; nothing is due before its time")
    func parallel() {
        var s = FeedScheduler(maxParallel: 1)
        s.adopt([("a", every(300)), ("b", every(600))], now: t0)
        #expect(s.due(now: t0) == [.start("a")])
        #expect(s.running == ["a"])
        #expect(s.due(now: t0.adding(.seconds(1))) == [], "b waits for a free slot")
        let outcome = s.finished("a", report: ok("a"), now: t0.adding(.seconds(10)))
        #expect(outcome?.state == .idle && outcome?.label == "ok")
        #expect(s.entry("a")?.nextRun == t0.adding(.seconds(300)))
        #expect(s.due(now: t0.adding(.seconds(10))) == [.start("b")])
        #expect(s.finished("b", report: ok("b"), now: t0.adding(.seconds(20))) != nil)
        #expect(s.nextDue == t0.adding(.seconds(300)))
        #expect(s.due(now: t0.adding(.seconds(299))) == [])
        #expect(s.due(now: t0.adding(.seconds(300))) == [.start("a")])
        #expect(s.finished("b", report: ok("b"), now: t0) == nil, "b is not running")
    }

    @Test("a due feed its blackout holds is held until the window ends, then starts")
    func window() {
        var s = FeedScheduler(maxParallel: 2)
        // Due at 07:59:30 (taken up then), looked at once the blackout has begun.
        s.adopt([("a", every(60, blackout: ["08:00-09:00"]))], now: t0.adding(.seconds(-30)))
        let held = s.due(now: t0)
        #expect(held.count == 1)
        guard case .hold("a", let state)? = held.first else { return }
        #expect(state.name == "in window" && state.detail?.contains("08:00-09:00") == true, "\(state)")
        #expect(s.entry("a")?.state == state)
        #expect(s.entry("a")?.nextRun == t0.adding(.seconds(3600)))
        #expect(s.due(now: t0.adding(.seconds(1800))) == [])
        #expect(s.due(now: t0.adding(.seconds(3600))) == [.start("a")])
    }

    @Test("a reload keeps what the scheduler knows; a feed removed while it runs goes once its run ends")
    func reload() {
        var s = FeedScheduler(maxParallel: 2)
        s.adopt([("a", every(300)), ("b", every(300))], now: t0)
        _ = s.due(now: t0)
        var failed = FeedReport(feed: "b")
        failed.error = FeedError(.database, feed: "b", "connection refused")
        #expect(s.finished("b", report: failed, now: t0.adding(.seconds(5)))?.failures == 1)
        let retry = s.entry("b")?.nextRun

        // b stays failing with its retry time; a, running, is removed and kept until its run ends.
        #expect(s.adopt([("b", every(900)), ("c", every(60))], now: t0.adding(.seconds(10))) == [])
        #expect(s.entry("a")?.removed == true && s.running == ["a"])
        #expect(s.entry("b")?.nextRun == retry && s.entry("b")?.failures == 1)
        #expect(s.entry("c")?.nextRun == t0.adding(.seconds(10)))
        #expect(s.finished("a", report: ok("a"), now: t0.adding(.seconds(20))) != nil)
        #expect(s.entry("a") == nil)
        // An idle feed dropped from the config goes at once.
        #expect(s.adopt([("b", every(900))], now: t0.adding(.seconds(30))) == ["c"])
    }

    @Test("a file dropped: the feed is due now, or right after the run in progress; a quota or window still holds it")
    func runSoon() {
        var s = FeedScheduler(maxParallel: 1)
        s.adopt([("a", every(3600)), ("b", every(3600))], now: t0)
        #expect(s.due(now: t0) == [.start("a")])
        #expect(s.finished("a", report: ok("a"), now: t0) != nil)
        #expect(s.due(now: t0) == [.start("b")])
        #expect(s.finished("b", report: ok("b"), now: t0) != nil)
        #expect(s.due(now: t0.adding(.seconds(5))) == [], "both wait an hour")

        // Idle: due at once.
        let idle = s.runSoon("a", now: t0.adding(.seconds(10)))
        #expect(idle)
        #expect(s.due(now: t0.adding(.seconds(10))) == [.start("a")])
        // Running: once more as soon as this run ends, and then on schedule again.
        let running = s.runSoon("a", now: t0.adding(.seconds(11)))
        #expect(running)
        #expect(s.finished("a", report: ok("a"), now: t0.adding(.seconds(12)))?.nextRun == t0.adding(.seconds(3610)))
        #expect(s.entry("a")?.nextRun == t0.adding(.seconds(12)))
        #expect(s.due(now: t0.adding(.seconds(12))) == [.start("a")])
        #expect(s.finished("a", report: ok("a"), now: t0.adding(.seconds(13))) != nil)
        #expect(s.entry("a")?.nextRun == t0.adding(.seconds(3612)), "an hour after that run's start")

        // Parked on its quota: the file waits for the quota's next day.
        _ = s.runSoon("b", now: t0.adding(.seconds(20)))
        #expect(s.due(now: t0.adding(.seconds(20))) == [.start("b")])
        var quota = FeedReport(feed: "b")
        quota.quotaSpent = true
        quota.held = RunControl.Hold(reason: "quota spent", until: t0.adding(.seconds(7200)), kind: .source)
        #expect(s.finished("b", report: quota, now: t0.adding(.seconds(30)))?.state == .parkedOnQuota(until: t0.adding(.seconds(7200))))
        let parked = s.runSoon("b", now: t0.adding(.seconds(40)))
        #expect(parked)
        #expect(s.entry("b")?.nextRun == t0.adding(.seconds(7200)))
        let unknown = s.runSoon("unknown", now: t0)
        #expect(!unknown)
    }

    @Test("after a restart an interval counts from the last run's start; stopping stops every feed not running")
    func resumeAndStop() {
        var s = FeedScheduler(maxParallel: 1)
        s.adopt([("a", every(600)), ("b", every(600))], now: t0)
        s.resume(lastStarts: ["a": t0.adding(.seconds(-500))], now: t0)
        #expect(s.entry("a")?.nextRun == t0.adding(.seconds(100)))
        #expect(s.entry("b")?.nextRun == t0)
        #expect(s.due(now: t0) == [.start("b")])
        s.stopAll()
        #expect(s.entry("a")?.state == .stopped && s.entry("a")?.nextRun == nil)
        #expect(s.entry("b")?.state == .running, "a running feed stops after its batch in flight, and says so itself")
        #expect(s.nextDue == nil)
    }
}

/// What a reload keeps of the REST feeds' shared state.
@Suite("daemon reload")
struct ReloadTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("reload")
        try dir.write("secret", "x\n")
    }

    func credentials(quota: Int) throws -> [String: CredentialSettings] {
        let path = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            credentials:
              oem: {auth: {kind: oauth2, token_url: "https://oem.example/token", client_id: d, client_secret_file: secret}, daily_quota: \(quota)}
            feeds: {}

            """)
        return try #require(ConfigurationLoader().load(path: path).configuration).credentials
    }

    @Test("credentials left as they were keep their token cache and limiter (today's requests); changed ones start afresh")
    func keepsUnchangedCredentials() throws {
        let services = SourceServices(credentials: try credentials(quota: 100), clock: TestClock(), environment: [:])
        let before = try services.credentials("oem").limiter
        let same = services.reloaded(credentials: try credentials(quota: 100))
        #expect(try same.credentials("oem").limiter === before)
        #expect(same.breakers === services.breakers)
        let changed = services.reloaded(credentials: try credentials(quota: 50))
        #expect(try changed.credentials("oem").limiter !== before)
        #expect(try changed.credentials("oem").limiter.quota?.perDay == 50)
    }
}

/// `oemsync windows` and the daemon's column of `oemsync status`, from a real config.
@Suite("windows and status commands")
struct WindowsCommandTests {
    func capture(_ run: (Console) -> Int32) -> (Int32, String, String) {
        let out = Mutex("")
        let err = Mutex("")
        let code = run(Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } }))
        return (code, out.withLock { $0 }, err.withLock { $0 })
    }

    @Test("windows over the night clocks go back in Berlin: local times, offsets, a two-hour blackout, cron runs moved out of it")
    func berlinAutumn() throws {
        let dir = try TemporaryDirectory("windows")
        let config = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            feeds:
              orders:
                mapping: \(Fixture.repository("Mappings/acme/orders-api.v1.yaml"))
                schedule: {cron: "30 * * * *", timezone: Europe/Berlin, blackout: ["02:00-03:00"]}
                source: {kind: rest, url: "https://oem.example/api", credentials: oem}
            credentials:
              oem: {auth: {kind: none}}

            """)
        let (code, out, err) = capture { WindowsCommand.run(configPath: config, feed: "orders", days: 1, from: CivilDate(year: 2026, month: 10, day: 25), json: true, console: $0) }
        #expect(code == 0, "\(err)")
        let report = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let periods = report?["periods"] as? [[String: Any]] ?? []
        #expect(periods.map { "\($0["start"]!) \($0["offset"]!) \($0["open"]! as! Bool ? "open" : "closed")" }
            == ["2026-10-25 00:00 +02:00 open", "2026-10-25 02:00 +02:00 closed", "2026-10-25 03:00 +01:00 open"])
        #expect(periods.last?["end_utc"] as? String == "2026-10-25T23:00:00Z", "the day has 25 hours")
        let runs = report?["runs"] as? [String] ?? []
        // 24 wall-clock half-hours; 02:30 falls in the blackout (both passes) and runs at 03:00 instead.
        #expect(runs.count == 24)
        #expect(runs.contains("2026-10-25T02:00:00Z") && !runs.contains("2026-10-25T00:30:00Z"))

        let (_, text, _) = capture { WindowsCommand.run(configPath: config, feed: "orders", days: 1, from: CivilDate(year: 2026, month: 10, day: 25), json: false, console: $0) }
        #expect(text.contains("2026-10-25 02:00  2026-10-25 03:00  +02:00  closed  blackout 02:00-03:00"), "\(text)")
        let (unknown, _, message) = capture { WindowsCommand.run(configPath: config, feed: "nope", days: 1, from: nil, json: false, console: $0) }
        #expect(unknown == 64 && message.contains("unknown feed 'nope'"))
    }

    @Test("status shows what the daemon recorded: state, reason, next run, the process", arguments: TestDatabase.backends)
    func statusDaemonColumn(backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": "Mappings/acme/stock.v1.yaml"])
        let database = try DatabaseOpener.open(try #require(ConfigurationLoader().load(path: ws.configPath).configuration).database)
        try Ledger(database).saveFeedStates([
            FeedStateRecord(
                feed: "acme-stock", state: "in window", detail: "blackout 02:00-04:00", nextRun: Timestamp(seconds: 1_764_532_800),
                windowOpen: false, process: "dealer-01:4242", updatedAt: Timestamp(seconds: 1_764_525_600))
        ])
        let text = ws.command { StatusCommand.run(configPath: $0, json: false, console: $1) }
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("in window  2025-11-30T20:00:00Z"), "\(text.out)")
        #expect(text.out.contains("daemon in window (blackout 02:00-04:00) as of 2025-11-30T18:00:00Z [dealer-01:4242]"), "\(text.out)")
        let json = ws.command { StatusCommand.run(configPath: $0, json: true, console: $1) }
        let feeds = (try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])?["feeds"] as? [[String: Any]]
        let daemon = feeds?.first?["daemon"] as? [String: Any]
        #expect(daemon?["state"] as? String == "in window")
        #expect(daemon?["next_run"] as? String == "2025-11-30T20:00:00Z")
        #expect(daemon?["window_open"] as? Bool == false)
    }

    @Test("status shows a daemon that stopped writing its heartbeat as stale, with when and where it was last seen", arguments: TestDatabase.backends)
    func staleDaemon(backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": "Mappings/acme/stock.v1.yaml"])
        let database = try DatabaseOpener.open(try #require(ConfigurationLoader().load(path: ws.configPath).configuration).database)
        let seen = Timestamp(seconds: 1_764_525_600)  // 2025-11-30T18:00:00Z
        let ledger = Ledger(database)
        try ledger.heartbeat(process: "dealer-01:4242", version: "0.5.0", startedAt: seen, now: seen)
        try ledger.saveFeedStates([
            FeedStateRecord(feed: "acme-stock", state: "running", detail: nil, nextRun: nil, windowOpen: true, process: "dealer-01:4242", updatedAt: seen)
        ])
        func status(at now: Timestamp) -> (String, [String: Any]?) {
            let text = ws.command { StatusCommand.run(configPath: $0, json: false, console: $1, now: now) }.out
            let json = ws.command { StatusCommand.run(configPath: $0, json: true, console: $1, now: now) }.out
            let feed = ((try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["feeds"] as? [[String: Any]])?.first
            return (text, feed)
        }
        // Within a minute of its heartbeat: running, as recorded.
        let (fresh, freshJSON) = status(at: seen.adding(.seconds(30)))
        #expect(!fresh.contains("stale") && freshJSON?["stale"] == nil, "\(fresh)")
        // Silent for two minutes (killed, its host down): stale.
        let (silent, silentJSON) = status(at: seen.adding(.seconds(120)))
        #expect(silent.contains("stale (last seen 2025-11-30T18:00:00Z, dealer-01:4242)"), "\(silent)")
        #expect(silentJSON?["stale"] as? String == "stale (last seen 2025-11-30T18:00:00Z, dealer-01:4242)")
        // A clean stop is final, however long ago.
        try ledger.daemonStopped(process: "dealer-01:4242", now: seen.adding(.seconds(5)))
        let (stopped, _) = status(at: seen.adding(.seconds(3600)))
        #expect(!stopped.contains("stale"), "\(stopped)")
    }

    @Test("a feed another process holds: the daemon leaves it there, not failing, and asks again on schedule")
    func busyElsewhere() {
        let s = FeedSchedule(trigger: .every(.seconds(900)), zone: TimeZone(identifier: "UTC")!)
        var busy = FeedReport(feed: "f")
        busy.error = FeedError(.busy, feed: "f", "the feed is being synced by oemsync other:17; this run did nothing")
        let start = Timestamp(seconds: 1_764_525_600)
        let outcome = FeedPlanner.afterRun(busy, schedule: s, lastStart: start, now: start.adding(.seconds(1)), failures: 2)
        #expect(outcome.state == .elsewhere("the feed is being synced by oemsync other:17; this run did nothing"))
        #expect(outcome.nextRun == start.adding(.seconds(900)))
        #expect(outcome.failures == 2 && outcome.label == "busy")
    }
}

/// The daemon in-process, with a test clock: real files, a real database, real syncs on threads.
@Suite("daemon (SQLite and PostgreSQL)")
struct DaemonTests {
    /// Moves the clock on and waits for the daemon's turn that follows (its timer fires).
    static func advance(_ clock: TestClock, _ duration: Duration, _ daemon: Daemon) async -> Bool {
        let turn = daemon.turn
        clock.advance(duration)
        return await daemon.until { $0.turn > turn }
    }

    /// A config with one ACME stock drop feed (`source:` keys after its directory, and its schedule), and its database.
    static func stockSite(_ backend: TestDatabase.Backend, source: String = "", schedule: String, daemon: (TemporaryDirectory) -> String = { _ in "" }) throws
        -> (TemporaryDirectory, TestDatabase, String)
    {
        let dir = try TemporaryDirectory("daemon")
        let db = try TestDatabase(backend)
        let config = try dir.write(
            "oemsync.yaml",
            db.configPrologue + daemon(dir) + """
                feeds:
                  stock:
                    mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                    source: {kind: csv-drop, directory: drops/stock\(source.isEmpty ? "" : ", " + source)}
                    schedule: \(schedule)

                """)
        return (dir, db, config)
    }

    /// A daemon on a test clock that never moves, once the stock feed's first run (nothing to load)
    /// is done; `runs` counts the feed's ok runs.
    static func startStockDaemon(_ config: String) async -> (Daemon, Task<Int32, Never>, @Sendable () -> Double) {
        let daemon = Daemon(
            options: .init(configPath: config), logger: Logs().logger, console: Console(out: { _ in }, err: { _ in }), clock: TestClock(),
            notifier: SystemdNotifier(environment: [:]))
        let run = Task { await onOwnExecutor { await daemon.run() } }
        let runs: @Sendable () -> Double = { daemon.metrics.value(DaemonMetrics.runs, ["stock", "ok"]) ?? 0 }
        #expect(await daemon.until { _ in runs() == 1 }, "the first run, with nothing to load")
        return (daemon, run, runs)
    }

    /// Log lines, captured.
    final class Logs: Sendable {
        let text = Mutex("")
        var logger: Logger {
            Logger(label: "test") { label in LogfmtLogHandler(label: label, level: .debug, stream: { line in self.text.withLock { $0 += line } }) }
        }
        var all: String { text.withLock { $0 } }
    }

    @Test("a blackout that starts mid-sync: the batch in flight commits, none starts in the window, the file resumes after it", arguments: TestDatabase.backends)
    func blackoutMidSync(backend: TestDatabase.Backend) async throws {
        let (dir, db, config) = try Self.stockSite(
            backend, source: "batch_rows: 100", schedule: #"{every: 1m, timezone: Asia/Shanghai, blackout: ["02:00-04:00"], drain_margin: 0s}"#)
        let rows = 1500
        try dir.write("drops/stock/stock.csv", StockFeed.csv(rows: rows))
        // 01:50 in Shanghai; the third commit moves time to 02:00:30, inside the blackout.
        let clock = TestClock(now: Timestamp(seconds: 1_764_525_000))  // 2025-11-30T17:50:00Z
        let commits = Mutex(0)
        let logs = Logs()
        let daemon = Daemon(
            options: .init(configPath: config, tick: .milliseconds(10)), logger: logs.logger, console: Console(out: { _ in }, err: { _ in }),
            clock: clock, notifier: SystemdNotifier(environment: [:]),
            onBatch: { _ in
                let n = commits.withLock { $0 += 1; return $0 }
                if n == 3 { clock.advance(.seconds(630)) }
            })
        let run = Task { await onOwnExecutor { await daemon.run() } }

        #expect(await daemon.until { $0.states["stock"]?.name == "in window" }, "\(daemon.states()) \(logs.all.suffix(3000))")
        // The fourth batch was read while the third committed, and held at its own commit: exactly
        // three batches before the window.
        #expect(try db.count("stock") == 300)
        #expect(dir.list("drops/stock/processing").count == 1, "the file waits in processing/ for the window's end")
        daemon.flushStates()
        #expect(try db.count("oemsync_feed_states", where: "feed = 'stock' AND state = 'in window'") == 1)
        // Nothing moves while the window is closed: an hour on (03:00:30), the daemon looks and waits.
        #expect(await Self.advance(clock, .seconds(3600), daemon))
        #expect(daemon.states()["stock"]?.name == "in window")
        #expect(try db.count("stock") == 300)

        clock.advance(.seconds(3600))  // 04:00:30
        #expect(await daemon.until { $0.states["stock"] == FeedState.idle })
        #expect(try db.count("stock") == rows)
        #expect(dir.list("drops/stock/archive").count == 1)
        daemon.requestStop()
        #expect(await run.value == 0)

        // Every batch started outside the blackout (18:00Z-20:00Z), and together they cover the file once.
        let starts = try db.query(
            backend == .sqlite
                ? "SELECT strftime('%H:%M', started_at), records_in FROM oemsync_batches ORDER BY id"
                : "SELECT to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI'), records_in FROM oemsync_batches ORDER BY id")
        #expect(starts.count == rows / 100)
        #expect(starts.prefix(3).allSatisfy { $0[0] == "17:50" }, "\(starts)")
        #expect(starts.dropFirst(3).allSatisfy { $0[0]! >= "20:00" }, "\(starts)")
        #expect(try db.ledgerViolations() == [])
        #expect(daemon.metrics.value(DaemonMetrics.recordsIn, ["stock"]) == Double(rows))
        #expect(try db.count("oemsync_feed_states", where: "feed = 'stock' AND state = 'stopped'") == 1)
        #expect(logs.all.contains("msg=\"file held\""))
        // Its heartbeat, and its clean stop: status shows this daemon's states as final, not stale.
        let heartbeat = try #require(try Ledger(db.database).daemons()[FeedLock.processName])
        #expect(heartbeat.stoppedAt != nil && heartbeat.version == OEMSyncVersion.current)
    }

    @Test("a file renamed into the drop runs its feed at once (inotify), long before its schedule; files being written under hidden names do not", arguments: TestDatabase.backends)
    func dropPickedUpAtOnce(backend: TestDatabase.Backend) async throws {
        let (dir, db, config) = try Self.stockSite(backend, schedule: "{every: 1h}")
        // The test clock never moves: only the file can make the feed run again within the hour.
        let (daemon, run, runs) = await Self.startStockDaemon(config)

        // A producer writes under a hidden name, then renames the file in: one run loads it.
        try dir.write("drops/stock/.stock.csv.part", StockFeed.csv(rows: 40))
        try FileManager.default.moveItem(atPath: dir.file("drops/stock/.stock.csv.part"), toPath: dir.file("drops/stock/stock.csv"))
        #expect(await daemon.until { _ in runs() == 2 })
        #expect(try db.count("stock") == 40)
        #expect(dir.list("drops/stock/archive").count == 1)
        #expect(daemon.states()["stock"] == .idle)
        daemon.requestStop()
        #expect(await run.value == 0)
        #expect(runs() == 2, "the run's own lock file and folders made no further run")
    }

    @Test("oemsync trigger runs a feed now through the control socket; an unknown feed, a bad request and no daemon are refused with why")
    func trigger() async throws {
        let (dir, db, config) = try Self.stockSite(.sqlite, schedule: "{every: 1h}") { dir in "daemon: {control: \(dir.file("control.sock"))}\n" }
        let socket = try #require(ConfigurationLoader().load(path: config).configuration?.daemon.control)
        #expect(socket == dir.file("control.sock"))
        let (daemon, run, runs) = await Self.startStockDaemon(config)

        // The clock does not move: only the request can run the feed again within the hour.
        let asked = LedgerCommand.capture { TriggerCommand.run(configPath: config, feed: "stock", console: $0) }
        #expect(asked.status == 0, "\(asked.err)")
        #expect(asked.out == "ok: feed 'stock' runs now\n")
        #expect(await daemon.until { _ in runs() == 2 })

        let unknown = LedgerCommand.capture { TriggerCommand.run(configPath: config, feed: "stok", console: $0) }
        #expect(unknown.status == 64)
        #expect(unknown.err == "oemsync trigger: no feed 'stok' in the running configuration; feeds: stock\n")
        #expect(try TriggerCommand.request("hello", at: socket) == "error: unknown request; the request is 'run FEED'")
        #expect(try TriggerCommand.request(String(repeating: "x", count: 2000), at: socket).hasPrefix("error: one request line"))

        daemon.requestStop()
        #expect(await run.value == 0)
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket goes with the daemon")
        let gone = LedgerCommand.capture { TriggerCommand.run(configPath: config, feed: "stock", console: $0) }
        #expect(gone.status == 1)
        #expect(gone.err.contains("no daemon answers on \(socket)"), "\(gone.err)")
        #expect(runs() == 2)
        withExtendedLifetime(db) {}
    }

    @Test("a REST pull that meets a blackout: no page is committed in it, the pull resumes from its next page after it", arguments: TestDatabase.backends)
    func restBlackout(backend: TestDatabase.Backend) async throws {
        // The reference: the same pull without windows.
        let expected = try await withSimulator { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem, size: 3)], oem: oem)
            _ = try await ws.sync()
            return try ws.orders()
        }
        try await withSimulator { oem in
            // The workspace's clock starts at 16:00 in Shanghai; the blackout begins at 16:05.
            var feed = RESTWorkspace.ordersV1(oem, size: 3)
            feed.setting = "schedule: {every: 1m, timezone: Asia/Shanghai, blackout: [\"16:05-18:00\"], drain_margin: 0s}"
            let ws = try RESTWorkspace(backend, feeds: [feed], oem: oem)
            let clock = ws.clock
            let commits = Mutex(0)
            let daemon = Daemon(
                options: .init(configPath: ws.configPath, tick: .milliseconds(10)), logger: Logs().logger, console: Console(out: { _ in }, err: { _ in }),
                clock: clock, notifier: SystemdNotifier(environment: [:]),
                onBatch: { _ in
                    let n = commits.withLock { $0 += 1; return $0 }
                    if n == 2 { clock.advance(.seconds(600)) }
                })
            let run = Task { await onOwnExecutor { await daemon.run() } }
            #expect(await daemon.until { $0.states["orders"]?.name == "in window" })
            #expect(try ws.batches().count == 2)
            let position = try ws.checkpoint()
            #expect(position?.pull != nil, "the pull in progress is in the checkpoint")
            // Half an hour on, still in the blackout: the daemon looks and sends nothing.
            #expect(await Self.advance(clock, .seconds(1800), daemon))
            #expect(try ws.batches().count == 2)
            #expect(daemon.states()["orders"]?.name == "in window")

            clock.advance(.seconds(2 * 3600))
            #expect(await daemon.until { $0.states["orders"] == FeedState.idle })
            #expect(try ws.checkpoint()?.pull == nil)
            daemon.requestStop()
            #expect(await run.value == 0)
            #expect(try ws.orders() == expected)
            #expect(try ws.db.ledgerViolations() == [])
            let starts = try ws.db.query(
                backend == .sqlite
                    ? "SELECT strftime('%H:%M', started_at) FROM oemsync_batches ORDER BY id"
                    : "SELECT to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI') FROM oemsync_batches ORDER BY id")
            #expect(starts.allSatisfy { $0[0]! < "08:05" || $0[0]! >= "10:00" }, "\(starts)")
        }
    }


    @Test("a spent daily quota parks the feed until the quota's next day in its zone; then the pull goes on", arguments: TestDatabase.backends)
    func quotaParks(backend: TestDatabase.Backend) async throws {
        try await withSimulator { oem in
            let credentials = """
                  acme-api:
                    auth: {kind: oauth2, token_url: \(oem.baseURL)/oauth/token, client_id: dealer-d001, client_secret_file: secrets/acme-secret}
                    daily_quota: 3
                    quota_timezone: Asia/Shanghai

                """
            var feed = RESTWorkspace.ordersV1(oem, size: 3)
            feed.setting = "schedule: {every: 1m, timezone: Asia/Shanghai}"
            let ws = try RESTWorkspace(backend, feeds: [feed], credentials: credentials, oem: oem)
            let clock = ws.clock  // 2025-12-01T08:00:00Z: 16:00 in Shanghai
            let daemon = Daemon(
                options: .init(configPath: ws.configPath, tick: .milliseconds(10)), logger: Logs().logger, console: Console(out: { _ in }, err: { _ in }),
                clock: clock, notifier: SystemdNotifier(environment: [:]))
            let run = Task { await onOwnExecutor { await daemon.run() } }
            let midnight = Timestamp(seconds: 1_764_604_800)  // 2025-12-01T16:00:00Z: 00:00 in Shanghai
            #expect(await daemon.until { $0.states["orders"] == .parkedOnQuota(until: midnight) })
            let firstDay = try ws.batches().count
            #expect(firstDay == 3, "three requests: three pages")
            daemon.flushStates()
            #expect(try ws.db.query("SELECT next_run FROM oemsync_feed_states WHERE feed = 'orders'").first?[0]?.hasPrefix("2025-12-01") == true)
            // Two hours on, the same day in Shanghai: the daemon looks and sends nothing.
            #expect(await Self.advance(clock, .seconds(2 * 3600), daemon))
            #expect(try ws.batches().count == firstDay, "nothing more before the quota renews")

            clock.advance(.seconds(6 * 3600 + 1))
            #expect(await daemon.until { $0.states["orders"] == .parkedOnQuota(until: Timestamp(seconds: 1_764_691_200)) })
            #expect(try ws.batches().count == 6)
            daemon.requestStop()
            #expect(await run.value == 0)
            #expect(try ws.db.ledgerViolations() == [])
        }
    }
}
