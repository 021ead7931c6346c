import Foundation
import OEMSimulator
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncSinks
import Logging
import OEMSyncTesting
import Testing

/// The REST source end to end: the OEM simulator over real loopback HTTP, `oemsync sync` in-process,
/// a real SQLite or PostgreSQL dealer database. Every fault scenario must end with the same database
/// content as a run without faults (nothing lost, nothing twice), the waits the retry policy
/// prescribes (on a test clock), and a ledger that tells what happened.
@Suite("REST feeds end to end (SQLite and PostgreSQL)")
struct RESTPipelineTests {
    typealias Backend = TestDatabase.Backend

    /// What a run without faults leaves: the orders and the rejects.
    func reference(_ backend: Backend, data: SimulatorData? = nil, size: Int = 5) async throws -> (orders: [[String]], rejects: [[String]]) {
        try await withSimulator(data: data) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem, size: size)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            return (try ws.orders(), try ws.rejects())
        }
    }

    /// Every batch obeys records in = written + rejected (the table enforces it; this says so too).
    func expectConserved(_ ws: RESTWorkspace) throws {
        for b in try ws.batches() { #expect(b.recordsIn == b.written + b.rejected, "\(b)") }
    }

    @Test("a clean pull: every page one batch; rows, rejects with their JSON, checkpoint; the next pull drops the overlap", arguments: TestDatabase.backends)
    func clean(_ backend: Backend) async throws {
        try await withSimulator { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("orders  GET /api/v1/dealers/D001/orders  20       16       4         partial"), "\(run.out)")

            // D001 has 20 orders: 4 full pages of 5, then the empty page that ends the listing.
            let batches = try ws.batches()
            #expect(batches.map(\.position) == ["first page", "page 2", "page 3", "page 4", "page 5"])
            #expect(batches.map(\.recordsIn) == [5, 5, 5, 5, 0])
            #expect(batches.allSatisfy { $0.requests == 1 && $0.notes == nil })
            try expectConserved(ws)

            let orders = try ws.orders()
            #expect(orders.count == 16)
            let second = try #require(orders.first { $0[1] == "SO-00002" })
            // Exact decimal from the JSON number, E.164 phone, dealer status code, Shanghai time to UTC.
            #expect(second == [
                "D001", "SO-00002", "ACME-2025-000002", "∅", "ACME-A3-HATCH", "C-00002", "王芳", "+8613800138001", "2025-11-21", "∅",
                "PRODUCED", "199000.07", "CNY", "S-02", "2025-12-01T01:10:00Z",
            ])
            #expect(try ws.rejects() == [
                ["customer_phone", "phone.too_short", "SO-00023"], ["model_code", "lookup.missing", "SO-00015"],
                ["order_date", "type.date", "SO-00018"], ["total_price", "value.range", "SO-00026"],
            ])
            let checkpoint = try #require(try ws.checkpoint())
            #expect(checkpoint.pull == nil)
            #expect(checkpoint.hwm == .init(t: 1_764_568_200_000_000, id: "SO-00030"))  // 2025-12-01T05:50:00Z

            // The next pull asks for changes since the mark minus the 10-minute overlap and drops
            // what it has: nothing new, nothing written twice.
            let again = try await ws.sync()
            #expect(again.status == 0)
            let last = try #require(try ws.batches().last)
            #expect(last.recordsIn == 0)
            #expect(last.duplicates == 2)
            let requests = await oem.dataRequests()
            #expect(requests.last?.query["updatedSince"] == "2025-12-01 13:40:00")
            #expect(try ws.orders() == orders)
        }
    }

    @Test("bursts of 503 and 500 are retried with the policy's backoff and full jitter", arguments: TestDatabase.backends)
    func serverErrors(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [Fault(.status(503), count: 2, after: 1), Fault(.status(500), count: 1, after: 4)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync(random: 0.5)
            #expect(run.status == 0, "\(run.err)")
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
            // Page 2 failed twice (503, 503) and page 3 once (500): half of each ceiling (500 ms, 1 s; 500 ms).
            #expect(ws.clock.sleeps == [.milliseconds(250), .milliseconds(500), .milliseconds(250)])
            let batches = try ws.batches()
            #expect(batches.map(\.requests) == [1, 3, 2, 1, 1])
            #expect(batches[1].notes == "2 failed attempts: HTTP 503, waited 250ms; HTTP 503, waited 500ms")
            #expect(batches[2].notes == "1 failed attempt: HTTP 500, waited 250ms")
            try expectConserved(ws)
            #expect(run.out.contains("(3 retries)"))
        }
    }

    @Test("429 and 503 with Retry-After wait exactly what the OEM asks; one beyond max_retry_after parks the feed, checkpointed", arguments: TestDatabase.backends)
    func retryAfter(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [Fault(.status(429, retryAfter: "7"), after: 1), Fault(.status(503, retryAfter: "3600"), after: 3)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let first = try await ws.sync()
            // Page 2 waited its 7 s; page 3 was told to come back in an hour: the run ends there, not failed.
            #expect(first.status == 0, "\(first.err)")
            #expect(ws.clock.sleeps == [.seconds(7)])
            #expect(first.out.contains("parked"))
            #expect(first.out.contains("HTTP 503 with Retry-After 1h"))
            #expect(try ws.batches().count == 2)
            #expect(try ws.checkpoint()?.pull?.next == .page(3))
            let second = try await ws.sync()
            #expect(second.status == 0)
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
            try expectConserved(ws)
        }
    }

    @Test("an absurd Retry-After parks the feed like any long one, without a crash", arguments: TestDatabase.backends)
    func hugeRetryAfter(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.status(503, retryAfter: "10000000000000"))]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("parked"))
            #expect(ws.clock.sleeps.isEmpty)
        }
    }

    @Test("exhausted retries fail the page into the ledger with its request and response; the next run resumes at that page", arguments: TestDatabase.backends)
    func exhausted(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [Fault(.status(502), count: 5, after: 2)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let first = try await ws.sync()
            #expect(first.status == 1)
            #expect(first.err.contains("HTTP 502 after 5 attempts"))
            let batches = try ws.batches()
            #expect(batches.map(\.status) == ["ok", "partial", "failed"])
            #expect(batches[2].requests == 5)
            #expect(batches[2].error == "HTTP 502 after 5 attempts")
            #expect(batches[2].recordsIn == 0)
            // Kept: the failed page's response, and the partial page (it has rejects); not the ok one.
            let payload = try ws.db.query(
                "SELECT p.request, p.status, b.status FROM oemsync_payloads p JOIN oemsync_batches b ON b.id = p.batch_id ORDER BY b.id")
            #expect(payload.map { $0[2] } == ["partial", "failed"])
            #expect(payload.last?[0]?.hasSuffix("/api/v1/dealers/D001/orders?pageNo=3&pageSize=5") == true)
            #expect(payload.last?[1] == "502")
            #expect(try ws.db.count("oemsync_payloads", where: "body IS NOT NULL AND encoding = 'deflate'") == 2)
            // The checkpoint did not move past the failed page.
            #expect(try ws.checkpoint()?.pull?.next == .page(3))

            let second = try await ws.sync()
            #expect(second.status == 0, "\(second.err)")
            #expect(try ws.batches()[3].position == "page 3")
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
            try expectConserved(ws)
        }
    }

    @Test(
        "timeouts, connections closed without an answer or mid-body, invalid JSON: retried, nothing lost or twice",
        arguments: TestDatabase.backends)
    func transportFaults(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [
            Fault(.slow(seconds: 3), after: 0), Fault(.reset, count: 2, after: 2), Fault(.truncated, after: 5), Fault(.invalidJSON, after: 7),
        ]
        try await withSimulator(config: config) { oem in
            // The timeout is well below the 3 s fault and well above a loaded machine's answer; the spare
            // attempts keep a genuinely slow answer on a busy CI machine from exhausting the retries.
            let ws = try RESTWorkspace(
                backend, feeds: [RESTWorkspace.ordersV1(oem, extra: "timeout: 1s\nretry: {max_attempts: 8}")], oem: oem)
            let run = try await ws.sync(random: 0.5)
            #expect(run.status == 0, "\(run.err)")
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
            let notes = try ws.batches().compactMap(\.notes).joined(separator: "\n")
            #expect(notes.contains("timeout"))
            #expect(notes.contains("Empty reply from server"))
            #expect(notes.contains("transfer closed"))
            #expect(notes.contains("invalid JSON"))
            try expectConserved(ws)
        }
    }

    @Test("an error code in a 200 body: a retryable code is retried; any other fails the page, kept for replay", arguments: TestDatabase.backends)
    func bodyErrors(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [
            Fault(.bodyError(code: 50001), count: 2, after: 1), Fault(.maintenance, after: 4), Fault(.bodyError(code: 40100), after: 6),
        ]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let first = try await ws.sync()
            #expect(first.status == 1)
            let batches = try ws.batches()
            #expect(batches[1].notes?.contains("error code 50001 in the response body") == true)
            // A body without the API's error code (a gateway's notice, "data": null) is retried, never read
            // as an empty last page.
            #expect(batches[2].notes?.contains("the response body has no error code at $.code") == true)
            #expect(batches.last?.status == "failed")
            #expect(batches.last?.requests == 1)  // not retried
            #expect(batches.last?.error?.hasPrefix("error code 40100 in the response body: 系统繁忙") == true)
            let body = try ws.db.query(
                "SELECT p.status FROM oemsync_payloads p JOIN oemsync_batches b ON b.id = p.batch_id WHERE b.status = 'failed'")
            #expect(body == [["200"]])
            let second = try await ws.sync()
            #expect(second.status == 0, "\(second.err)")
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
        }
    }

    @Test("a token that expires mid-sync is refreshed once on 401; a token refused twice fails, without a loop", arguments: TestDatabase.backends)
    func tokenExpiry(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.tokenUses = 2
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            #expect(try ws.orders() == expected.orders)
            // 5 pages, 2 per token: 3 tokens, and a 401 before each new one.
            #expect(await oem.tokensIssued() == 3)
            #expect(await oem.requests().filter { $0.status == 401 }.count == 2)
            #expect(ws.clock.sleeps.isEmpty)  // a new token is fetched at once, no backoff
        }
        var revoked = SimulatorConfig()
        revoked.faults = [Fault(.unauthorized, count: 2)]
        try await withSimulator(config: revoked) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)
            #expect(run.err.contains("HTTP 401"))
            #expect(await oem.tokensIssued() == 2)
            #expect(await oem.dataRequests().count == 2)
        }
    }

    @Test("records updated while a pull pages by page number: the shifted pull is repeated, nothing is skipped", arguments: TestDatabase.backends)
    func updatedWhilePaging(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        // After page 1 is served, two of its orders change: every later page shifts two places.
        config.updateDuringPull = (afterRequests: 1, orderNos: ["SO-00002", "SO-00003"])
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            // What a clean pull of the OEM's data as it is now gives:
            let expected = try await reference(backend, data: await oem.data())
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
            let statuses = try ws.db.query("SELECT order_no, status FROM sales_orders WHERE order_no IN ('SO-00002', 'SO-00003') ORDER BY 1")
            #expect(statuses.map { $0[1] } == ["DELIVERED", "DELIVERED"])
            // The repeat drops what it already has.
            #expect(try ws.batches().reduce(0) { $0 + $1.duplicates } > 0)
            try expectConserved(ws)
        }
    }

    @Test("a daily quota stops the run at the limit, checkpointed and successful; the next day it resumes", arguments: TestDatabase.backends)
    func quota(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        try await withSimulator { oem in
            let credentials = """
                  acme-api:
                    auth: {kind: oauth2, token_url: \(oem.baseURL)/oauth/token, client_id: dealer-d001, client_secret_file: secrets/acme-secret}
                    daily_quota: 3
                    quota_timezone: Asia/Shanghai

                """
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], credentials: credentials, oem: oem)
            let first = try await ws.sync()
            #expect(first.status == 0, "\(first.err)")
            #expect(first.out.contains("parked"))
            #expect(first.out.contains("the daily request quota of these credentials is spent; it renews at 2025-12-01T16:00:00Z"))
            #expect(await oem.dataRequests().count == 3)
            #expect(try ws.checkpoint()?.pull?.next == .page(4))
            // A new process the same day knows the quota is spent from the ledger: it sends nothing.
            let sameDay = try await ws.sync()
            #expect(sameDay.status == 0)
            #expect(await oem.dataRequests().count == 3)
            ws.clock.advance(.seconds(8 * 3600))  // past midnight in Shanghai
            let nextDay = try await ws.sync()
            #expect(nextDay.status == 0, "\(nextDay.err)")
            #expect(await oem.dataRequests().count == 5)
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
        }
    }

    @Test("an OEM that keeps failing opens its circuit breaker: other feeds on that host send nothing", arguments: TestDatabase.backends)
    func circuitBreaker(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.status(503), count: 100)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(
                backend, feeds: [RESTWorkspace.ordersV1(oem, name: "a"), RESTWorkspace.ordersV1(oem, name: "b")], oem: oem)
            let services = try ws.services()
            let run = try await ws.sync(services: services)
            #expect(run.status == 1)
            // Threshold 5: feed a's five attempts open the breaker; feed b is refused without a request.
            #expect(await oem.dataRequests().count == 5)
            #expect(run.err.contains("circuit breaker for 127.0.0.1:\(oem.port) is open"))
            let b = try ws.db.query("SELECT feed, status, requests FROM oemsync_batches WHERE feed = 'b'")
            #expect(b.map { $0.compactMap { $0 } } == [["b", "failed", "0"]])
        }
    }

    @Test("on_failure: continue records the failed page for replay and goes on with the next one", arguments: TestDatabase.backends)
    func continueOnFailure(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.status(500), count: 2, after: 1)]
        try await withSimulator(config: config) { oem in
            let feed = RESTWorkspace.ordersV1(oem, extra: "on_failure: continue\nretry: {max_attempts: 2}")
            let ws = try RESTWorkspace(backend, feeds: [feed], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)  // a page needs attention
            let batches = try ws.batches()
            #expect(batches.map(\.status) == ["ok", "failed", "partial", "partial", "ok"])
            #expect(batches.map(\.position) == ["first page", "page 2", "page 3", "page 4", "page 5"])
            #expect(try ws.checkpoint()?.pull == nil)
            #expect(try ws.orders().count == 12)
            #expect(run.out.contains("1 failed page skipped, kept for replay"))
        }
    }

    @Test("on_failure: continue stops after three failed pages in a row (past the end of a listing, an OEM that answers nothing useful)", arguments: TestDatabase.backends)
    func continueStops(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.status(404), count: 1000)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem, extra: "on_failure: continue")], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)
            #expect(await oem.dataRequests().count == 3)
            #expect(try ws.batches().map(\.status) == ["failed", "failed", "failed"])
            #expect(run.err.contains("3 pages failed in a row, the pull stops"))
        }
    }

    @Test("redirects are not followed with the feed's credentials: the page fails at once", arguments: TestDatabase.backends)
    func redirect(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.redirect(to: "https://elsewhere.example/login"))]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)
            #expect(run.err.contains("HTTP 302 redirect to elsewhere.example, not followed"))
            #expect(await oem.dataRequests().count == 1)
        }
    }
}

