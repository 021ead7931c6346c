import Foundation
import Logging
import OEMSimulator
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Testing

/// The SOAP source end to end: the simulator's STAR web service over real loopback HTTP (WS-Security
/// checked, a nonce used twice refused), `oemsync sync` in-process, a real SQLite or PostgreSQL
/// database. Every fault ends with the database of a run without faults, or with the page failed
/// in the ledger and nothing of it written; the ledger tells which, with the message ids.
/// One test at a time (and apart from the other suites, see scripts/test): timeouts are measured
/// against answers that also parse thousands of records.
@Suite("SOAP feeds end to end (SQLite and PostgreSQL)", .serialized)
struct SOAPPipelineTests {
    typealias Backend = TestDatabase.Backend

    static let vin = "star:Vehicle/star:VehicleID"
    static let confirm = "/s:Envelope/s:Body/star:ConfirmBOD/star:ConfirmBODDataArea/star:BOD/star:BODFailureMessage/star:ErrorProcessMessage"

    /// The inventory feed: continuation paging, `size` vehicles a message.
    static func inventory(_ oem: OEMSimulator, size: Int = 6, extra: String = "", version: String = "1.1") -> RESTWorkspace.Feed {
        RESTWorkspace.Feed(
            name: "inventory", mapping: "Mappings/acme/inventory-soap.v1.yaml",
            source: """
                url: \(oem.baseURL)/soap/star/inventory
                version: "\(version)"
                action: urn:acme:star:GetVehicleInventory
                namespaces: {s: "http://schemas.xmlsoap.org/soap/envelope/", p: "urn:acme:paging", star: "http://www.starstandard.org/STAR/5"}
                body: '<star:GetVehicleInventory xmlns:star="http://www.starstandard.org/STAR/5"><star:Continuation>{{continuation}}</star:Continuation><star:PageSize>{{page_size}}</star:PageSize></star:GetVehicleInventory>'
                pagination: {style: continuation, path: /s:Envelope/s:Header/p:Paging/p:Continuation, size: \(size)}
                application_error: {code: \(confirm)/star:ReasonCode, message: \(confirm)/star:Description, retryable: [BUSY]}
                \(extra)
                """,
            credentials: "acme-star", kind: "soap")
    }

    static func workspace(_ backend: Backend, _ feed: RESTWorkspace.Feed, oem: OEMSimulator, passwordType: String = "digest") throws -> RESTWorkspace {
        let ws = try RESTWorkspace(
            backend, feeds: [feed], credentials: "  acme-star:\n    auth: {kind: ws_security, user: D001, password_file: secrets/star-pw, password_type: \(passwordType)}\n",
            oem: oem)
        try ws.dir.write("secrets/star-pw", "star-pw-d001\n")
        return ws
    }

    static let stockColumns: [(String, ColumnType)] = [
        ("dealer_code", .string), ("vin", .string), ("stock_no", .string), ("model_code", .string), ("ext_color_code", .string), ("location", .string),
    ]

    static func stock(_ ws: RESTWorkspace) throws -> [[String]] { try ws.db.dump("stock", stockColumns, orderBy: "vin") }

