import Foundation
import Logging
import OEMSimulator
import OEMSyncCore
import OEMSyncSinks
import OEMSyncTesting
import Synchronization
import Testing

@testable import OEMSyncRuntime

/// What every source kind must do, checked for each registered kind on SQLite and PostgreSQL with
/// its real source (a drop directory, the OEM simulator's REST API, its SOAP service): records in =
/// rows written + records rejected; a hold stops at a commit and the next run goes on from there;
/// an interrupted run resumes without losing or repeating a record; rejected records replay; a
/// database's words about a record never reach the report, the logs or the ledger; a feed held by
/// its window touches nothing; a spent quota parks the feed until the next day.
///
/// A new kind adds its case to ``Kind`` (the registry test fails until it does).
@Suite("Every source kind conforms (SQLite and PostgreSQL)", .serialized)
struct KindConformanceTests {
    enum Kind: String, CaseIterable, Sendable {
        case csvDrop = "csv-drop"
        case rest
        case soap

        /// Kinds whose source parks itself on a spent daily request quota.
        static let quotaKinds: [Kind] = [.rest, .soap]
    }

    typealias Backend = TestDatabase.Backend

    static let stockColumns: [(String, ColumnType)] = [
        ("dealer_code", .string), ("vin", .string), ("stock_no", .string), ("model_code", .string), ("location", .string),
    ]

    /// A workspace whose one feed delivers its records in several batches, some of them rejected.
    final class Feed: @unchecked Sendable {
        let configPath: String
        let db: TestDatabase
        let name: String
        let clock: TestClock
        /// The target table and how to dump it.
        let table: (name: String, columns: [(String, ColumnType)], orderBy: String)
        /// What the source took from the OEM so far: data requests, or files claimed.
        let taken: @Sendable () async -> Int

        init(
            configPath: String, db: TestDatabase, name: String, clock: TestClock, table: (String, [(String, ColumnType)], String),
            taken: @escaping @Sendable () async -> Int
        ) {
            self.configPath = configPath
            self.db = db
            self.name = name
            self.clock = clock
            self.table = table
            self.taken = taken
        }

        func rows() throws -> [[String]] { try db.dump(table.name, table.columns, orderBy: table.orderBy) }
        func batchCount() throws -> Int { try db.count("oemsync_batches") }

        /// One pass of the feed through ``FeedRunner``, as `sync` and the daemon run it.
        func run(control: RunControl = .none, database wrap: (any DealerDatabase) -> any DealerDatabase = { $0 }) async throws
            -> (report: FeedReport, logs: String, configuration: Configuration)
        {
            let logs = Mutex("")
            let logger = Logger(label: "test") { label in
                LogfmtLogHandler(label: label, level: .trace, stream: { line in logs.withLock { $0 += line } })
            }
            let loaded = ConfigurationLoader().load(path: configPath)
            let configuration = try #require(loaded.configuration, "\(loaded.diagnostics)")
            let load = Project.load(configPath: configPath, catalog: try db.database.catalog(), catalogIsComplete: true)
            let project = try #require(load.project, "\(load.diagnostics)")
            let feed = try #require(configuration.feed(named: name))
            let plan = try #require(project.plans[name])
            let services = SourceServices(credentials: configuration.credentials, clock: clock, random: { 0.5 })
            let database = wrap(db.database)
            let report = try await onThread {
                FeedRunner.run(feed, plan: plan, database: database, services: services, logger: logger, control: control)
            }
            #expect(try db.ledgerViolations() == [], "after a run")
            return (report, logs.withLock { $0 }, configuration)
        }
    }

