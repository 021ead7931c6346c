#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Testing

/// What a drop folder meets in the wild, and what a database that lost commits leaves behind.
@Suite("Drop folders: odd entries, odd names, lost commits, two processes (SQLite and PostgreSQL)")
struct DropSafetyTests {
    /// Stock rows `first..<first+count`: distinct vehicles, so every file's rows are its own.
    static func stock(_ first: Int, _ count: Int) -> String {
        var text = StockFeed.header
        for i in first..<(first + count) { text += "D001,\(StockFeed.vin(i)),S-\(i),20,A3S,0Q,2025-12-02,\(100 + i),Hall,\n" }
        return text
    }

    /// Creates `name` (raw bytes: any byte but `/` and NUL) in `dir` with `text`.
    static func create(_ dir: String, _ name: [UInt8], _ text: String) throws {
        let path = Array(dir.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) } }
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    @Test(
        "a symbolic link, a FIFO and a directory that match the pattern are quarantined unopened, with their reason; the files behind them load",
        arguments: TestDatabase.backends)
    func refusedEntries(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        let drop = ws.dir.file("drops/stock")
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        // A file outside the folder that would load if followed.
        let outside = try ws.dir.write("elsewhere/secret.csv", Self.stock(1000, 5))
        #expect(symlink(outside, drop + "/a-link.csv") == 0)
        #expect(mkfifo(drop + "/b-fifo.csv", 0o644) == 0)
        try FileManager.default.createDirectory(atPath: drop + "/c-dir.csv", withIntermediateDirectories: false)
        try ws.dropText("stock", "d-real.csv", Self.stock(0, 10))

        let run = ws.sync(json: true)
        #expect(run.status == ExitStatus.failure, "a quarantine needs attention")
        #expect(try ws.db.count("stock") == 10, "only the regular file's rows")
        let quarantine = ws.files("stock", "quarantine")
        let reasons = try quarantine.filter { $0.hasSuffix(".reason") }.map { try String(contentsOfFile: drop + "/quarantine/" + $0, encoding: .utf8) }
        #expect(reasons.contains { $0.contains("a symbolic link, not a regular file: not followed") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("a FIFO (named pipe), not a regular file") })
        #expect(reasons.contains { $0.contains("a directory, not a regular file") })
        // The link moved, its target did not: still where it was, whole.
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == Self.stock(1000, 5))
        let link = try #require(quarantine.first { $0.hasSuffix("a-link.csv") })
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: drop + "/quarantine/" + link) == outside)
        #expect(ws.files("stock", "archive").count == 1)
        #expect(try ws.db.query("SELECT outcome FROM oemsync_files ORDER BY outcome").map { $0[0]! } == ["loaded", "quarantined", "quarantined", "quarantined"])
    }

    @Test(
        "names of 250 bytes, with CR, ESC, a line break or bytes that are not UTF-8 load; reports, logs and the ledger show them escaped",
        arguments: TestDatabase.backends)
    func oddNames(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        let drop = ws.dir.file("drops/stock")
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        let long = Array(String(repeating: "车", count: 82).utf8) + Array(".csv".utf8)  // 250 bytes
        #expect(long.count == 250)
        let names: [[UInt8]] = [long, Array("cr\rname.csv".utf8), Array("esc\u{1b}[2Jname.csv".utf8), Array("two\nlines.csv".utf8), [0x6C, 0xFF, 0xFE] + Array(".csv".utf8)]
        for (i, name) in names.enumerated() { try Self.create(drop, name, Self.stock(i * 10, 10)) }

        let run = ws.sync(json: true)
        #expect(run.status == ExitStatus.ok, "\(run.err)")
        #expect(try ws.db.count("stock") == 50)
        #expect(ws.files("stock", "archive").count == 5)
        #expect(ws.files("stock").isEmpty && ws.files("stock", "processing").isEmpty)
        for text in [run.out, run.err, run.logs] {
            #expect(!text.contains("\u{1b}") && !text.contains("\r") && !text.contains("cr\rname"), "raw control characters")
        }
        #expect(run.out.contains(#"esc\\x1b[2Jname.csv"#), "\(run.out)")
        #expect(run.out.contains(#"l\\xff\\xfe.csv"#))
        #expect(run.logs.contains(#"oemsync.file=two\x0alines.csv"#), "\(run.logs)")
        let sources = try ws.db.query("SELECT source FROM oemsync_batches").map { $0[0]! }
        #expect(sources.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 } }, "\(sources)")
        let text = ws.command { BatchesCommand.list(.init(configPath: $0), console: $1) }
        #expect(!text.out.contains("\u{1b}") && text.out.contains(#"cr\x0dname.csv"#), "\(text.out)")
        // The long name was shortened in its claim, with a hash of the whole name.
        let claimed = try #require(ws.files("stock", "archive").first { $0.contains("车") })
        #expect(claimed.utf8.count <= 248 && claimed.contains("~") && claimed.hasSuffix(".csv"), "\(claimed)")
    }

    @Test(
        "an archived file whose load the database lost is loaded again, newest first until one the database knows; a new database is not compared",
        arguments: TestDatabase.backends)
    func lostCommits(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        var day1Checkpoint = ""
        for (i, name) in ["day1.csv", "day2.csv", "day3.csv"].enumerated() {
            try ws.dropText("stock", name, Self.stock(i * 10, 10))
            #expect(ws.sync().status == ExitStatus.ok)
            if i == 0 { day1Checkpoint = try #require(try ws.db.query("SELECT position FROM oemsync_checkpoints").first?[0] ?? nil) }
        }
        #expect(try ws.db.count("stock") == 30)
        // The database as a restore from before day2 leaves it: day2's and day3's loads gone, rows and ledger.
        let lost = try ws.db.query("SELECT claimed_name FROM oemsync_files WHERE original_name <> 'day1.csv'").map { $0[0]! }
        #expect(lost.count == 2)
        for name in lost {
            try ws.db.execute("DELETE FROM oemsync_payloads WHERE batch_id IN (SELECT id FROM oemsync_batches WHERE source_ref = '\(name)')")
            try ws.db.execute("DELETE FROM oemsync_warnings WHERE batch_id IN (SELECT id FROM oemsync_batches WHERE source_ref = '\(name)')")
            try ws.db.execute("DELETE FROM oemsync_rejects WHERE batch_id IN (SELECT id FROM oemsync_batches WHERE source_ref = '\(name)')")
            try ws.db.execute("DELETE FROM stock WHERE oemsync_batch_id IN (SELECT id FROM oemsync_batches WHERE source_ref = '\(name)')")
            try ws.db.execute("DELETE FROM oemsync_files WHERE claimed_name = '\(name)'")
            try ws.db.execute("DELETE FROM oemsync_batches WHERE source_ref = '\(name)'")
        }
        try ws.db.execute("UPDATE oemsync_checkpoints SET position = '\(day1Checkpoint)'")
        #expect(try ws.db.count("stock") == 10)

        let healed = ws.sync(json: true)
        #expect(healed.status == ExitStatus.ok, "\(healed.err)")
        #expect(try ws.db.count("stock") == 30, "every row back")
        #expect(healed.logs.contains("archived file not in the database: loading it again"))
        #expect(healed.out.components(separatedBy: "loaded again from archive/").count == 3, "\(healed.out)")
        #expect(ws.files("stock", "archive").count == 3)
        #expect(ws.files("stock", "processing").isEmpty)
        // Known now: the next run finds nothing to do.
        let next = ws.sync(json: true)
        #expect(!next.out.contains("loaded again") && next.out.contains("\"files\":[]"), "\(next.out)")

        // A new, empty database beside the same archive: nothing is compared, nothing reloaded.
        let fresh = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try FileManager.default.createDirectory(atPath: fresh.dir.file("drops/stock/archive"), withIntermediateDirectories: true)
        for name in ws.files("stock", "archive") {
            try FileManager.default.copyItem(atPath: ws.dir.file("drops/stock/archive/\(name)"), toPath: fresh.dir.file("drops/stock/archive/\(name)"))
        }
        #expect(fresh.sync().status == ExitStatus.ok)
        #expect(try fresh.db.count("stock") == 0)
        #expect(fresh.files("stock", "archive").count == 3)
    }

    @Test("two processes never run one feed: the second says who holds it and does nothing", arguments: TestDatabase.backends)
    func oneRunnerPerFeed(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try ws.dropText("stock", "day1.csv", Self.stock(0, 10))
        let other = try DatabaseOpener.open(try #require(ConfigurationLoader().load(path: ws.configPath).configuration).database)
        guard case .acquired(let held) = try other.lockFeed("stock") else {
            Issue.record("the lock was free")
            return
        }
        let busy = ws.sync()
        #expect(busy.status == ExitStatus.failure)
        #expect(busy.err.contains("the feed is being synced by oemsync \(FeedLock.processName)"), "\(busy.err)")
        #expect(try ws.db.count("stock") == 0)
        #expect(ws.files("stock") == ["day1.csv"], "the file was not touched")
        held.unlock()
        #expect(ws.sync().status == ExitStatus.ok)
        #expect(try ws.db.count("stock") == 10)
    }
}