@Suite("REST feeds after a database failure (SQLite and PostgreSQL)")
struct RESTResumeTests {
    @Test(
        "a commit that fails mid-pull stops the feed; the next run resumes at that page, every order once, the checkpoint never backwards",
        arguments: TestDatabase.backends)
    func resumeAfterDatabaseFailure(_ backend: TestDatabase.Backend) async throws {
        let expected = try await RESTPipelineTests().reference(backend)
        try await withSimulator { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let load = Project.load(configPath: ws.configPath, catalog: try ws.db.database.catalog(), catalogIsComplete: true)
            let project = try #require(load.project, "\(load.diagnostics)")
            let feed = try #require(project.configuration.feed(named: "orders"))
            let plan = try #require(project.plans["orders"])
            let services = try ws.services()
            let failing = FailureModeTests.FailingDatabase(ws.db.database, failAt: 3)
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let first = try await onThread {
                FeedRunner.run(feed, plan: plan, database: failing, services: services, logger: logger)
            }
            #expect(first.error?.code == .database)
            #expect(try ws.batches().count == 2)
            let mid = try #require(try ws.checkpoint())
            #expect(mid.pull?.next == .page(3))
            let second = try await onThread {
                FeedRunner.run(feed, plan: plan, database: ws.db.database, services: services, logger: logger)
            }
            #expect(second.error == nil)
            #expect(second.files.first?.resumedFrom == "page 3")
            #expect(try ws.orders() == expected.orders)
            #expect(try ws.rejects() == expected.rejects)
            // 20 orders, each in exactly one committed batch.
            let total = try ws.db.query("SELECT CAST(sum(records_in) AS TEXT) FROM oemsync_batches")
            #expect(total == [["20"]])
            let end = try #require(try ws.checkpoint())
            #expect(end.pull == nil)
            #expect(end.hwm! > (mid.hwm ?? .init(t: 0, id: "")))
        }
    }
}