    /// What a run without faults leaves, in one message.
    func reference(_ backend: Backend) async throws -> (stock: [[String]], rejects: [[String]]) {
        try await withSimulator { oem in
            let ws = try Self.workspace(backend, Self.inventory(oem, size: 100), oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            return (try Self.stock(ws), try ws.rejects(key: Self.vin))
        }
    }

    func expectConserved(_ ws: RESTWorkspace) throws {
        for b in try ws.batches() { #expect(b.recordsIn == b.written + b.rejected, "\(b)") }
    }

    func messageIDs(_ ws: RESTWorkspace) throws -> [String?] {
        try ws.db.query("SELECT message_id FROM oemsync_batches ORDER BY id").map { $0[0] ?? nil }
    }

    func checkpoint(_ ws: RESTWorkspace) throws -> SOAPCheckpoint? {
        guard let text = try ws.db.query("SELECT position FROM oemsync_checkpoints WHERE feed = 'inventory'").first?[0] ?? nil else { return nil }
        return try SOAPCheckpoint.parse(text)
    }

    @Test("a clean pull: one batch per message with its BODID, digest and text passwords; a second pull skips the messages it has", arguments: TestDatabase.backends)
    func clean(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        // The ACME sample: 20 vehicles, one with a wrong check digit and one of a model the dictionary lacks.
        #expect(expected.stock.count + expected.rejects.count == 20)
        #expect(expected.rejects.count >= 1, "\(expected.rejects)")
        for passwordType in ["digest", "text"] {
            try await withSimulator { oem in
                let ws = try Self.workspace(backend, Self.inventory(oem), oem: oem, passwordType: passwordType)
                let run = try await ws.sync()
                #expect(run.status == 0, "\(run.err)")
                #expect(run.out.contains("inventory  POST /soap/star/inventory  20"), "\(run.out)")
                #expect(try Self.stock(ws) == expected.stock)
                #expect(try ws.rejects(key: Self.vin) == expected.rejects)
                let batches = try ws.batches()
                #expect(batches.map(\.recordsIn) == [6, 6, 6, 2])
                #expect(batches.map(\.position) == ["first page", "continuation c-6", "continuation c-12", "continuation c-18"])
                #expect(batches.allSatisfy { $0.requests == 1 && $0.status != "failed" })
                let ids = try messageIDs(ws)
                #expect(ids.allSatisfy { $0?.count == 36 }, "\(ids)")
                #expect(Set(ids).count == 4)
                try expectConserved(ws)
                let end = try #require(try checkpoint(ws))
                #expect(end.lastPull != nil && !end.inPull)
                // Every request carried a UsernameToken the OEM accepted (a reused nonce would be a Fault).
                #expect(await oem.dataRequests().map(\.status) == [200, 200, 200, 200])

                // The same data again: the same messages, skipped by their BODID.
                let second = try await ws.sync()
                #expect(second.status == 0, "\(second.err)")
                let again = try ws.batches().dropFirst(4)
                #expect(again.map(\.recordsIn) == [0, 0, 0, 0])
                #expect(again.map(\.duplicates) == [6, 6, 6, 2])
                #expect(again.allSatisfy { $0.notes?.contains("was committed before") == true })
                #expect(try Self.stock(ws) == expected.stock)
            }
        }
    }

    @Test("server Faults, cut XML, a cut connection, a slow answer and 503: retried, nothing lost or twice", arguments: TestDatabase.backends)
    func retried(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [
            Fault(.soapFault(client: false), count: 2, after: 0), Fault(.cutXML, after: 3), Fault(.truncated, after: 4),
            Fault(.slow(seconds: 5), after: 5), Fault(.status(503), after: 6), Fault(.applicationError(code: "BUSY"), after: 7),
        ]
        try await withSimulator(config: config) { oem in
            // The timeout is half the slow answer's delay and well above a loaded machine's answer time, so
            // the cut connection is a cut connection and not a timeout.
            let ws = try Self.workspace(backend, Self.inventory(oem, extra: "timeout: 2500ms\nretry: {max_attempts: 8}"), oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            #expect(try Self.stock(ws) == expected.stock)
            #expect(try ws.rejects(key: Self.vin) == expected.rejects)
            let batches = try ws.batches()
            #expect(batches.map(\.recordsIn) == [6, 6, 6, 2])
            let notes = batches.compactMap(\.notes).joined(separator: "\n")
            for expected in ["SOAP Fault S:Server: the inventory backend is busy", "truncated XML", "timeout", "application error BUSY in the answer: 库存服务暂不可用", "HTTP 503"] {
                #expect(notes.contains(expected), "\(expected) in \(notes)")
            }
            #expect(notes.contains("transfer closed") || notes.contains("end of response"), "\(notes)")
            try expectConserved(ws)
        }
    }

    @Test(
        "a client Fault, another namespace, a non-retryable application error, a DTD with an external entity: the page fails at once, kept in the ledger; the next run asks again",
        arguments: TestDatabase.backends)
    func permanent(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        let cases: [(Fault.Kind, String)] = [
            (.soapFault(client: true), "SOAP Fault S:Client: dealer D001 is not entitled to this operation (simulated) (the request is at fault: not retried)"),
            (.wrongNamespace, "the SOAP Body holds {http://www.starstandard.org/STAR/4}ShowVehicleInventory, but the mapping's records path reads {http://www.starstandard.org/STAR/5}ShowVehicleInventory"),
            (.applicationError(code: "E404"), "application error E404 in the answer: 库存服务暂不可用 (simulated)"),
            (.doctype, "refused: line 2: the XML payload declares a document type (<!DOCTYPE…); DTDs and entity declarations are refused (XXE, entity expansion)"),
        ]
        for (kind, message) in cases {
            var config = SimulatorConfig()
            config.faults = [Fault(kind, after: 1)]
            try await withSimulator(config: config) { oem in
                let ws = try Self.workspace(backend, Self.inventory(oem), oem: oem)
                let first = try await ws.sync()
                #expect(first.status == 1)
                #expect(first.err.contains(message), "\(first.err)")
                let batches = try ws.batches()
                #expect(batches.map(\.status) == ["ok", "failed"] || batches.map(\.status) == ["partial", "failed"], "\(batches)")
                #expect(batches[1].requests == 1)
                #expect(batches[1].error == message)
                #expect(batches[1].position == "continuation c-6")
                // The answer is kept for the engineer; the checkpoint still names the failed page.
                let payload = try ws.db.query("SELECT p.status, p.body FROM oemsync_payloads p JOIN oemsync_batches b ON b.id = p.batch_id WHERE b.status = 'failed'")
                #expect(payload.count == 1)
                #expect(try checkpoint(ws)?.continuation == "c-6")
                #expect(try Self.stock(ws).count == 6 - batches[0].rejected)

                let second = try await ws.sync()
                #expect(second.status == 0, "\(second.err)")
                #expect(try ws.batches()[2].position == "continuation c-6")
                #expect(try Self.stock(ws) == expected.stock)
                #expect(try ws.rejects(key: Self.vin) == expected.rejects)
                try expectConserved(ws)
            }
        }
    }

    @Test("page-number paging: {{page}} counts up, a short page ends the listing; the WSDL names the operation and the address", arguments: TestDatabase.backends)
    func pageNumbers(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        try await withSimulator { oem in
            let feed = RESTWorkspace.Feed(
                name: "inventory", mapping: "Mappings/acme/inventory-soap.v1.yaml",
                source: """
                    url: \(oem.baseURL)/soap/star/inventory
                    action: urn:acme:star:GetVehicleInventory
                    body: '<GetVehicleInventory xmlns="http://www.starstandard.org/STAR/5"><PageNumber>{{page}}</PageNumber><PageSize>{{page_size}}</PageSize></GetVehicleInventory>'
                    pagination: {style: page, size: 8}
                    """,
                credentials: "acme-star", kind: "soap")
            let ws = try Self.workspace(backend, feed, oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            let batches = try ws.batches()
            #expect(batches.map(\.position) == ["first page", "page 2", "page 3"])
            #expect(batches.map(\.recordsIn) == [8, 8, 4])
            #expect(try Self.stock(ws) == expected.stock)
            #expect(try checkpoint(ws)?.inPull == false)

            let wsdl = try CurlTransport().send(HTTPRequest(url: oem.baseURL + "/soap/star/inventory?wsdl"))
            let text = String(decoding: wsdl.body, as: UTF8.self)
            #expect(wsdl.status == 200)
            #expect(text.contains("<soap:operation soapAction=\"urn:acme:star:GetVehicleInventory\"/>"))
            #expect(text.contains("<soap:address location=\"\(oem.baseURL)/soap/star/inventory\"/>"))
            #expect(text.contains("<soap12:binding"))
        }
    }

    @Test("an incremental pull sends {{since}}: the next pull asks from the last one's start minus the overlap", arguments: TestDatabase.backends)
    func incremental(_ backend: Backend) async throws {
        try await withSimulator { oem in
            let feed = RESTWorkspace.Feed(
                name: "inventory", mapping: "Mappings/acme/inventory-soap.v1.yaml",
                source: """
                    url: \(oem.baseURL)/soap/star/inventory
                    action: urn:acme:star:GetVehicleInventory
                    body: '<GetVehicleInventory xmlns="http://www.starstandard.org/STAR/5"><ModifiedSince>{{since}}</ModifiedSince><PageNumber>{{page}}</PageNumber><PageSize>{{page_size}}</PageSize></GetVehicleInventory>'
                    pagination: {style: page, size: 100}
                    incremental: {format: iso8601, overlap: 10m}
                    """,
                credentials: "acme-star", kind: "soap")
            let ws = try Self.workspace(backend, feed, oem: oem)
            let first = try await ws.sync()
            #expect(first.status == 0, "\(first.err)")
            #expect(try ws.batches().map(\.recordsIn) == [20])
            let done = try #require(try checkpoint(ws))
            // The test clock's now, 2025-12-01T08:00:00Z, is when the first pull started.
            #expect(done.lastPull == 1_764_576_000_000_000)
            // The next pull asks from 07:50: the 13 vehicles changed at 08:00 and later.
            let second = try await ws.sync()
            #expect(second.status == 0, "\(second.err)")
            #expect(try ws.batches().map(\.recordsIn) == [20, 13])
            #expect(try ws.batches()[1].duplicates == 0)
        }
    }

    @Test("a SOAP batch's rejects are replayed from the fields they were read with", arguments: TestDatabase.backends)
    func replay(_ backend: Backend) async throws {
        try await withSimulator { oem in
            let ws = try Self.workspace(backend, Self.inventory(oem, size: 100), oem: oem)
            #expect(try await ws.sync().status == 0)
            let rejects = try ws.rejects(key: Self.vin)
            #expect(rejects.contains(["vin", "vin.placeholder", "11111111111111111"]), "\(rejects)")
            let stored = try ws.db.query("SELECT p.content_type FROM oemsync_payloads p JOIN oemsync_batches b ON b.id = p.batch_id WHERE b.status = 'partial'")
            #expect(stored == [["application/vnd.oemsync.xml-fields+json"]])
            // Mapped again from the stored fields, with the mapping and dictionary of now: the placeholder
            // VIN is still refused, and the ledger says so (a stored answer could not be replayed at all).
            let partial = try #require(try ws.db.query("SELECT id FROM oemsync_batches WHERE status = 'partial'").first?[0] ?? nil)
            let run = try await onThread {
                ws.command { ReplayCommand.run(.init(configPath: $0, selection: .batches([Int64(partial)!]), dryRun: false), console: $1) }
            }
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("1 record: 0 written (0 inserted, 0 updated, 0 unchanged), 1 rejected (vin.placeholder 1)"), "\(run.out)")
            #expect(run.out.contains("open rejects: 1 resolved, 1 of them rejected again"), "\(run.out)")
            let replayed = try ws.db.query("SELECT records_in, rejected FROM oemsync_batches WHERE replay_of = \(partial)")
            #expect(replayed == [["1", "1"]])
            // The reject of the replay keeps the record's fields by path.
            #expect(try ws.rejects(key: Self.vin).filter { $0[1] == "vin.placeholder" }.count == 2)
            #expect((try? ws.db.ledgerViolations()) == [])
        }
    }

    @Test("a message sent again with its BODID is skipped; the pull goes on from its continuation", arguments: TestDatabase.backends)
    func resent(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        var config = SimulatorConfig()
        config.faults = [Fault(.resend, after: 2)]
        try await withSimulator(config: config) { oem in
            let ws = try Self.workspace(backend, Self.inventory(oem), oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            let batches = try ws.batches()
            #expect(batches.map(\.recordsIn) == [6, 6, 0, 6, 2])
            #expect(batches.map(\.duplicates) == [0, 0, 6, 0, 0])
            #expect(batches[2].notes?.contains("was committed before: its 6 records skipped") == true, "\(batches[2])")
            let ids = try messageIDs(ws)
            #expect(ids[2] == ids[1])
            #expect(try Self.stock(ws) == expected.stock)
            try expectConserved(ws)
        }
    }

    @Test("a large answer is spooled and read in batches, one message id; one over max_response_bytes fails without retries", arguments: TestDatabase.backends)
    func large(_ backend: Backend) async throws {
        let data = SimulatorData.generated(orders: 0, vehicles: 12_000)
        var config = SimulatorConfig()
        config.maxPageSize = 100_000
        try await withSimulator(data: data, config: config) { oem in
            let ws = try Self.workspace(backend, Self.inventory(oem, size: 20_000, extra: "batch_rows: 2500\nspool_directory: spool"), oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            let batches = try ws.batches()
            #expect(batches.map(\.recordsIn) == [2500, 2500, 2500, 2500, 2000])
            #expect(batches.map(\.position).last == "first page, records 10001-12000 of 12000")
            #expect(Set(try messageIDs(ws)).count == 1)
            #expect(try ws.db.count("stock") + ws.db.count("oemsync_rejects") == 12_000)
            try expectConserved(ws)
            // The answer went through the spool directory, and nothing is left in it.
            let spool = ws.dir.path + "/spool"
            #expect(FileManager.default.fileExists(atPath: spool))
            #expect(try FileManager.default.contentsOfDirectory(atPath: spool) == [])
        }
        try await withSimulator(data: data, config: config) { oem in
            let ws = try Self.workspace(backend, Self.inventory(oem, size: 20_000, extra: "max_response_bytes: 1048576"), oem: oem)
            let run = try await ws.sync()
            #expect(run.status == 1)
            #expect(run.err.contains("the response is larger than max_response_bytes (1048576 bytes)"), "\(run.err)")
            #expect(try ws.batches().map(\.requests) == [1])
        }
    }

    @Test("a commit that fails inside a message: the next run asks for it again and skips the records committed under its BODID", arguments: TestDatabase.backends)
    func resumeInsideMessage(_ backend: Backend) async throws {
        let expected = try await reference(backend)
        try await withSimulator { oem in
            let ws = try Self.workspace(backend, Self.inventory(oem, size: 100, extra: "batch_rows: 5"), oem: oem)
            let load = Project.load(configPath: ws.configPath, catalog: try ws.db.database.catalog(), catalogIsComplete: true)
            let project = try #require(load.project, "\(load.diagnostics)")
            let feed = try #require(project.configuration.feed(named: "inventory"))
            let plan = try #require(project.plans["inventory"])
            let services = try ws.services()
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let failing = FailureModeTests.FailingDatabase(ws.db.database, failAt: 3)
            let first = try await onThread {
                FeedRunner.run(feed, plan: plan, database: failing, services: services, logger: logger)
            }
            #expect(first.error?.code == .database)
            #expect(try ws.batches().map(\.recordsIn) == [5, 5])
            let mid = try #require(try checkpoint(ws))
            #expect(mid.message?.done == 10)
            let id = try #require(mid.message?.id)

            let second = try await onThread {
                FeedRunner.run(feed, plan: plan, database: ws.db.database, services: services, logger: logger)
            }
            #expect(second.error == nil, "\(String(describing: second.error))")
            let batches = try ws.batches()
            #expect(batches.map(\.recordsIn) == [5, 5, 5, 5])
            #expect(batches[2].duplicates == 10)
            #expect(batches[2].notes?.contains("the first 10 records of message \(id) were committed by an earlier run") == true)
            #expect(try messageIDs(ws) == [id, id, id, id])
            #expect(try Self.stock(ws) == expected.stock)
            #expect(try ws.rejects(key: Self.vin) == expected.rejects)
            #expect(try checkpoint(ws)?.inPull == false)
        }
    }

    @Test("the spool files a killed pull left behind (whole OEM answers) are removed at the next run; a live process's and another feed's stay")
    func leftoverSpools() async throws {
        try await withSimulator { oem in
            let ws = try Self.workspace(.sqlite, Self.inventory(oem, extra: "spool_directory: spool"), oem: oem)
            // A process that ran and is gone, as a SIGKILL leaves one.
            let gone = try ChildProcess("/bin/true", [], environment: [:], log: ws.dir.file("true.log"))
            #expect(gone.wait() == 0)
            let left = try ws.dir.write("spool/oemsync-inventory-\(gone.pid)-0a1b2c3d.xml", "<answer>customer data</answer>")
            let live = try ws.dir.write("spool/oemsync-inventory-1-0a1b2c3d.xml", "<answer/>")
            let other = try ws.dir.write("spool/oemsync-inventory-2-\(gone.pid)-0a1b2c3d.xml", "<answer/>")
            let run = try await ws.sync()
            #expect(run.status == 0, "\(run.err)")
            #expect(!FileManager.default.fileExists(atPath: left), "the dead pull's answer is gone")
            #expect(FileManager.default.fileExists(atPath: live), "a live process's spool stays")
            #expect(FileManager.default.fileExists(atPath: other), "feed inventory-2's spool is not inventory's")
            #expect(ws.dir.list("spool").count == 2, "the run removed its own: \(ws.dir.list("spool"))")
        }
    }

    @Test("SOAP 1.2: the action in the content type, Sender faults with HTTP 400 not retried", arguments: [TestDatabase.Backend.sqlite])
    func soap12(_ backend: Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.soapFault(client: false), after: 0), Fault(.soapFault(client: true), after: 3)]
        try await withSimulator(config: config) { oem in
            let feed = Self.inventory(oem, extra: "", version: "1.2")
            let ws = try Self.workspace(backend, feed, oem: oem)
            // The mapping reads SOAP 1.1: a 1.2 mapping binds s: to the 1.2 namespace.
            let mapping = try String(contentsOfFile: Fixture.repository("Mappings/acme/inventory-soap.v1.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "http://schemas.xmlsoap.org/soap/envelope/", with: "http://www.w3.org/2003/05/soap-envelope")
            let mappingPath = try ws.dir.write("inventory-12.yaml", mapping)
            let config = try String(contentsOfFile: ws.configPath, encoding: .utf8)
                .replacingOccurrences(of: Fixture.repository("Mappings/acme/inventory-soap.v1.yaml"), with: mappingPath)
                .replacingOccurrences(of: "s: \"http://schemas.xmlsoap.org/soap/envelope/\"", with: "s: \"http://www.w3.org/2003/05/soap-envelope\"")
            try config.write(toFile: ws.configPath, atomically: true, encoding: .utf8)
            let run = try await ws.sync()
            #expect(run.status == 1)
            #expect(run.err.contains("SOAP Fault S:Sender"), "\(run.err)")
            let batches = try ws.batches()
            #expect(batches.map(\.status).last == "failed")
            #expect(batches.first?.notes?.contains("SOAP Fault S:Receiver") == true, "\(batches)")
            #expect(batches.last?.requests == 1)
            #expect(await oem.dataRequests().map(\.status) == [500, 200, 200, 400])
        }
    }
}

@Suite("Configuration of SOAP feeds")
struct SOAPConfigurationTests {
    func load(_ source: String) throws -> ConfigurationLoader.Result {
        let dir = try TemporaryDirectory("config")
        let path = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            credentials:
              star: {auth: {kind: ws_security, user: D001, password_file: secrets/star}}
            feeds:
              inventory:
                mapping: m.yaml
                source:
            \(source)
            """)
        return ConfigurationLoader().load(path: path)
    }

    @Test("a complete SOAP feed: version, action, template, namespaces, paging, message id, application errors, HTTP settings")
    func complete() throws {
        let result = try load(
            """
                  kind: soap
                  url: https://b2b.acme.example/star/inventory
                  credentials: star
                  version: "1.2"
                  action: urn:acme:star:GetVehicleInventory
                  namespaces: {s: "http://www.w3.org/2003/05/soap-envelope", star: "http://www.starstandard.org/STAR/5"}
                  body: '<star:Get><star:Page>{{page}}</star:Page><star:Size>{{page_size}}</star:Size><star:Since>{{since}}</star:Since></star:Get>'
                  pagination: {style: page, first: 0, size: 200}
                  incremental: {format: iso8601, overlap: 10m}
                  message_id: /s:Envelope/s:Body/star:Show/star:ApplicationArea/star:BODID
                  application_error: {code: /s:Envelope/s:Body/star:ConfirmBOD/star:Code, success: [OK], retryable: [BUSY, "503"]}
                  retry: {max_attempts: 3}
                  timeout: 2m
                  batch_rows: 500
            """)
        #expect(result.diagnostics == [], "\(result.diagnostics)")
        let soap = try #require(result.configuration?.feeds.first?.source as? SOAPFeedSettings)
        #expect(soap.source.version == .v12)
        #expect(soap.source.pagination == .page(first: 0, size: 200))
        #expect(soap.source.body.placeholders == ["page", "page_size", "since"])
        #expect(soap.source.messageID?.steps.last == XMLName("http://www.starstandard.org/STAR/5", "BODID"))
        #expect(soap.source.applicationError?.retryable == ["BUSY", "503"])
        #expect(soap.source.batchRecords == 500)
        #expect(soap.retry.maxAttempts == 3)
        #expect(soap.transport.timeout == .seconds(120))
        #expect(soap.transport.maxResponseBytes == 2 << 30)
        guard case .wsSecurity(let user, .file(let file), let digest)? = result.configuration?.credentials["star"]?.auth else {
            Issue.record("ws_security credentials expected: \(String(describing: result.configuration?.credentials["star"]?.auth))")
            return
        }
        #expect(user == "D001" && digest && file.hasSuffix("/secrets/star"))
    }

    @Test("mistakes in SOAP feeds are reported where they are")
    func diagnostics() throws {
        let result = try load(
            """
                  kind: soap
                  url: https://b2b.acme.example/star/inventory
                  credentials: star
                  version: "1.3"
                  action: urn:acme:star:GetVehicleInventory
                  namespaces: {s: "http://schemas.xmlsoap.org/soap/envelope/"}
                  body: '<Get><Size>{{page_size}}</Size><Since>{{since}}</Since></Get>'
                  pagination: {style: continuation, path: /s:Envelope/s:Header/p:Paging/p:Continuation}
                  message_id: star:BODID
                  application_error: {message: /s:Envelope/s:Body/x}
                  record_id: orderNo
            """)
        #expect(result.configuration == nil)
        let found = result.diagnostics.map { "\($0.location.map { "\($0.line):\($0.column)" } ?? "-") \($0.code) \($0.message)" }
        #expect(found == [
            "19:7 C101 unknown key 'record_id' in the soap source of feed 'inventory'",
            "12:16 C104 invalid SOAP version '1.3'",
            "16:47 C104 invalid XML path '/s:Envelope/s:Header/p:Paging/p:Continuation' in the continuation path: unknown namespace prefix 'p' in XML path '/s:Envelope/s:Header/p:Paging/p:Continuation'; bound: s",
            "15:13 C104 the body never sends {{continuation}}, which the pagination needs",
            "15:13 C104 the body uses {{since}}, but the feed has no incremental:",
            "17:19 C104 invalid XML path 'star:BODID' in message_id: unknown namespace prefix 'star' in XML path 'star:BODID'; bound: s",
            "18:26 C102 missing required key 'code' in application_error",
        ], "\(found)")
    }
}
