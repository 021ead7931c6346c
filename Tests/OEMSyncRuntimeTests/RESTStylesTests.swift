import Foundation
import OEMSimulator
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncTesting
import Testing

/// The other pagination styles and authentication kinds, TLS, what never reaches the logs, and
/// the rate limit as the OEM sees it: real HTTP to the simulator (or `openssl s_server`), real databases.
@Suite("REST pagination, auth, TLS, secrets and rate limits")
struct RESTStylesTests {
    typealias Backend = TestDatabase.Backend

    static let basicCredentials = """
          acme-api:
            auth: {kind: basic, user: d001, password_file: secrets/acme-password}

        """

    static func v2(_ oem: OEMSimulator, size: Int = 4) -> RESTWorkspace.Feed {
        RESTWorkspace.Feed(
            name: "orders", mapping: "Mappings/acme/orders-api.v2.yaml",
            source: """
                url: \(oem.baseURL)/api/v2/orders
                record_id: orderNo
                pagination: {style: cursor, param: cursor, path: $.next_cursor, size_param: limit, size: \(size)}
                incremental: {param: updated_after, field: updatedAt, format: iso8601, overlap: 1s}
                """)
    }

    @Test(
        "cursor paging with an exclusive change filter: records that share the last change time are never skipped",
        arguments: TestDatabase.backends)
    func cursorAndEqualTimes(_ backend: Backend) async throws {
        try await withSimulator { oem in
            let ws = try RESTWorkspace(backend, feeds: [Self.v2(oem)], credentials: Self.basicCredentials, oem: oem)
            try ws.dir.write("secrets/acme-password", "pw-d001\n")
            let first = try await ws.sync()
            #expect(first.status == 0, "\(first.err)")
            // Orders 10 to 13 share one change time and straddle the 4-record pages: none is lost.
            let all = try ws.orders().map { $0[1] } + (try ws.rejects().map { $0[2] })
            #expect(Set(all).count == 30)
            let mark = try #require(try ws.checkpoint()?.hwm)
            #expect(mark == .init(t: 1_764_568_200_000_000, id: "SO-00030"))

            // Late at the OEM: two orders committed with exactly the mark's change time, one ordered
            // before the mark's id and one after, and one later still. `updated_after` is exclusive, so
            // a cursor on the time alone would skip the first two.
            var data = await oem.data()
            let template = data.orders.last!
            var added: [SimOrder] = []
            for (no, time) in [("SO-00029A", "2025-12-01T05:50:00Z"), ("SO-00031", "2025-12-01T05:50:00Z"), ("SO-00032", "2025-12-01T06:00:00Z")] {
                var o = template
                o.orderNo = no
                o.updatedAt = time
                added.append(o)
            }
            data = SimulatorData(orders: data.orders + added, vehicles: data.vehicles)
            await oem.replaceData(data)
            let second = try await ws.sync()
            #expect(second.status == 0, "\(second.err)")
            #expect(await oem.dataRequests().last?.query["updated_after"] == "2025-12-01T05:49:59Z")
            let numbers = Set(try ws.orders().map { $0[1] })
            #expect(numbers.isSuperset(of: ["SO-00029A", "SO-00031", "SO-00032"]))
            let last = try #require(try ws.batches().last)
            #expect(last.recordsIn == 3)
            #expect(last.duplicates == 1)  // SO-00030 again
            #expect(try ws.checkpoint()?.hwm == .init(t: 1_764_568_800_000_000, id: "SO-00032"))
        }
    }

