#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncTesting
import Testing

/// The built binary against databases that fail the way real ones do: a PostgreSQL server tuned
/// for speed (`synchronous_commit = off`) that crashes right after a sync, one that freezes
/// mid-sync, and an operator who presses Ctrl-C. These tests start servers of their own and time
/// what the binary does: `make test` runs them on their own.
@Suite("Durability and bounded waits: the built binary against crashing and frozen servers", .serialized)
struct DurabilityProcessTests {
    static func stock(_ first: Int, _ count: Int) -> String {
        var text = StockFeed.header
        for i in first..<(first + count) { text += "D001,\(StockFeed.vin(i)),S-\(i),20,A3S,0Q,2025-12-02,\(100 + i),Hall,\n" }
        return text
    }

    struct Site {
        let dir: TemporaryDirectory
        let config: String

        init(database: String, extra: String = "", batchRows: Int = 5000) throws {
            dir = try TemporaryDirectory("durable")
            config = try dir.write(
                "oemsync.yaml",
                """
                oemsync: 1
                database:
                  url: "\(database)"
                \(extra)
                dictionary: \(Fixture.repository("Mappings/dictionary"))
                feeds:
                  stock:
                    mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                    source: {kind: csv-drop, directory: drops/stock, batch_rows: \(batchRows)}

                """)
        }

        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "OEMSYNC_CONFIG")
            return env
        }

        @discardableResult
        func oemsync(_ arguments: [String]) throws -> Int32 {
            try ChildProcess(CLITests.binary, arguments + ["--config", config], environment: environment, log: dir.file("runs.log")).wait()
        }

        func start(level: String = "debug") throws -> PipedChild {
            var env = environment
            env["OEMSYNC_LOG_LEVEL"] = level
            return try PipedChild(CLITests.binary, ["sync", "--all", "--once", "--config", config], environment: env, stdout: dir.file("report.txt"))
        }
    }

    @Test("PostgreSQL with synchronous_commit = off, crash-stopped right after each sync returns, 10 rounds: every row, file and checkpoint there")
    func synchronousCommitOff() throws {
        // What the server acknowledges without writing sits in its WAL buffers for up to 10 s: an
        // immediate stop loses it, unless oemsync's own sessions commit durably.
        let pg = try PrivatePostgres(options: "-c synchronous_commit=off -c wal_writer_delay=10000ms -c fsync=on")
        let site = try Site(database: pg.configURL)
        #expect(try site.oemsync(["db", "migrate"]) == 0)
        for round in 0..<10 {
            _ = try site.dir.write("drops/stock/day\(round).csv", Self.stock(round * 2000, 2000))
            #expect(try site.oemsync(["sync", "--all", "--once"]) == 0, "round \(round)")
            try pg.restartImmediately()
            let rows = try pg.query("SELECT count(*) FROM stock").first?[0] ?? nil
            #expect(rows == String((round + 1) * 2000), "round \(round): rows after the crash")
            let files = try pg.query("SELECT count(*) FROM oemsync_files WHERE outcome = 'loaded'").first?[0] ?? nil
            #expect(files == String(round + 1), "round \(round): files the ledger holds")
            #expect(site.dir.list("drops/stock/archive").count == round + 1)
        }
        let checkpoint = try pg.query("SELECT position FROM oemsync_checkpoints WHERE feed = 'stock'").first?[0] ?? nil
        #expect(checkpoint?.contains("day9.csv") == true)
        // Nothing left that the next run would take again or resume.
        #expect(try site.oemsync(["sync", "--all", "--once"]) == 0)
        #expect(try pg.query("SELECT count(*) FROM stock").first?[0] ?? nil == "20000")
    }

    @Test("a PostgreSQL server frozen mid-sync ends the sync with exit 1 within statement_timeout and its margin; a frozen one at the start within connect_timeout")
    func frozenServer() throws {
        let pg = try PrivatePostgres(options: "")
        let site = try Site(database: pg.configURL, extra: "  statement_timeout: 1s\n  connect_timeout: 2s", batchRows: 500)
        #expect(try site.oemsync(["db", "migrate"]) == 0)
        _ = try site.dir.write("drops/stock/big.csv", Self.stock(0, 40_000))

        let child = try site.start()
        #expect(child.waitForLine(containing: "batch committed", timeout: .seconds(60)), "\(child.stderr)")
        try pg.signal("STOP")
        let frozen = ContinuousClock.now
        let status = child.process.wait(timeout: .seconds(60))
        let waited = ContinuousClock.now - frozen
        try pg.signal("CONT")
        #expect(status == 1)
        #expect(waited < .seconds(12), "bounded by statement_timeout 1s + 1s, with room for a loaded machine: \(waited)")
        #expect(child.drain().contains("PostgreSQL did not answer within 2s"), "\(child.stderr)")

        // Frozen before the sync connects: the connection attempt is bounded too.
        try pg.signal("STOP")
        let again = try site.start()
        let started = ContinuousClock.now
        let connectStatus = again.process.wait(timeout: .seconds(60))
        let connectWait = ContinuousClock.now - started
        try pg.signal("CONT")
        #expect(connectStatus == 1)
        #expect(connectWait < .seconds(12), "\(connectWait)")
        #expect(again.drain().contains("timeout"), "\(again.stderr)")

        // Thawed: the next run resumes, every row once.
        #expect(try site.oemsync(["sync", "--all", "--once"]) == 0)
        #expect(try pg.query("SELECT count(*), count(DISTINCT vin) FROM stock").first == ["40000", "40000"])
    }

    @Test("SIGTERM or SIGINT mid-sync: the batch in flight commits, the report is printed, exit 143 or 130; a second signal stops at once")
    func signals() throws {
        let site = try Site(database: "sqlite:dealer.db", batchRows: 500)
        #expect(try site.oemsync(["db", "migrate"]) == 0)
        _ = try site.dir.write("drops/stock/big.csv", Self.stock(0, 40_000))
        let db = site.dir.file("dealer.db")
        func rows() throws -> Int {
            let r = try TestDatabase.sqliteQuery(path: db, "SELECT count(*) FROM stock").first?[0] ?? nil
            return Int(r ?? "0") ?? -1
        }

        for (signal, expected) in [(SIGTERM, Int32(143)), (SIGINT, Int32(130))] {
            let child = try site.start()
            #expect(child.waitForLine(containing: "batch committed", timeout: .seconds(60)))
            child.process.signal(signal)
            #expect(child.process.wait(timeout: .seconds(60)) == expected)
            let stderr = child.drain()
            #expect(stderr.contains("interrupted; the batch in flight committed"), "\(stderr)")
            let report = try String(contentsOfFile: site.dir.file("report.txt"), encoding: .utf8)
            #expect(report.contains("stopped by \(signal == SIGTERM ? "SIGTERM" : "SIGINT") after the batch in flight"), "\(report)")
            let loaded = try rows()
            #expect(loaded > 0 && loaded < 40_000 && loaded % 500 == 0, "whole batches only: \(loaded)")
            #expect(site.dir.list("drops/stock/processing").count == 1, "the file waits to be resumed")
        }

        // Two signals: the second ends the process at once, without a report. (Two signals sent at
        // the same instant are one to the kernel: the second follows the first's notice, as a
        // second Ctrl-C does. Large batches keep one in flight meanwhile.)
        let big = try Site(database: "sqlite:dealer.db", batchRows: 20_000)
        #expect(try big.oemsync(["db", "migrate"]) == 0)
        _ = try big.dir.write("drops/stock/big.csv", Self.stock(0, 100_000))
        let twice = try big.start()
        #expect(twice.waitForLine(containing: "batch committed", timeout: .seconds(60)))
        twice.process.signal(SIGTERM)
        #expect(twice.waitForLine(containing: "interrupted: stopping after the batch in flight", timeout: .seconds(60)))
        twice.process.signal(SIGTERM)
        #expect(twice.process.wait(timeout: .seconds(60)) == 143)
        #expect(try String(contentsOfFile: big.dir.file("report.txt"), encoding: .utf8).isEmpty, "no report after the second signal")
        #expect(try big.oemsync(["sync", "--all", "--once"]) == 0)
        let bigRows = try TestDatabase.sqliteQuery(path: big.dir.file("dealer.db"), "SELECT count(*) FROM stock").first?[0] ?? nil
        #expect(bigRows == "100000")

        // Resumed to the end: every row once.
        #expect(try site.oemsync(["sync", "--all", "--once"]) == 0)
        #expect(try rows() == 40_000)
    }

    @Test("what the system calls say: a claim syncs the file and both folders, the commit reaches the disk before the archive, which syncs both folders (strace)")
    func syncOrder() throws {
        let site = try Site(database: "sqlite:dealer.db", batchRows: 50)
        #expect(try site.oemsync(["db", "migrate"]) == 0)
        _ = try site.dir.write("drops/stock/day1.csv", Self.stock(0, 150))  // 3 batches, 3 commits
        let trace = site.dir.file("trace.txt")
        let strace = try ChildProcess(
            "/usr/bin/strace", ["-f", "-y", "-e", "trace=rename,renameat,renameat2,fsync,fdatasync", "-o", trace, CLITests.binary, "sync", "--all", "--once", "--config", site.config],
            environment: site.environment, log: site.dir.file("runs.log"))
        #expect(strace.wait() == 0)
        // One event per line: `rename processing`, `sync <path>`; strace splits calls that other threads interrupt.
        let drop = site.dir.file("drops/stock")
        var events: [String] = []
        for line in try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n") {
            if line.contains("rename("), line.contains(drop) {
                events.append(line.contains("/processing/") && line.contains("/archive/") ? "rename archive" : "rename processing")
            } else if line.contains("sync("), let open = line.firstIndex(of: "<"), let close = line[open...].firstIndex(of: ">") {
                let path = String(line[line.index(after: open)..<close])
                events.append("sync " + (path.hasPrefix(drop) ? String(path.dropFirst(drop.count)).replacingOccurrences(of: #"/processing/[^/]+$"#, with: "/processing/FILE", options: .regularExpression) : (path as NSString).lastPathComponent))
            }
        }
        func index(_ event: String, after start: Int) -> Int? { events[start...].firstIndex(of: event) }
        let claim = try #require(events.firstIndex(of: "rename processing"), "\(events)")
        let archive = try #require(events.firstIndex(of: "rename archive"), "\(events)")
        // The claim: the file's data, then processing/ and the drop folder, before anything is committed.
        for e in ["sync /processing/FILE", "sync /processing", "sync "] {
            #expect(index(e, after: claim).map { $0 < archive } == true, "\(e) after the claim: \(events)")
        }
        // Each commit: the WAL on disk before it returns (SQLite's synchronous=FULL; NORMAL syncs it
        // only at checkpoints, and once when it starts), so all of them before the file is archived.
        #expect(events[claim..<archive].filter { $0 == "sync dealer.db-wal" }.count >= 3, "\(events)")
        // The archive: both folders.
        #expect(index("sync /archive", after: archive) != nil, "\(events)")
        #expect(index("sync /processing", after: archive) != nil, "\(events)")
    }

    @Test("a SQLite database another process keeps locked: the sync gives up after busy_timeout, exit 1, saying so; the file waits")
    func sqliteBusy() throws {
        let site = try Site(database: "sqlite:dealer.db", extra: "  busy_timeout: 1s")
        #expect(try site.oemsync(["db", "migrate"]) == 0)
        _ = try site.dir.write("drops/stock/day1.csv", Self.stock(0, 100))
        let holder = try SQLiteLock(path: site.dir.file("dealer.db"))
        let started = ContinuousClock.now
        let child = try site.start(level: "info")
        let status = child.process.wait(timeout: .seconds(60))
        let waited = ContinuousClock.now - started
        #expect(status == 1)
        #expect(waited < .seconds(10), "bounded by busy_timeout 1s: \(waited)")
        #expect(child.drain().contains("database is locked"), "\(child.stderr)")
        holder.release()
        #expect(try site.oemsync(["sync", "--all", "--once"]) == 0)
        #expect(try TestDatabase.sqliteQuery(path: site.dir.file("dealer.db"), "SELECT count(*) FROM stock").first?[0] ?? nil == "100")
    }
}
