import Foundation
import Testing
import Logging
import OEMSimulator
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncTesting
import Synchronization

/// A config with REST feeds against an OEM simulator, a secret file, and a real dealer database:
/// what the REST pipeline tests run `oemsync sync` against, with a test clock for every wait.
final class RESTWorkspace: @unchecked Sendable {
    let dir: TemporaryDirectory
    let db: TestDatabase
    let configPath: String
    let clock: TestClock

    struct Feed {
        var name: String
        var mapping: String
        /// YAML lines of the source after `kind: rest` and `credentials:` (indented by the workspace).
        var source: String
        var credentials = "acme-api"
        /// A feed-level setting, `key: value` (e.g. `keep_ok_payloads: 1d`).
        var setting: String?
        var kind = "rest"
    }

    /// The ACME dealer API v1 (page numbers, Chinese envelope, incremental by Shanghai local time).
    static func ordersV1(_ oem: OEMSimulator, name: String = "orders", size: Int = 5, extra: String = "") -> Feed {
        Feed(
            name: name, mapping: "Mappings/acme/orders-api.v1.yaml",
            source: """
                url: \(oem.baseURL)/api/v1/dealers/D001/orders
                record_id: orderNo
                pagination: {style: page, param: pageNo, size_param: pageSize, size: \(size)}
                incremental: {param: updatedSince, field: updateTime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai, overlap: 10m}
                errors: {code: $.code, success: [0], message: $.msg, retryable: [50001]}
                \(extra)
                """)
    }

    /// - Parameter credentials: YAML of the `credentials:` entries (indented by two spaces per level).
    init(_ backend: TestDatabase.Backend, feeds: [Feed], credentials: String? = nil, oem: OEMSimulator) throws {
        dir = try TemporaryDirectory("rest")
        db = try TestDatabase(backend)
        clock = TestClock()
        try dir.write("secrets/acme-secret", "s3cret-d001\n")
        try dir.write("secrets/acme-key", "key-d001")
        var yaml = db.configPrologue + "credentials:\n"
        yaml += credentials ?? """
              acme-api:
                auth:
                  kind: oauth2
                  token_url: \(oem.baseURL)/oauth/token
                  client_id: dealer-d001
                  client_secret_file: secrets/acme-secret

            """
        yaml += "feeds:\n"
        for feed in feeds {
            let mapping = feed.mapping.hasPrefix("/") ? feed.mapping : Fixture.repository(feed.mapping)
            yaml += "  \(feed.name):\n    mapping: \(mapping)\n"
            if let setting = feed.setting { yaml += "    \(setting)\n" }
            yaml += "    source:\n      kind: \(feed.kind)\n      credentials: \(feed.credentials)\n"
            for line in feed.source.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                yaml += "      \(line)\n"
            }
        }
        configPath = try dir.write("oemsync.yaml", yaml)
    }

    struct Run {
        var status: Int32
        var out: String
        var err: String
        var logs: String
    }

    /// Runs `oemsync sync` in-process on a thread of its own (it blocks on HTTP), with the test clock.
    /// - Parameters:
    ///   - services: shared between runs to keep token caches and breakers (a daemon's process); nil: fresh ones.
    ///   - random: the jitter draw.
    func sync(_ feeds: [String]? = nil, services: SourceServices? = nil, random: Double = 0.5, json: Bool = false) async throws -> Run {
        let configPath = self.configPath
        let clock = self.clock
        return try await onThread {
            let out = Mutex("")
            let err = Mutex("")
            let logs = Mutex("")
            let console = Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
            let logger = Logger(label: "test") { label in
                LogfmtLogHandler(label: label, level: .trace, stream: { line in logs.withLock { $0 += line } })
            }
            let loaded = ConfigurationLoader().load(path: configPath)
            let shared = services ?? SourceServices(credentials: loaded.configuration?.credentials ?? [:], clock: clock, random: { random })
            let options = SyncCommand.Options(configPath: configPath, feeds: feeds ?? [], all: feeds == nil, json: json)
            let status = SyncCommand.run(options, logger: logger, console: console, services: shared)
            #expect((try? self.db.ledgerViolations()) == [], "after sync")
            return Run(status: status, out: out.withLock { $0 }, err: err.withLock { $0 }, logs: logs.withLock { $0 })
        }
    }

    /// Runs one of the engineers' commands in-process (`status`, `batches`, `replay`, `checkpoint`).
    func command(_ run: (String, Console) -> Int32) -> (status: Int32, out: String, err: String) {
        LedgerCommand.run(configPath: configPath, db: db, run)
    }

    func services(random: Double = 0.5, breakers: CircuitBreakers = CircuitBreakers()) throws -> SourceServices {
        let loaded = ConfigurationLoader().load(path: configPath)
        return SourceServices(credentials: loaded.configuration?.credentials ?? [:], clock: clock, breakers: breakers, random: { random })
    }

    static let orderColumns: [(String, ColumnType)] = [
        ("dealer_code", .string), ("order_no", .string), ("oem_order_no", .string), ("vin", .string), ("model_code", .string),
        ("customer_oem_id", .string), ("customer_name", .string), ("customer_phone", .string), ("order_date", .date),
        ("delivery_date", .date), ("status", .string), ("total_price", .decimal), ("currency", .string), ("salesperson", .string),
        ("updated_at", .datetime),
    ]

    /// The dealer's orders, normalised so both backends print the same.
    func orders() throws -> [[String]] { try db.dump("sales_orders", Self.orderColumns, orderBy: "dealer_code, order_no") }

    /// Every reject as (field, reason, the record's order number from its stored JSON).
    func rejects(key: String = "orderNo") throws -> [[String]] {
        try db.query("SELECT field, reason, raw_record FROM oemsync_rejects ORDER BY id").map { row in
            let raw = row[2] ?? ""
            let value = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any]
            return [row[0] ?? "∅", row[1] ?? "", value?[key].map { "\($0)" } ?? "not JSON: \(raw.prefix(40))"]
        }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    struct Batch: Equatable {
        var status: String
        var recordsIn: Int
        var written: Int
        var rejected: Int
        var requests: Int
        var duplicates: Int
        var notes: String?
        var error: String?
        var position: String
    }

    func batches() throws -> [Batch] {
        try db.query(
            "SELECT status, records_in, written, rejected, requests, duplicates, notes, error, position_start FROM oemsync_batches ORDER BY id"
        ).map { r in
            Batch(
                status: r[0]!, recordsIn: Int(r[1]!)!, written: Int(r[2]!)!, rejected: Int(r[3]!)!, requests: Int(r[4]!)!,
                duplicates: Int(r[5]!)!, notes: r[6] ?? nil, error: r[7] ?? nil, position: r[8]!)
        }
    }

    func checkpoint(_ feed: String = "orders") throws -> RESTCheckpoint? {
        guard let text = try db.query("SELECT position FROM oemsync_checkpoints WHERE feed = '\(feed)'").first?[0] ?? nil else { return nil }
        return try RESTCheckpoint.parse(text)
    }
}
