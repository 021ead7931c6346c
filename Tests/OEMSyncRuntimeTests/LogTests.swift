import Foundation
import Logging
import OEMSimulator
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncTesting
import Synchronization
import Testing

/// What reaches the journal: constant messages, data in metadata, no secret and no personal datum.
@Suite("logs")
struct LogTests {
    @Test("free text in errors and reasons has its phones, ID numbers and e-mail addresses masked")
    func scrub() {
        let cases = [
            ("duplicate key (phone)=(13800138000) in row 4", "duplicate key (phone)=(138****8000) in row 4"),
            ("id 11010519491231002X refused", "id 110****1002X refused"),
            ("mail zhang.wei@example.cn bounced", "mail z***@example.cn bounced"),
            ("call +8613800138000 now", "call +861****8000 now"),
            // Short numbers keep two digits at each end; groups joined by spaces, hyphens, brackets are one number.
            ("landline 6552888 refused", "landline 65****88 refused"),
            ("US 555-123-4567 invalid", "US 55****67 invalid"),
            ("DE +49 171 2345678.", "DE +491****5678."),
            ("CN (010) 6552-8888 x", "CN 010****8888 x"),
            // Counts, statuses, ports, addresses, dates and times stay.
            ("HTTP 503 after 5 attempts on 127.0.0.1 port 36487, 2026-12-01T10:49:31Z", "HTTP 503 after 5 attempts on 127.0.0.1 port 36487, 2026-12-01T10:49:31Z"),
            ("renews at 2026-12-01 16:00, batch 1234", "renews at 2026-12-01 16:00, batch 1234"),
        ]
        for (raw, masked) in cases { #expect(LogScrub.text(raw) == masked, "\(raw)") }
        #expect(LogScrub.value("13800138000", key: LogKey.records) == "13800138000")  // a count is not free text
    }

    @Test("JSON lines: one object per event, escaped, metadata sorted")
    func json() {
        let lines = Mutex("")
        let handler = JSONLogHandler(label: "t", level: .info, stream: { l in lines.withLock { $0 += l } })
        var logger = Logger(label: "t") { _ in handler }
        logger[metadataKey: LogKey.feed] = "acme \"stock\""
        logger.info("run finished", metadata: [LogKey.error: "line1\nline2 13800138000"])
        let text = lines.withLock { $0 }
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(object?["msg"] == "run finished")
        #expect(object?["level"] == "info")
        #expect(object?[LogKey.feed] == "acme \"stock\"")
        #expect(object?[LogKey.error] == "line1\nline2 138****8000")
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
    }

    @Test("a full sync through faults logs neither secrets nor the customers' names and phones, in either format", arguments: TestDatabase.backends)
    func noSecretsNorPersonalData(_ backend: TestDatabase.Backend) async throws {
        var config = SimulatorConfig()
        config.faults = [
            Fault(.status(503), count: 2, after: 1), Fault(.unauthorized, after: 3), Fault(.reset, after: 5), Fault(.bodyError(code: 40100), after: 7),
        ]
        try await withSimulator(config: config) { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem, extra: "on_failure: continue")], oem: oem)
            let configPath = ws.configPath
            let clock = ws.clock
            let logs = try await onThread { () -> String in
                let captured = Mutex("")
                let logger = Logger(label: "test") { label in
                    MultiplexLogHandler([
                        LogfmtLogHandler(label: label, level: .trace, stream: { l in captured.withLock { $0 += l } }),
                        JSONLogHandler(label: label, level: .trace, stream: { l in captured.withLock { $0 += l } }),
                    ])
                }
                let loaded = ConfigurationLoader().load(path: configPath)
                let services = SourceServices(credentials: loaded.configuration?.credentials ?? [:], clock: clock, random: { 0.5 })
                let console = Console(out: { _ in }, err: { s in captured.withLock { $0 += s } })
                _ = SyncCommand.run(.init(configPath: configPath, feeds: [], all: true), logger: logger, console: console, services: services)
                return captured.withLock { $0 }
            }
            // The run went through its faults: retries, a refreshed token, a failed page, rejects.
            #expect(logs.contains("request retried"))
            #expect(logs.contains("batch failed"))
            #expect(try ws.db.count("oemsync_rejects") > 0)
            #expect(await oem.tokensIssued() >= 2)
            for secret in ["s3cret-d001", "sim-1-", "sim-2-", "Bearer"] {
                #expect(!logs.contains(secret), "a secret in the logs: \(secret)")
            }
            let data = await oem.data()
            for order in data.orders {
                #expect(!logs.contains(order.customer.name), "a customer's name in the logs")
                // Not the number, nor the eight digits after its first three.
                if let mobile = order.customer.mobile, mobile.count >= 7 {
                    #expect(!logs.contains(mobile), "a phone in the logs: \(mobile)")
                    #expect(!logs.contains(String(mobile.dropFirst(3))), "most of a phone in the logs")
                }
            }
        }
    }
}