    @Test("next links from the body or from the Link header give what the cursor API gives", arguments: TestDatabase.backends)
    func nextLinks(_ backend: Backend) async throws {
        try await withSimulator { oem in
            let cursor = try RESTWorkspace(backend, feeds: [Self.v2(oem)], oem: oem)
            #expect(try await cursor.sync().status == 0)
            for pagination in ["{style: next_link, path: $.links.next, header: false, size_param: per_page, size: 7}", "{style: next_link, size_param: per_page, size: 7}"] {
                let feed = RESTWorkspace.Feed(
                    name: "orders", mapping: Fixture.path("mappings/rest/orders-v3.yaml"),
                    source: """
                        url: \(oem.baseURL)/api/v3/orders
                        record_id: orderNo
                        pagination: \(pagination)
                        """)
                let ws = try RESTWorkspace(backend, feeds: [feed], oem: oem)
                let run = try await ws.sync()
                #expect(run.status == 0, "\(run.err)")
                let positions = try ws.batches().map(\.position)
                #expect(positions[1].hasPrefix("next link ") && positions[1].hasSuffix("/api/v3/orders?page=2&per_page=7"), "\(positions)")
                #expect(try ws.batches().count == 5)  // 30 orders, 7 a page
                #expect(try ws.orders() == (try cursor.orders()))
                #expect(try ws.rejects() == (try cursor.rejects()))
            }
        }
    }

