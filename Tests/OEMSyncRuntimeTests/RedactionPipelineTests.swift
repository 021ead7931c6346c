import Foundation
import OEMSimulator
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncTesting
import Testing

/// An OEM error that quotes a customer and the request's key, followed everywhere oemsync stores or
/// shows it: the ledger, the sync report (text and JSON), the logs, `status`, `batches list` and
/// `batches show` (text and JSON). Only `batches show --show-values` prints the OEM's words.
@Suite("Free text from the OEM is masked wherever it is stored or shown (SQLite and PostgreSQL)")
struct RedactionPipelineTests {
    static let message = "客户 张伟 手机 13912345678 身份证 440301199001011234 邮箱 zhang.wei@example.cn /api/v3/orders?api_key=K3YSECRET"
    static let secrets = ["张伟", "13912345678", "440301199001011234", "zhang.wei", "K3YSECRET"]

    static func leaks(_ text: String) -> [String] { secrets.filter { text.contains($0) } }

    @Test("an OEM error quoting a customer and a key: the code and a masked message everywhere, the raw text only behind --show-values", arguments: TestDatabase.backends)
    func oemError(_ backend: TestDatabase.Backend) async throws {
        var config = SimulatorConfig()
        // Twice: the first run fails on it, and so does the run that resumes at that page.
        config.faults = [Fault(.bodyError(code: 5001, message: Self.message), count: 2, after: 1)]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            let run = try await ws.sync()
            #expect(run.status == ExitStatus.failure)
            #expect(Self.leaks(run.out + run.err + run.logs) == [], "report, errors and logs")
            #expect(run.err.contains("error code 5001 in the response body: 客户 张* 手机 139****5678 身份证 440****1234 邮箱 z***@example.cn"), "\(run.err)")

            let ledger = try ws.db.query("SELECT coalesce(error, ''), coalesce(notes, '') FROM oemsync_batches").flatMap { $0.map { $0 ?? "" } }
            #expect(Self.leaks(ledger.joined(separator: "\n")) == [], "the ledger's text")
            let failed = try #require(try ws.batches().first { $0.status == "failed" })
            #expect(failed.error?.contains("api_key=***") == true, "\(failed.error ?? "")")
            let failedID = try #require(Int64(try ws.db.query("SELECT CAST(min(id) AS TEXT) FROM oemsync_batches WHERE status = 'failed'").first?[0] ?? ""))

            let json = try await ws.sync(json: true)
            #expect(json.status == ExitStatus.failure)
            #expect(json.out.contains("5001") && Self.leaks(json.out + json.err + json.logs) == [], "sync --json: \(json.out)")
            for asJSON in [false, true] {
                let status = ws.command { StatusCommand.run(configPath: $0, json: asJSON, console: $1) }
                #expect(status.status == 0)
                #expect(Self.leaks(status.out + status.err) == [], "status json: \(asJSON)")
                let list = ws.command { BatchesCommand.list(.init(configPath: $0, json: asJSON), console: $1) }
                #expect(Self.leaks(list.out + list.err) == [], "batches list json: \(asJSON)")
                #expect(list.out.contains("5001"))
                let show = ws.command { BatchesCommand.show(configPath: $0, id: failedID, json: asJSON, showValues: false, console: $1) }
                #expect(Self.leaks(show.out + show.err) == [], "batches show json: \(asJSON)")
            }
            // The OEM's words are in the payload store, for the engineer who asks.
            let raw = ws.command { BatchesCommand.show(configPath: $0, id: failedID, json: false, showValues: true, console: $1) }
            #expect(raw.out.contains(Self.message), "\(raw.out)")
        }
    }
}
