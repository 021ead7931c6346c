#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSimulator
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncTesting
import Testing

/// `oemsync doctor` against real databases, files, users and the OEM simulator.
@Suite("oemsync doctor (SQLite and PostgreSQL)")
struct DoctorTests {
    struct Line: Decodable {
        var check: String
        var status: String
        var message: String
        var fix: String?
    }

    struct Document: Decodable {
        var checks: [Line]
        var failed: Int
    }

    static func doctor(_ configPath: String, user: String? = nil, offline: Bool = false) throws -> (Int32, Document, String) {
        let json = LedgerCommand.capture { console in
            DoctorCommand.run(.init(configPath: configPath, user: user, json: true, offline: offline), console: console)
        }
        let text = LedgerCommand.capture { console in
            DoctorCommand.run(.init(configPath: configPath, user: user, json: false, offline: offline), console: console)
        }
        #expect(json.status == text.status)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return (json.status, try decoder.decode(Document.self, from: Data(json.out.utf8)), text.out)
    }

    @Test("a ready host: every check ok, the OEM's token endpoint asked for a token; then each fault fails its own check with its fix", arguments: TestDatabase.backends)
    func readyThenBroken(_ backend: TestDatabase.Backend) async throws {
        try await withSimulator { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let configPath = ws.configPath
            let (status, doc, text) = try await onThread { try Self.doctor(configPath) }
            for check in ["config", "database", "schema", "tables", "secret", "oem acme-api", "clock"] {
                #expect(doc.checks.contains { $0.check == check && $0.status == "ok" }, "\(check): \(text)")
            }
            let durability = try #require(doc.checks.first { $0.check == "durability" })
            if backend == .postgres {
                // The test server runs without fsync (its data is disposable): the doctor says so.
                #expect(durability.status == "fail" && durability.message.contains("fsync=off"), "\(text)")
                #expect(status == ExitStatus.failure && doc.failed == 1)
            } else {
                #expect(durability.status == "ok")
                #expect(status == ExitStatus.ok && doc.failed == 0, "\(text)")
            }
            #expect(await oem.tokensIssued() == 2, "one token per doctor run (JSON and text)")
            #expect(await oem.requests().filter { $0.path.hasPrefix("/api/") }.isEmpty, "no data request")

            // A wrong client secret: the OEM refuses the token.
            try ws.dir.write("secrets/acme-secret", "wrong\n")
            let (refused, refusedDoc, refusedText) = try await onThread { try Self.doctor(configPath) }
            #expect(refused == ExitStatus.failure)
            let oemLine = try #require(refusedDoc.checks.first { $0.check == "oem acme-api" })
            #expect(oemLine.status == "fail" && oemLine.message.contains("HTTP 401"), "\(refusedText)")
            #expect(!refusedText.contains("wrong"), "the secret is never printed")
        }
    }

    @Test("secrets, drops, the schema and the metrics address, judged for the service user")
    func serviceUser() throws {
        let ws = try Workspace(.sqlite, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        let listener = try ListeningSocket()
        // A fresh database: the schema check fails with its fix; the tables are not judged before it.
        let fresh = try TemporaryDirectory("doctor")
        let config = try fresh.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:\(fresh.file("db/dealer.db"))"}
            dictionary: \(Fixture.repository("Mappings/dictionary"))
            daemon: {metrics: "127.0.0.1:\(listener.port)"}
            credentials:
              acme: {auth: {kind: basic, user: d001, password_file: \(fresh.file("secret"))}}
            feeds:
              stock:
                mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                source: {kind: csv-drop, directory: \(ws.dir.file("drops/stock"))}
              orders:
                mapping: \(Fixture.repository("Mappings/acme/orders-api.v1.yaml"))
                source: {kind: rest, url: "https://oem.example/api", credentials: acme}
            """)
        try fresh.write("secret", "pw")
        chmod(fresh.file("secret"), 0o600)
        try FileManager.default.createDirectory(atPath: fresh.file("db"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: ws.dir.file("drops/stock"), withIntermediateDirectories: true)
        chmod(ws.dir.file("drops/stock"), 0o700)
        let (status, doc, text) = try Self.doctor(config, user: "nobody", offline: true)
        #expect(status == ExitStatus.failure)
        func line(_ check: String) -> Line? { doc.checks.first { $0.check == check } }
        #expect(line("schema")?.status == "fail" && line("schema")?.fix?.contains("oemsync db migrate") == true, "\(text)")
        #expect(line("tables") == nil)
        #expect(line("secret")?.status == "fail" && line("secret")?.message.contains("not readable by nobody") == true, "\(text)")
        #expect(line("drop stock")?.status == "fail" && line("drop stock")?.message.contains("not writable by nobody") == true, "\(text)")
        #expect(line("metrics")?.status == "fail" && line("metrics")?.message.contains("is in use") == true, "\(text)")
        #expect(line("durability")?.status == "fail", "the database folder is root's: \(text)")
        // As root every file is readable; only the schema and the port remain.
        let (_, rootDoc, rootText) = try Self.doctor(config, user: "root", offline: true)
        #expect(Set(rootDoc.checks.filter { $0.status == "fail" }.map(\.check)) == ["schema", "metrics"], "\(rootText)")
        withExtendedLifetime(listener) {}
    }

    @Test("a systemd credential is found where the unit loads it from: a path, a credential store, a drop-in; or said missing")
    func systemdCredentials() throws {
        let root = try TemporaryDirectory("root")
        #expect(DoctorCommand.credentialSource(unit: "oemsync.service", id: "db-password", root: root.path) == "no unit")
        try root.write(
            "lib/systemd/system/oemsync.service", "[Service]\nExecStart=/usr/bin/oemsync run\nLoadCredential=db-password:oemsync-db-password\n")
        #expect(DoctorCommand.credentialSource(unit: "oemsync.service", id: "db-password", root: root.path) == "missing /etc/credstore/oemsync-db-password")
        try root.write("etc/credstore/oemsync-db-password", "pw")
        #expect(DoctorCommand.credentialSource(unit: "oemsync.service", id: "db-password", root: root.path) == "file /etc/credstore/oemsync-db-password")
        #expect(DoctorCommand.credentialSource(unit: "oemsync.service", id: "acme-secret", root: root.path) == "not loaded")
        try root.write("etc/systemd/system/oemsync.service.d/secrets.conf", "[Service]\nLoadCredential=acme-secret:/etc/oemsync/secrets/acme\n")
        try root.write("etc/oemsync/secrets/acme", "s")
        #expect(DoctorCommand.credentialSource(unit: "oemsync.service", id: "acme-secret", root: root.path) == "file /etc/oemsync/secrets/acme")
    }
}