    @Test("offset paging, API keys in a header or the query: the key goes to the OEM and nowhere else", arguments: TestDatabase.backends)
    func offsetAndAPIKeys(_ backend: Backend) async throws {
        try await withSimulator { oem in
            for placement in ["header: X-Api-Key", "query_param: api_key"] {
                let credentials = """
                      acme-api:
                        auth: {kind: api_key, \(placement), key_file: secrets/acme-key}

                    """
                let feed = RESTWorkspace.Feed(
                    name: "vehicles", mapping: "Mappings/acme/vehicles-api.v1.yaml",
                    source: """
                        url: \(oem.baseURL)/api/v1/vehicles
                        record_id: vin
                        pagination: {style: offset, limit: 6}
                        """)
                let ws = try RESTWorkspace(backend, feeds: [feed], credentials: credentials, oem: oem)
                let run = try await ws.sync()
                #expect(run.status == 0, "\(run.err)")
                #expect(try ws.batches().map(\.position) == ["first page", "offset 6", "offset 12", "offset 18"])
                #expect(try ws.db.count("vehicles") == 18)
                #expect(try ws.rejects(key: "vin").map { $0[1] } == ["value.range", "vin.placeholder"])
                let plant = try ws.db.query("SELECT plant_code, model_code FROM vehicles WHERE vin = 'LSVAB2188S2300100'")
                #expect(plant.first?.compactMap { $0 } == ["2", "ACME-A3-SEDAN"])
                let ledger = try ws.db.query("SELECT source, coalesce(notes, ''), coalesce(error, '') FROM oemsync_batches").flatMap { $0.compactMap { $0 } }
                for text in ledger + [run.out, run.err, run.logs] { #expect(!text.contains("key-d001"), "\(text)") }
            }
        }
    }

    static let tlsPage = #"{"code":0,"msg":"success","data":{"list":[{"orderNo":"SO-1","dealerCode":"D001","modelCode":"A3S","customer":{"id":"C-1","name":"张伟","mobile":"13800138000"},"orderDate":"2025-12-01","status":"ORDERED","totalPrice":268000.00,"currency":"CNY","updateTime":"2025-12-01 10:15:00"}]}}"#

    @Test("over TLS with the OEM's private CA and a client certificate; without the CA the page fails at once", arguments: TestDatabase.backends)
    func tls(_ backend: Backend) async throws {
        let server = try TLSServer(files: ["orders.json": Self.tlsPage], requireClientCertificate: true)
        try await withSimulator { oem in
            let tls = "tls: {ca_file: \(server.caFile), client_certificate: \(server.clientCertificate), client_key: \(server.clientKey)}"
            let feeds = [
                RESTWorkspace.Feed(name: "trusted", mapping: "Mappings/acme/orders-api.v1.yaml", source: "url: \(server.url)/orders.json\n\(tls)", credentials: "none"),
                RESTWorkspace.Feed(name: "untrusted", mapping: "Mappings/acme/orders-api.v1.yaml", source: "url: \(server.url)/orders.json", credentials: "none"),
            ]
            let ws = try RESTWorkspace(backend, feeds: feeds, credentials: "  none:\n    auth: {kind: none}\n", oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)
            let rows = try ws.db.query("SELECT order_no, total_price FROM sales_orders")
            #expect(rows.count == 1)
            #expect(rows.first?[0] == "SO-1")
            let failed = try ws.db.query("SELECT feed, requests, error FROM oemsync_batches WHERE status = 'failed'")
            #expect(failed.count == 1)
            #expect(failed.first?[0] == "untrusted")
            #expect(failed.first?[1] == "1")  // a TLS failure is not retried
            #expect(failed.first?[2]?.contains("certificate") == true, "\(failed)")
        }
    }

    @Test("secrets and personal data never reach the report, the logs or the ledger's text, faults included", arguments: TestDatabase.backends)
    func nothingSecretInLogs(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.tokenUses = 1
        config.faults = [Fault(.status(503), after: 1), Fault(.bodyError(code: 40001), after: 6)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)
            #expect(await oem.tokensIssued() >= 3)
            let ledger = try ws.db.query(
                "SELECT source, source_ref, position_start, position_end, coalesce(notes, ''), coalesce(error, '') FROM oemsync_batches"
            ).flatMap { $0.compactMap { $0 } }
            let payloads = try ws.db.query("SELECT request FROM oemsync_payloads").flatMap { $0.compactMap { $0 } }
            let texts = ledger + payloads + [run.out, run.err, run.logs]
            for secret in ["s3cret-d001", "sim-1-", "sim-2-", "Bearer", "13800138", "8613800", "王芳", "张伟"] {
                for text in texts { #expect(!text.contains(secret), "'\(secret)' in: \(text.prefix(300))") }
            }
            #expect(run.logs.contains("msg=\"request retried\""))
            #expect(run.logs.contains("msg=\"batch failed\""))
        }
    }

    @Test("a rate limit shared by two feeds running at once: the OEM never sees more than it allows")
    func sharedRateLimit() async throws {
        var config = SimulatorConfig()
        config.rateLimit = (perSecond: 22, burst: 4)  // the OEM's own limit, a little above the feeds'
        try await withSimulator(config: config) { oem in
            let credentials = """
                  acme-api:
                    auth: {kind: oauth2, token_url: \(oem.baseURL)/oauth/token, client_id: dealer-d001, client_secret_file: secrets/acme-secret}
                    rate_limit: {per_second: 20, burst: 2}

                """
            let vehicles = RESTWorkspace.Feed(
                name: "vehicles", mapping: "Mappings/acme/vehicles-api.v1.yaml",
                source: "url: \(oem.baseURL)/api/v1/vehicles\npagination: {style: offset, limit: 2}")
            let a = try RESTWorkspace(.sqlite, feeds: [RESTWorkspace.ordersV1(oem, size: 1)], credentials: credentials, oem: oem)
            let b = try RESTWorkspace(.sqlite, feeds: [vehicles], credentials: credentials, oem: oem)
            // One process: the same services (so the same bucket) for both feeds, on the real clock.
            let loaded = ConfigurationLoader().load(path: a.configPath)
            let services = SourceServices(credentials: loaded.configuration!.credentials)
            async let runA = a.sync(services: services)
            async let runB = b.sync(services: services)
            let (ra, rb) = try await (runA, runB)
            #expect(ra.status == 0, "\(ra.err)")
            #expect(rb.status == 0, "\(rb.err)")
            let times = await oem.dataRequests().map(\.at).sorted()
            #expect(times.count == 21 + 11)
            #expect(await oem.rateLimitViolations() == 0)
            // In any half second: at most the burst plus half a second's worth (and one for timer slack).
            for (i, t) in times.enumerated() {
                let inWindow = times[i...].prefix { $0 < t + 0.5 }.count
                #expect(inWindow <= 2 + 10 + 1, "\(inWindow) requests in the 0.5 s after \(t)")
            }
            #expect(times.last! - times.first! >= Double(times.count - 2) / 20 - 0.1)
        }
    }
}
