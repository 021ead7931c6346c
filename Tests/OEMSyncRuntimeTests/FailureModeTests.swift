import Foundation
import Logging
import OEMSyncCore
import OEMSyncMapping
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Synchronization
import Testing

/// What happens when things go wrong: nothing is lost, nothing is written twice, and the error says
/// where the problem is.
@Suite("Failure modes of a sync")
struct FailureModeTests {
    /// The real database, failing the n-th commit as a crash or an outage would (nothing of that
    /// batch is written, exactly like a rollback).
    final class FailingDatabase: DealerDatabase, @unchecked Sendable {
        let inner: any DealerDatabase
        let failAt: Int
        /// What the database says when it fails.
        let message: String
        let commits = Mutex(0)
        init(_ inner: any DealerDatabase, failAt: Int, message: String = "connection to the database lost") {
            self.inner = inner
            self.failAt = failAt
            self.message = message
        }
        var dialect: SQLDialect { inner.dialect }
        var displayName: String { inner.displayName }
        func migrate() throws(SinkError) -> [String] { try inner.migrate() }
        func pendingMigrations() throws(SinkError) -> [String] { try inner.pendingMigrations() }
        func catalog() throws(SinkError) -> SchemaCatalog { try inner.catalog() }
        func checkpoint(feed: String) throws(SinkError) -> String? { try inner.checkpoint(feed: feed) }
        func requestsUsed(credentials: String, since: Timestamp) throws(SinkError) -> Int {
            try inner.requestsUsed(credentials: credentials, since: since)
        }
        func prepare(_ batch: inout MappedBatch) { inner.prepare(&batch) }
        func select(_ sql: String, _ values: [Value]) throws(SinkError) -> [[String?]] { try inner.select(sql, values) }
        func transaction(_ statements: [(sql: String, values: [Value])]) throws(SinkError) -> [Int] { try inner.transaction(statements) }
        func commit(_ chunks: any BatchChunks, to table: TargetTable, context: BatchContext) throws(SinkError) -> BatchReceipt {
            let n = commits.withLock { $0 += 1; return $0 }
            if n == failAt { throw SinkError(.write, message) }
            return try inner.commit(chunks, to: table, context: context)
        }
    }

    static func stockCSV(rows: Int, price: Int = 100) -> String { StockFeed.csv(rows: rows, price: price) }

    static func vin(_ i: Int) -> String { StockFeed.vin(i) }

