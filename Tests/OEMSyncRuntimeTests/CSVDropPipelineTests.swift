import Foundation
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncTesting
import Testing

/// CSV edge cases through the whole pipeline (drop directory -> reader -> mapping -> database), on
/// SQLite and PostgreSQL: content, rejects and file outcome are asserted, not just counts.
@Suite("CSV drop pipeline")
struct CSVDropPipelineTests {
    static let stockColumns: [(String, ColumnType)] = [
        ("dealer_code", .string), ("vin", .string), ("status", .string), ("stock_in_date", .date), ("list_price", .decimal),
        ("location", .string), ("contact_phone", .string),
    ]

    struct EdgeCase: Sendable, CustomStringConvertible {
        var fixture: String
        var rows: [[String]]
        var rejects: [[String]]  // line, reason
        var quarantine: String?  // the reason, when the file must be quarantined
        var description: String { fixture }
    }

    static let edgeCases: [EdgeCase] = [
        EdgeCase(
            fixture: "quoted-newlines.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "100.00", "Hall A\nrow 2, bay \"7\"", "∅"],
                ["D001", "LSVAB2183S2100001", "IN_STOCK", "2025-12-02", "200.00", "two\r\nlines", "∅"],
                ["D001", "LSVAB2185S2100002", "IN_STOCK", "2025-12-02", "300.00", "plain", "∅"],
            ], rejects: []),
        EdgeCase(
            fixture: "bom-crlf.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "100.00", "A", "∅"],
                ["D001", "LSVAB2183S2100001", "IN_STOCK", "2025-12-03", "200.00", "B", "∅"],
            ], rejects: []),
        EdgeCase(
            fixture: "gb18030.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "268000.00", "𠀀号库 䶮", "+8613800138000"],
                ["D001", "LSVAB2183S2100001", "IN_STOCK", "2025-12-03", "198500.00", "展厅€", "+8613900139000"],
            ], rejects: []),
        EdgeCase(
            fixture: "ragged.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "100.00", "A", "∅"],
                ["D001", "LSVAB2187S2100003", "IN_STOCK", "2025-12-02", "400.00", "A", "∅"],
            ], rejects: [["3", "csv.columns"], ["4", "csv.columns"]]),
        EdgeCase(
            fixture: "duplicate-keys.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "SOLD", "2025-12-04", "175.00", "third", "∅"],
                ["D001", "LSVAB2183S2100001", "IN_STOCK", "2025-12-02", "200.00", "other", "∅"],
            ], rejects: []),
        EdgeCase(
            fixture: "truncated-last-line.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "100.00", "A", "∅"],
                ["D001", "LSVAB2183S2100001", "IN_STOCK", "2025-12-02", "200.00", "A", "∅"],
            ], rejects: [["4", "csv.columns"]]),
        EdgeCase(
            fixture: "invalid-utf8.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "100.00", "上海展厅", "∅"],
                ["D001", "LSVAB2185S2100002", "IN_STOCK", "2025-12-02", "300.00", "北京仓库", "∅"],
                ["D001", "LSVAB2187S2100003", "IN_STOCK", "2025-12-02", "400.00", "Café", "∅"],
            ], rejects: [["3", "csv.decode"]]),
        EdgeCase(
            fixture: "unterminated-quote.csv",
            rows: [
                ["D001", "LSVAB2181S2100000", "IN_STOCK", "2025-12-02", "100.00", "A", "∅"],
                ["D001", "LSVAB2185S2100002", "IN_STOCK", "2025-12-02", "300.00", "C", "∅"],
            ], rejects: [["3", "csv.quote"]]),
        EdgeCase(fixture: "header-only.csv", rows: [], rejects: []),
        EdgeCase(fixture: "empty.csv", rows: [], rejects: [], quarantine: "empty file: no header row and no records"),
        EdgeCase(fixture: "binary.csv", rows: [], rejects: [], quarantine: "not a text file: it contains NUL bytes"),
    ]

    static var cases: [(TestDatabase.Backend, EdgeCase)] {
        TestDatabase.backends.flatMap { b in edgeCases.map { (b, $0) } }
    }

    @Test("each CSV edge case loads exactly its content; bad rows are rejected with their line", arguments: cases)
    func edgeCase(_ backend: TestDatabase.Backend, _ edge: EdgeCase) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try ws.drop("stock", fixture: "feeds/csv/edge/" + edge.fixture)
        let run = ws.sync()
        #expect(try ws.db.dump("stock", Self.stockColumns, orderBy: "dealer_code, vin") == edge.rows)
        #expect(try ws.db.query("SELECT CAST(line AS TEXT), reason FROM oemsync_rejects ORDER BY oemsync_rejects.line").map { $0.map { $0 ?? "∅" } } == edge.rejects)
        #expect(ws.files("stock").isEmpty, "the file left the drop directory")
        #expect(ws.files("stock", "processing").isEmpty)
        if let reason = edge.quarantine {
            #expect(run.status == ExitStatus.failure)
            let quarantined = ws.files("stock", "quarantine")
            #expect(quarantined.count == 2)
            let reasonFile = try #require(quarantined.first { $0.hasSuffix(".reason") })
            #expect(try String(contentsOfFile: ws.dir.file("drops/stock/quarantine/" + reasonFile), encoding: .utf8) == reason + "\n")
            #expect(try ws.db.count("oemsync_batches") == 0)
        } else {
            #expect(run.status == ExitStatus.ok, "\(run.err)")
            #expect(ws.files("stock", "archive").count == 1)
            // Every batch obeys records in = written + rejected, and so does the file.
            let ledger = try ws.db.query("SELECT CAST(records_in AS TEXT), CAST(written AS TEXT), CAST(rejected AS TEXT) FROM oemsync_batches")
            #expect(!ledger.isEmpty)
            for l in ledger { #expect(Int(l[0]!)! == Int(l[1]!)! + Int(l[2]!)!) }
            let records = ledger.reduce(0) { $0 + Int($1[0]!)! }
            let written = ledger.reduce(0) { $0 + Int($1[1]!)! }
            #expect(written - (try ws.db.count("stock")) == (edge.fixture == "duplicate-keys.csv" ? 2 : 0))
            #expect(records == written + edge.rejects.count)
        }
    }

    @Test("the sample ACME feeds load with their exact content", arguments: TestDatabase.backends)
    func sampleFeeds(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(
            backend,
            feeds: [
                "acme-orders": "Mappings/acme/orders.v1.yaml", "acme-stock": "Mappings/acme/stock.v1.yaml",
                "acme-vehicles": "Mappings/acme/vehicles.v1.yaml",
            ])
        try ws.drop("acme-orders", fixture: "feeds/csv/acme/orders-20251203.csv")
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv")
        try ws.drop("acme-vehicles", fixture: "feeds/csv/acme/vehicles-20251202.csv")
        let run = ws.sync(json: true)
        #expect(run.status == ExitStatus.ok, "\(run.err)")
        let orders = try ws.db.dump(
            "sales_orders",
            [
                ("order_no", .string), ("vin", .string), ("customer_name", .string), ("customer_phone", .string), ("order_date", .date),
                ("status", .string), ("total_price", .decimal), ("currency", .string), ("updated_at", .datetime),
            ], orderBy: "order_no")
        #expect(
            orders == [
                ["SO-20251201-001", "LSVAB2181S2100000", "张伟", "+8613800138000", "2025-12-01", "DELIVERED", "268000.00", "CNY", "2025-12-01T02:15:00Z"],
                ["SO-20251201-002", "∅", "欧阳娜娜", "+8618600001234", "2025-12-01", "CONFIRMED", "412000.00", "CNY", "2025-12-01T03:20:00Z"],
                ["SO-20251201-003", "LSVAB2185S2100002", "李𠀀", "+861065529988;ext=123", "2025-12-02", "PRODUCED", "355000.00", "CNY", "2025-12-02T01:05:00Z"],
                ["SO-20251201-005", "∅", "赵磊", "+8613900139000", "2025-12-03", "SHIPPED", "268000.00", "CNY", "2025-12-03T00:00:00Z"],
            ])
        let rejects = try ws.db.query("SELECT feed, CAST(line AS TEXT), reason FROM oemsync_rejects ORDER BY feed, oemsync_rejects.line").map { $0.map { $0! } }
        #expect(
            rejects == [
                ["acme-orders", "5", "phone.masked"], ["acme-orders", "7", "phone.too_short"], ["acme-orders", "8", "type.date"],
                ["acme-stock", "6", "vin.check_digit"], ["acme-stock", "7", "lookup.missing"], ["acme-stock", "8", "type.date"],
                ["acme-stock", "10", "value.range"], ["acme-stock", "12", "csv.columns"],
                ["acme-vehicles", "10", "vin.placeholder"], ["acme-vehicles", "11", "value.range"],
            ], "\(rejects)")
        #expect(
            try ws.db.query("SELECT feed, CAST(line AS TEXT), field, reason, action FROM oemsync_warnings ORDER BY feed, oemsync_warnings.line").map { $0.map { $0! } } == [
                ["acme-orders", "6", "vin", "vin.chars", "null"],
                ["acme-stock", "5", "contact_phone", "phone.multiple", "kept"],
                ["acme-stock", "9", "contact_phone", "phone.masked", "null"],
            ])
        #expect(try ws.db.dump("vehicles", [("vin", .string), ("plant_code", .string), ("model_code", .string)], orderBy: "vin").first == ["LSVAB2180S2100005", "2", "ACME-A3-SEDAN"])
        #expect(run.out.contains("\"feed\":\"acme-orders\",\"error\":null,\"records_in\":7,\"written\":4,\"rejected\":3"), "\(run.out)")
        let totals = try ws.db.query("SELECT CAST(sum(records_in) AS TEXT), CAST(sum(written) AS TEXT), CAST(sum(rejected) AS TEXT) FROM oemsync_batches")
        #expect(totals == [["29", "19", "10"]])
    }
}
