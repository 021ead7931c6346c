import Foundation
import OEMSimulator
import OEMSyncCore
import OEMSyncTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built daemon, `oemsync run`, under a test notify socket: what systemd would see, and what a
/// SIGTERM or SIGHUP does to it.
@Suite("oemsync run (the built daemon)")
struct DaemonProcessTests {
    struct Site {
        let dir: TemporaryDirectory
        let db: TestDatabase
        let config: String
        let notify: NotifyListener

        /// - Parameters:
        ///   - feed: the feed's lines after `mapping:` (default: a CSV drop, every second).
        ///   - daemon: config lines before `feeds:` (`daemon:`, `credentials:`).
        ///   - mapping: the repository's mapping the feed uses, copied into the site (to break it).
        init(
            _ backend: TestDatabase.Backend, migrate: Bool = true, feed: String? = nil, daemon: String = "",
            mapping source: String = "Mappings/acme/stock.v1.yaml"
        ) throws {
            dir = try TemporaryDirectory("run")
            db = try TestDatabase(backend, migrate: migrate)
            let mapping = try dir.write("stock.yaml", try String(contentsOfFile: Fixture.repository(source), encoding: .utf8))
            config = try dir.write(
                "oemsync.yaml",
                db.configPrologue + daemon + """
                    feeds:
                      stock:
                        mapping: \(mapping)
                        \(feed ?? "source: {kind: csv-drop, directory: drops/stock, batch_rows: 1000}\n    schedule: {every: 1s}")

                    """)
            // sun_path holds 108 bytes: the socket lives in /tmp, not in the (longer) temp folder.
            notify = try NotifyListener(path: "/tmp/oemsync-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock")
        }

        func start(watchdogUSec: Int = 2_000_000) throws -> ChildProcess {
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "OEMSYNC_CONFIG")
            env["NOTIFY_SOCKET"] = notify.path
            env["WATCHDOG_USEC"] = String(watchdogUSec)
            env["OEMSYNC_LOG_LEVEL"] = "debug"
            return try ChildProcess(CLITests.binary, ["run", "--config", config], environment: env, log: dir.file("daemon.log"))
        }

        var log: String { (try? String(contentsOfFile: dir.file("daemon.log"), encoding: .utf8)) ?? "" }