    func plan(_ ws: Workspace) throws -> (FeedSettings, MappingPlan) {
        let load = Project.load(configPath: ws.configPath, catalog: try ws.db.database.catalog(), catalogIsComplete: true)
        let project = try #require(load.project, "\(load.diagnostics)")
        let feed = try #require(project.configuration.feed(named: "stock"))
        return (feed, try #require(project.plans["stock"]))
    }

    @Test("an interrupted file resumes from its checkpoint: every row once, nothing lost", arguments: TestDatabase.backends)
    func resumeAfterInterruption(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"], batchRows: 7)
        try ws.dropText("stock", "stock.csv", Self.stockCSV(rows: 50))
        let (feed, plan) = try plan(ws)
        let failing = FailingDatabase(ws.db.database, failAt: 4)
        let first = FeedRunner.run(feed, plan: plan, database: failing, services: SourceServices(credentials: [:]), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(first.error?.code == .database)
        #expect(first.files.first?.batches == 3)
        #expect(try ws.db.count("stock") == 21)
        #expect(ws.files("stock", "processing").count == 1, "the file waits in processing/ for the resume")
        let checkpoint = try #require(try ws.db.database.checkpoint(feed: "stock").flatMap(CSVDropCheckpoint.parse))
        #expect(checkpoint.line == 23)

        let second = FeedRunner.run(feed, plan: plan, database: ws.db.database, services: SourceServices(credentials: [:]), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(second.error == nil)
        let file = try #require(second.files.first)
        #expect(file.resumedFrom == "line 23 (byte \(checkpoint.offset))")
        #expect(file.recordsIn == 29)
        #expect(file.inserted == 29)
        #expect(try ws.db.count("stock") == 50)
        let prices = try ws.db.query("SELECT stock_no FROM stock ORDER BY stock_no").map { $0[0]! }
        #expect(Set(prices) == Set((0..<50).map { "S-\($0)" }))
        #expect(ws.files("stock", "archive").count == 1)
        let ledger = try ws.db.query("SELECT CAST(sum(records_in) AS TEXT), CAST(count(*) AS TEXT) FROM oemsync_batches")
        #expect(ledger == [["50", "8"]], "50 records in 8 batches, none counted twice")
    }

    @Test(
        "the same content dropped again is skipped with a ledger note naming the earlier batch; asked to, it reloads and rewrites nothing",
        arguments: TestDatabase.backends)
    func reDropUnchanged(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try ws.dropText("stock", "day1.csv", Self.stockCSV(rows: 20))
        #expect(ws.sync().status == ExitStatus.ok)
        let before = try ws.db.dump("stock", CSVDropPipelineTests.stockColumns, orderBy: "vin")
        let firstBatch = try #require(try ws.db.query("SELECT CAST(max(id) AS TEXT) FROM oemsync_batches").first?[0] ?? nil)

        // Same bytes under another name: skipped, archived, and said so in the ledger.
        try ws.dropText("stock", "day1-again.csv", Self.stockCSV(rows: 20))
        let skipped = ws.sync(json: true)
        #expect(skipped.status == ExitStatus.ok)
        #expect(skipped.out.contains("\"note\":\"skipped: same content as batch \(firstBatch) ('day1.csv')\""), "\(skipped.out)")
        let note = try ws.db.query("SELECT notes, CAST(records_in AS TEXT), status FROM oemsync_batches ORDER BY id DESC LIMIT 1")
        #expect(note.first?[0]?.contains("loaded by batch \(firstBatch)") == true, "\(note)")
        #expect(note.first?[1] == "0" && note.first?[2] == "ok")
        #expect(try ws.db.query("SELECT outcome, CAST(same_as AS TEXT) FROM oemsync_files ORDER BY finished_at").map { [$0[0]!, $0[1] ?? "-"] } == [["loaded", "-"], ["skipped", firstBatch]])
        #expect(ws.files("stock", "archive").count == 2)
        #expect(try ws.db.dump("stock", CSVDropPipelineTests.stockColumns, orderBy: "vin") == before)

        // Asked to reload: every row read again, none rewritten.
        try ws.dropText("stock", "day1-third.csv", Self.stockCSV(rows: 20))
        let run = ws.sync(json: true, reloadDuplicates: true)
        #expect(run.status == ExitStatus.ok)
        #expect(run.out.contains("\"inserted\":0,\"updated\":0,\"unchanged\":20"), "\(run.out)")
        #expect(try ws.db.dump("stock", CSVDropPipelineTests.stockColumns, orderBy: "vin") == before)
        try ws.dropText("stock", "day2.csv", Self.stockCSV(rows: 22, price: 101))
        let changed = ws.sync(json: true)
        #expect(changed.out.contains("\"inserted\":2,\"updated\":20,\"unchanged\":0"), "\(changed.out)")
    }

    @Test("a hold asked before each file: a waiting file stays in the drop; a drop with nothing to load ends, held by nothing", arguments: TestDatabase.backends)
    func holdBeforeEachFile(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        let (feed, plan) = try plan(ws)
        let asked = Mutex(0)
        let stopping = RunControl(hold: { _ in
            asked.withLock { $0 += 1 }
            return RunControl.Hold(reason: "the daemon is stopping", kind: .shutdown)
        })
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let empty = FeedRunner.run(feed, plan: plan, database: ws.db.database, services: SourceServices(credentials: [:]), logger: logger, control: stopping)
        #expect(empty.error == nil && empty.held == nil, "nothing to load: the run simply ends")
        #expect(asked.withLock { $0 } == 0)

        try ws.dropText("stock", "stock.csv", Self.stockCSV(rows: 5))
        let held = FeedRunner.run(feed, plan: plan, database: ws.db.database, services: SourceServices(credentials: [:]), logger: logger, control: stopping)
        #expect(held.held?.kind == .shutdown && held.files.isEmpty)
        #expect(ws.files("stock") == ["stock.csv"], "not claimed")
        #expect(try ws.db.count("oemsync_batches") == 0)
    }

    @Test("an unreachable database stops the run before any file is touched")
    func databaseUnreachable() throws {
        let dir = try TemporaryDirectory("ws")
        try dir.write("drops/stock/stock.csv", Self.stockCSV(rows: 3))
        let config = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database:
              url: postgresql://oemsync@127.0.0.1:9/dealer
              password_env: OEMSYNC_TEST_SECRET_PASSWORD
            dictionary: \(Fixture.repository("Mappings/dictionary"))
            feeds:
              stock:
                mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                source: {kind: csv-drop, directory: drops/stock}
            """)
        setenv("OEMSYNC_TEST_SECRET_PASSWORD", "s3cr3t-pw", 1)
        let err = Mutex("")
        let console = Console(out: { _ in }, err: { s in err.withLock { $0 += s } })
        let status = SyncCommand.run(.init(configPath: config, feeds: [], all: true), logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }), console: console)
        let message = err.withLock { $0 }
        #expect(status == ExitStatus.failure)
        #expect(message.contains("cannot connect to PostgreSQL"), "\(message)")
        #expect(message.contains("no file was touched"))
        #expect(!message.contains("s3cr3t-pw"))
        #expect(dir.list("drops/stock") == ["stock.csv"], "the drop file stays where it was")
    }

    @Test("a database without the schema stops the run and names the fix", arguments: TestDatabase.backends)
    func notMigrated(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try ws.db.execute("DELETE FROM oemsync_migrations")
        try ws.dropText("stock", "stock.csv", Self.stockCSV(rows: 3))
        let run = ws.sync()
        #expect(run.status == ExitStatus.failure)
        #expect(run.err.contains("run `oemsync db migrate`"))
        #expect(ws.files("stock") == ["stock.csv"])
    }

    @Test("a broken mapping exits 78 with file:line:col and writes nothing", arguments: TestDatabase.backends)
    func brokenMapping(_ backend: TestDatabase.Backend) throws {
        let dir = try TemporaryDirectory("map")
        let broken = try dir.write(
            "stock.yaml",
            try String(contentsOfFile: Fixture.repository("Mappings/acme/stock.v1.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "  stock_no:", with: "  stock_number:"))
        let ws = try Workspace(backend, feeds: ["stock": broken])
        try ws.dropText("stock", "stock.csv", Self.stockCSV(rows: 3))
        let run = ws.sync()
        #expect(run.status == ExitStatus.config)
        #expect(run.err.contains("stock.yaml:20:3: error[M302]: unknown column 'stock_number' in table 'stock'"), "\(run.err)")
        #expect(ws.files("stock") == ["stock.csv"])
        #expect(try ws.db.count("oemsync_batches") == 0)
    }

    @Test("a header that does not fit the mapping quarantines the file with the reason", arguments: TestDatabase.backends)
    func headerMismatch(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try ws.dropText("stock", "stock.csv", Self.stockCSV(rows: 3).replacingOccurrences(of: "ReservedPhone", with: "Phone"))
        let run = ws.sync()
        #expect(run.status == ExitStatus.failure)
        let reasonFile = try #require(ws.files("stock", "quarantine").first { $0.hasSuffix(".reason") })
        let reason = try String(contentsOfFile: ws.dir.file("drops/stock/quarantine/" + reasonFile), encoding: .utf8)
        #expect(reason.contains("header row (line 1) does not fit mapping"))
        #expect(reason.contains("the header has no 'ReservedPhone'"))
        #expect(try ws.db.count("stock") == 0)
        #expect(run.out.contains("quarantined"))
    }

    @Test("logs carry no personal data: no phone, no name, no raw record", arguments: TestDatabase.backends)
    func logsArePersonalDataFree(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-orders": "Mappings/acme/orders.v1.yaml"])
        try ws.drop("acme-orders", fixture: "feeds/csv/acme/orders-20251203.csv")
        let run = ws.sync()
        #expect(run.status == ExitStatus.ok)
        #expect(run.logs.contains("msg=\"file loaded\""), "the test saw the logs: \(run.logs)")
        let everything = run.logs + run.out + run.err
        for secret in ["13800138000", "138****0000", "1390013900", "张伟", "欧阳娜娜", "65529988", "赵磊"] {
            #expect(!everything.contains(secret), "'\(secret)' leaked")
        }
        #expect(everything.range(of: #"1[3-9]\d{9}"#, options: .regularExpression) == nil)
    }
}

@Suite("Large batches")
struct LargeBatchTests {
    @Test("a batch larger than a chunk commits as one ledger entry; counts add up across chunks", arguments: TestDatabase.backends)
    func batchesSpanChunks(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"], batchRows: 10_000)
        var text = FailureModeTests.stockCSV(rows: 12_000)
        text += "D001,BADVIN,S-x,20,A3S,0Q,2025-12-02,1,Hall,\n"
        try ws.dropText("stock", "big.csv", text)
        let run = ws.sync()
        #expect(run.status == ExitStatus.ok, "\(run.err)")
        #expect(try ws.db.count("stock") == 12_000)
        let ledger = try ws.db.query(
            "SELECT CAST(records_in AS TEXT), CAST(written AS TEXT), CAST(rejected AS TEXT), CAST(inserted AS TEXT) FROM oemsync_batches ORDER BY id")
        #expect(ledger == [["10000", "10000", "0", "10000"], ["2001", "2000", "1", "2000"]])
        let checkpoint = try #require(try ws.db.database.checkpoint(feed: "stock").flatMap(CSVDropCheckpoint.parse))
        #expect(checkpoint.isComplete)
        #expect(checkpoint.line == 12_003)
    }
}