    /// Runs `body` with a fresh feed of `kind` (and its OEM, for the HTTP kinds).
    /// - Parameter quota: the credentials' daily request quota (HTTP kinds).
    static func feed(_ kind: Kind, _ backend: Backend, quota: Int? = nil, _ body: @Sendable (Feed) async throws -> Void) async throws {
        switch kind {
        case .csvDrop:
            // 230 records in batches of 40: six batches; the VINs of records 100 and 201 have wrong check digits.
            let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"], batchRows: 40)
            try ws.dropText("stock", "stock.csv", StockFeed.dirty(first: 0, count: 230))
            try await body(
                Feed(
                    configPath: ws.configPath, db: ws.db, name: "stock", clock: TestClock(), table: ("stock", stockColumns, "vin"),
                    taken: { ws.files("stock").contains("stock.csv") ? 0 : 1 }))
        case .rest:
            try await withSimulator { oem in
                let credentials = quota.map {
                    "  acme-api:\n    auth: {kind: oauth2, token_url: \(oem.baseURL)/oauth/token, client_id: dealer-d001, client_secret_file: secrets/acme-secret}\n    daily_quota: \($0)\n"
                }
                // The ACME orders, five a page.
                let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem, size: 5)], credentials: credentials, oem: oem)
                try await body(
                    Feed(
                        configPath: ws.configPath, db: ws.db, name: "orders", clock: ws.clock,
                        table: ("sales_orders", RESTWorkspace.orderColumns, "dealer_code, order_no"), taken: { await oem.dataRequests().count }))
            }
        case .soap:
            try await withSimulator { oem in
                // The ACME inventory, six vehicles a message.
                let ws = try SOAPPipelineTests.workspace(backend, SOAPPipelineTests.inventory(oem, size: 6), oem: oem)
                if let quota {
                    let text = try String(contentsOfFile: ws.configPath, encoding: .utf8)
                    try text.replacingOccurrences(of: "password_type: digest}\n", with: "password_type: digest}\n    daily_quota: \(quota)\n")
                        .write(toFile: ws.configPath, atomically: true, encoding: .utf8)
                }
                try await body(
                    Feed(
                        configPath: ws.configPath, db: ws.db, name: "inventory", clock: ws.clock, table: ("stock", stockColumns, "vin"),
                        taken: { await oem.dataRequests().count }))
            }
        }
    }

    /// The rows of a run without faults, holds or quotas.
    static func reference(_ kind: Kind, _ backend: Backend) async throws -> [[String]] {
        let rows = Mutex<[[String]]>([])
        try await feed(kind, backend) { feed in
            let run = try await feed.run()
            #expect(run.report.error == nil && run.report.held == nil)
            let dump = try feed.rows()
            rows.withLock { $0 = dump }
        }
        return rows.withLock { $0 }
    }

    @Test("every registered kind is in this suite")
    func everyKind() {
        #expect(Set(Kind.allCases.map(\.rawValue)) == Set(FeedKinds.names))
    }

    @Test("records in = rows written + records rejected, in several batches; a second run adds nothing", arguments: Kind.allCases, TestDatabase.backends)
    func conservation(_ kind: Kind, _ backend: Backend) async throws {
        try await Self.feed(kind, backend) { feed in
            let run = try await feed.run()
            let report = run.report
            #expect(report.error == nil && report.held == nil, "\(String(describing: report.error))")
            #expect(report.recordsIn > 0 && report.recordsIn == report.written + report.rejected)
            #expect(report.rejected >= 1, "the fixture has records the mapping rejects")
            #expect(try feed.batchCount() >= 3)
            let ledger = try feed.db.query("SELECT CAST(sum(records_in) AS TEXT), CAST(sum(rejected) AS TEXT) FROM oemsync_batches")[0]
            #expect(ledger == [String(report.recordsIn), String(report.rejected)])
            #expect(try feed.db.count("oemsync_rejects") == report.rejected)
            let rows = try feed.rows()
            #expect(!rows.isEmpty)

            let again = try await feed.run()
            #expect(again.report.error == nil)
            #expect(again.report.written == 0 || again.report.files.allSatisfy { $0.inserted == 0 }, "nothing new: \(again.report.files)")
            #expect(try feed.rows() == rows)
        }
    }

    @Test("held at a commit: exactly the batches before it are written; the next run goes on from there, nothing lost or twice", arguments: Kind.allCases, TestDatabase.backends)
    func holdAtCommit(_ kind: Kind, _ backend: Backend) async throws {
        let expected = try await Self.reference(kind, backend)
        try await Self.feed(kind, backend) { feed in
            let committed = Mutex(0)
            let control = RunControl(
                hold: { _ in committed.withLock { $0 } >= 2 ? RunControl.Hold(reason: "the window closes at 18:00", kind: .window) : nil },
                committed: { _ in committed.withLock { $0 += 1 } })
            let held = try await feed.run(control: control)
            #expect(held.report.error == nil)
            #expect(held.report.held?.kind == .window)
            #expect(try feed.batchCount() == 2, "a batch read ahead never commits once held")
            #expect(try feed.rows() != expected)

            let resumed = try await feed.run()
            #expect(resumed.report.error == nil && resumed.report.held == nil)
            #expect(try feed.rows() == expected)
            let ins = try feed.db.query("SELECT CAST(sum(records_in) + sum(duplicates) AS TEXT) FROM oemsync_batches WHERE replay_of IS NULL")[0][0]
            #expect(ins == String(held.report.recordsIn + resumed.report.recordsIn + resumed.report.files.reduce(0) { $0 + $1.duplicates }))
        }
    }

    @Test("interrupted at a commit (the database gone): the next run resumes from the last commit, nothing lost or twice", arguments: Kind.allCases, TestDatabase.backends)
    func resumeAfterInterruption(_ kind: Kind, _ backend: Backend) async throws {
        let expected = try await Self.reference(kind, backend)
        try await Self.feed(kind, backend) { feed in
            let first = try await feed.run(database: { FailureModeTests.FailingDatabase($0, failAt: 3) })
            #expect(first.report.error?.code == .database)
            #expect(try feed.batchCount() == 2)
            let second = try await feed.run()
            #expect(second.report.error == nil, "\(String(describing: second.report.error))")
            #expect(second.report.files.contains { $0.resumedFrom != nil }, "\(second.report.files.map(\.name))")
            #expect(try feed.rows() == expected)
        }
    }

    @Test("rejected records replay from what the ledger kept: the same records mapped again", arguments: Kind.allCases, TestDatabase.backends)
    func replay(_ kind: Kind, _ backend: Backend) async throws {
        try await Self.feed(kind, backend) { feed in
            let run = try await feed.run()
            let rejected = run.report.rejected
            #expect(rejected >= 1)
            let rows = try feed.rows()
            let replay = LedgerCommand.run(configPath: feed.configPath, db: feed.db) { path, console in
                ReplayCommand.run(.init(configPath: path, selection: .feed(feed.name, status: "partial"), dryRun: false), console: console)
            }
            #expect(replay.status == 0, "\(replay.err)")
            // A file's batch keeps only its rejected records, a SOAP batch their fields, a REST page the whole page.
            let replayed = try feed.db.query(
                "SELECT CAST(sum(records_in) AS TEXT), CAST(sum(rejected) AS TEXT), CAST(count(*) AS TEXT) FROM oemsync_batches WHERE replay_of IS NOT NULL")[0]
            #expect(Int(replayed[0] ?? "") ?? 0 >= rejected, "every rejected record mapped again")
            #expect(replayed[1] == String(rejected), "and rejected again by the same mapping")
            #expect(Int(replayed[2] ?? "") ?? 0 >= 1)
            #expect(try feed.rows() == rows, "the same mapping rejects them again")
        }
    }

    /// A database's words quoting a customer's phone, ID number and e-mail address. (The sinks mask
    /// the values PostgreSQL and SQLite quote before they leave a connection, `SinkError.maskValues`;
    /// these words skip that, to show the pipeline scrubs whatever reaches it.)
    static let quotingWords =
        "duplicate key value violates unique constraint \"customers_pkey\": customer 13912345678 (ID 440301199001011234, zhang.wei@example.cn) exists"
    static let quoted = ["13912345678", "440301199001011234", "zhang.wei"]

    @Test("a database's words quoting a customer reach neither the report, the logs nor the ledger", arguments: Kind.allCases, TestDatabase.backends)
    func redaction(_ kind: Kind, _ backend: Backend) async throws {
        try await Self.feed(kind, backend) { feed in
            let run = try await feed.run(database: { FailureModeTests.FailingDatabase($0, failAt: 3, message: Self.quotingWords) })
            #expect(run.report.error?.code == .database)
            #expect(run.report.error?.message.contains("13912345678") == true, "the run knows what happened")
            let shown =
                SyncReportFormat.text([run.report], database: run.configuration.database)
                + SyncReportFormat.json([run.report], database: run.configuration.database) + run.logs
            #expect(shown.contains("customers_pkey"), "\(shown)")
            let ledger = try feed.db.query("SELECT coalesce(error, ''), coalesce(notes, ''), source FROM oemsync_batches").flatMap { $0.map { $0 ?? "" } }
            for secret in Self.quoted {
                #expect(!shown.contains(secret), "report and logs: \(secret)")
                #expect(!ledger.joined(separator: "\n").contains(secret), "ledger: \(secret)")
            }
        }
    }

    @Test("a feed its window holds before it starts touches nothing: no request, no file claimed, no batch", arguments: Kind.allCases, TestDatabase.backends)
    func heldByWindow(_ kind: Kind, _ backend: Backend) async throws {
        try await Self.feed(kind, backend) { feed in
            let asked = Mutex(0)
            let control = RunControl(hold: { _ in
                asked.withLock { $0 += 1 }
                return RunControl.Hold(reason: "blackout 18:00-20:00", kind: .window)
            })
            let run = try await feed.run(control: control)
            #expect(run.report.held?.kind == .window && run.report.error == nil)
            #expect(asked.withLock { $0 } >= 1)
            #expect(await feed.taken() == 0)
            #expect(try feed.batchCount() == 0)
            #expect(try feed.rows().isEmpty)
            // Once the window opens, the same feed runs.
            let open = try await feed.run()
            #expect(open.report.held == nil && open.report.recordsIn > 0)
            #expect(await feed.taken() > 0)
        }
    }

    @Test("a spent daily quota parks the feed, checkpointed, and the next day it goes on to the same rows", arguments: Kind.quotaKinds, TestDatabase.backends)
    func parkedOnQuota(_ kind: Kind, _ backend: Backend) async throws {
        let expected = try await Self.reference(kind, backend)
        try await Self.feed(kind, backend, quota: 2) { feed in
            let parked = try await feed.run()
            #expect(parked.report.error == nil)
            #expect(parked.report.quotaSpent && parked.report.held?.kind == .source)
            #expect(await feed.taken() == 2)
            #expect(try feed.db.count("oemsync_checkpoints") == 1)
            // The same day, a new run sends nothing.
            let sameDay = try await feed.run()
            #expect(sameDay.report.quotaSpent && sameDay.report.recordsIn == 0)
            #expect(await feed.taken() == 2)

            var rows = try feed.rows()
            for _ in 0..<10 where rows != expected {
                feed.clock.advance(.seconds(24 * 3600))
                let next = try await feed.run()
                #expect(next.report.error == nil)
                rows = try feed.rows()
            }
            #expect(rows == expected)
        }
    }
}