        func waitForLog(_ fragment: String, count: Int = 1, timeout: Duration = .seconds(60)) -> Bool {
            FileWatch.wait(for: fragment, count: count, in: dir.file("daemon.log"), timeout: timeout)
        }
    }

    @Test("READY, STATUS and WATCHDOG at half the interval; SIGTERM mid-file commits the batch in flight, says STOPPING and exits 0", arguments: TestDatabase.backends)
    func readyWatchdogAndStop(backend: TestDatabase.Backend) async throws {
        let site = try Site(backend)
        defer { site.notify.close() }
        let rows = 50_000
        let daemon = try site.start()
        #expect(site.notify.wait(for: "READY=1"), "\(site.log)")
        #expect(site.notify.messages.contains { $0.contains("STATUS=1 feed: 1 idle") })
        #expect(site.notify.wait(for: "WATCHDOG=1", count: 3))
        // A file of 50 batches, renamed into the drop complete; SIGTERM right after its first batch.
        try site.dir.write("big.csv.part", StockFeed.csv(rows: rows))
        try FileManager.default.moveItem(atPath: site.dir.file("big.csv.part"), toPath: site.dir.file("drops/stock/big.csv"))
        #expect(site.waitForLog("batch committed"), "\(site.log)")
        daemon.signal(SIGTERM)
        let status = daemon.wait(timeout: .seconds(60))
        #expect(status == 0, "\(site.log)")
        #expect(site.notify.wait(for: "STOPPING=1", timeout: .seconds(1)))

        // Pings come every second (half of WATCHDOG_USEC, two seconds), never a whole interval apart.
        let pings = site.notify.arrivals(of: "WATCHDOG=1")
        let gaps = zip(pings.dropFirst(), pings).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 >= .milliseconds(900) && $0 < .seconds(2) }, "\(gaps)")

        // The batches before the stop are committed whole: rows are whole batches, the checkpoint is
        // the last batch's end, and the file waits in processing/ for the next run.
        let batches = try site.db.query("SELECT records_in, status FROM oemsync_batches ORDER BY id")
        let written = try site.db.count("stock")
        #expect(!batches.isEmpty)
        #expect(batches.allSatisfy { $0[0] == "1000" && $0[1] == "ok" }, "\(batches)")
        #expect(written == batches.count * 1000)
        #expect(try site.db.ledgerViolations() == [])
        #expect(written < rows, "the stop came before the end of the file")
        #expect(site.dir.list("drops/stock/processing").count == 1)
        #expect(site.log.contains("the daemon is stopping"))
        #expect(try site.db.count("oemsync_feed_states", where: "feed = 'stock' AND state = 'stopped'") == 1)

        // The next run resumes from the checkpoint: every row once.
        let again = try ChildProcess(CLITests.binary, ["sync", "--all", "--once", "--config", site.config], environment: ProcessInfo.processInfo.environment, log: site.dir.file("sync.log"))
        #expect(again.wait() == 0)
        #expect(try site.db.count("stock") == rows)
    }

    @Test("SIGHUP with a broken mapping keeps the running one (and says why); metrics, /healthz and /readyz on loopback")
    func reloadAndMetrics() async throws {
        let site = try Site(.sqlite, daemon: "daemon: {metrics: \"127.0.0.1:0\"}\n")
        defer { site.notify.close() }
        let daemon = try site.start()
        defer { if !daemon.hasExited { daemon.kill() } }
        #expect(site.notify.wait(for: "READY=1"), "\(site.log)")
        #expect(site.waitForLog("metrics listening"), "\(site.log)")

        // A mapping with an unknown key: the reload is refused, the old mapping goes on.
        try site.dir.write("stock.yaml", "mapping: 1\nnot_a_key: true\n")
        daemon.signal(SIGHUP)
        #expect(site.notify.wait(for: "RELOADING=1"))
        #expect(site.notify.wait(for: "READY=1", count: 2))
        #expect(site.waitForLog("configuration not reloaded"), "\(site.log)")
        #expect(site.log.contains("stock.yaml:"), "the diagnostics name the file")
        try site.dir.write("later.csv.part", StockFeed.csv(rows: 1000))
        try FileManager.default.moveItem(atPath: site.dir.file("later.csv.part"), toPath: site.dir.file("drops/stock/later.csv"))
        // The run that loaded it has ended: its rows are committed and counted.
        #expect(site.waitForLog("oemsync.written=1000"), "\(site.log)")
        #expect(try site.db.count("stock") == 1000)

        // Metrics: the loopback port from the log.
        let port = site.log.components(separatedBy: "oemsync.address=127.0.0.1:").dropFirst().first?.prefix { $0.isNumber } ?? ""
        func get(_ path: String) throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.timeoutInterval = 10
            let box = ResultBox()
            URLSession.shared.dataTask(with: request) { data, response, error in
                box.set(((response as? HTTPURLResponse)?.statusCode ?? -1, data.map { String(decoding: $0, as: UTF8.self) } ?? "\(error!)"))
            }.resume()
            return box.wait()
        }
        #expect(try get("/healthz") == (200, "ok\n"))
        #expect(try get("/readyz") == (200, "ready\n"))
        #expect(try get("/metrics").1.contains("oemsync_records_in_total{feed=\"stock\"} 1000"))
        let (status, metrics) = try get("/metrics")
        #expect(status == 200)
        for series in [
            "oemsync_rows_written_total{feed=\"stock\"} 1000", "oemsync_batch_duration_seconds_count{feed=\"stock\"} 1",
            "oemsync_window_open{feed=\"stock\"} 1", "oemsync_ready 1", "# TYPE oemsync_batch_duration_seconds histogram",
            "oemsync_runs_total{feed=\"stock\",outcome=\"ok\"}",
        ] {
            #expect(metrics.contains(series), "\(series) in\n\(metrics)")
        }
        #expect(try get("/nope").0 == 404)
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeout: .seconds(30)) == 0)
    }

    @Test("a sync without progress for stall_timeout stops the watchdog pings and fails /healthz, until it progresses again")
    func stallStopsTheWatchdog() async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.slow(seconds: 4), after: 0)]  // the first page answers after 4 s
        try await withSimulator(config: config) { oem in
            let site = try Site(
                .sqlite,
                feed: """
                    schedule: {every: 1h}
                        source:
                          kind: rest
                          url: \(oem.baseURL)/api/v1/dealers/D001/orders
                          credentials: acme-api
                          record_id: orderNo
                          pagination: {style: page, param: pageNo, size_param: pageSize, size: 10}
                          errors: {code: $.code, success: [0], message: $.msg}
                          timeout: 30s
                    """,
                daemon: """
                    daemon: {stall_timeout: 1s}
                    credentials:
                      acme-api:
                        auth: {kind: oauth2, token_url: \(oem.baseURL)/oauth/token, client_id: dealer-d001, client_secret_file: secret}

                    """,
                mapping: "Mappings/acme/orders-api.v1.yaml")
            defer { site.notify.close() }
            try site.dir.write("secret", "s3cret-d001\n")
            let daemon = try site.start(watchdogUSec: 1_000_000)
            defer { if !daemon.hasExited { daemon.kill() } }
            #expect(site.notify.wait(for: "READY=1"), "\(site.log)")
            #expect(site.waitForLog("sync stalled: watchdog pings stop"), "\(site.log)")
            #expect(site.waitForLog("sync progressing again: watchdog pings resume"), "\(site.log)")
            let resumed = ContinuousClock.now
            #expect(site.notify.wait(for: "WATCHDOG=1", count: site.notify.arrivals(of: "WATCHDOG=1").count + 2))
            // The pings paused for the stalled stretch (about 3 s), where they are otherwise 0.5 s apart.
            let pings = site.notify.arrivals(of: "WATCHDOG=1")
            let gaps = zip(pings.dropFirst(), pings).map { $0 - $1 }
            #expect(gaps.contains { $0 >= .milliseconds(2000) }, "\(gaps)")
            #expect(pings.contains { $0 > resumed })
            daemon.signal(SIGTERM)
            #expect(daemon.wait(timeout: .seconds(30)) == 0)
        }
    }

    @Test("a bad config exits 78 before anything starts; a database not yet migrated is waited for, not a reason to exit")
    func startupProblems() async throws {
        let bad = try Site(.sqlite, feed: "source: {kind: csv-drop, directory: drops/stock}\n    schedule: {cron: \"61 * * * *\"}")
        defer { bad.notify.close() }
        let code = try bad.start().wait()
        #expect(code == 78)
        #expect(bad.log.contains("invalid minute '61'"), "\(bad.log)")
        #expect(bad.notify.messages.isEmpty)

        let site = try Site(.sqlite, migrate: false)
        defer { site.notify.close() }
        let daemon = try site.start()
        defer { if !daemon.hasExited { daemon.kill() } }
        #expect(site.notify.wait(containing: "STATUS=waiting for the database"))
        #expect(site.notify.messages.contains { $0.contains("STATUS=waiting for the database") && $0.contains("db migrate") }, "\(site.notify.messages)")
        #expect(site.notify.messages.contains { $0.hasPrefix("EXTEND_TIMEOUT_USEC=") })
        #expect(!daemon.hasExited)
        let migrate = try ChildProcess(CLITests.binary, ["db", "migrate", "--config", site.config], environment: ProcessInfo.processInfo.environment, log: site.dir.file("migrate.log"))
        #expect(migrate.wait() == 0)
        #expect(site.notify.wait(for: "READY=1", timeout: .seconds(60)), "\(site.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeout: .seconds(30)) == 0)
    }
}

/// A URLSession answer handed to a waiting test thread.
final class ResultBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: (Int, String)?

    func set(_ v: (Int, String)) {
        condition.lock()
        value = v
        condition.signal()
        condition.unlock()
    }

    func wait() -> (Int, String) {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
