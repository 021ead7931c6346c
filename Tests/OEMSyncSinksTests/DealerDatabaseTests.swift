import OEMSyncCore
import OEMSyncSinks
import OEMSyncTesting
import Testing

/// One behaviour suite, run against every backend: SQLite always, PostgreSQL from `make test`.
@Suite("Dealer database (SQLite and PostgreSQL)")
struct DealerDatabaseTests {
    static let stock = TargetTable(
        name: "stock",
        columns: [
            .init(name: "dealer_code", type: .string), .init(name: "vin", type: .string), .init(name: "location", type: .string),
            .init(name: "stock_in_date", type: .date), .init(name: "list_price", type: .decimal),
        ],
        keyIndexes: [0, 1])
    static let dumpColumns: [(String, ColumnType)] = [
        ("dealer_code", .string), ("vin", .string), ("location", .string), ("stock_in_date", .date), ("list_price", .decimal),
    ]

    func row(_ dealer: String, _ vin: String, _ location: String?, _ price: String) -> [Value] {
        [.string(dealer), .string(vin), location.map(Value.string) ?? .null, .date(CivilDate(year: 2025, month: 12, day: 2)!), .decimal(price)]
    }

    func context(before: String?, feed: String = "test-feed") -> BatchContext {
        BatchContext(
            feed: feed, source: "stock.csv", sourceRef: "claimed-stock.csv", positionStart: "line 2", checkpointBefore: before,
            mapping: "acme.stock", mappingVersion: "3", dictionaryVersion: "2025.12", startedAt: .now())
    }

    func end(_ after: String) -> BatchEnd { BatchEnd(positionEnd: "line 9", checkpointAfter: after) }

    @Test("migrations apply once and leave nothing pending", arguments: TestDatabase.backends)
    func migrations(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend, migrate: false)
        #expect(try db.database.pendingMigrations() == Migration.all.map(\.name))
        #expect(try db.database.migrate() == Migration.all.map(\.name))
        #expect(try db.database.migrate().isEmpty)
        #expect(try db.database.pendingMigrations().isEmpty)
        for table in ["vehicles", "stock", "sales_orders", "customers", "oemsync_batches", "oemsync_rejects", "oemsync_checkpoints"] {
            #expect(try db.count(table) == 0, "\(table) exists and is empty")
        }
    }

    @Test("the catalog lists the reference tables, their column types and natural keys", arguments: TestDatabase.backends)
    func catalog(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let catalog = try db.database.catalog()
        #expect(Set(catalog.tables.keys) == ["customers", "sales_orders", "stock", "vehicles"])
        let stock = try #require(catalog.tables["stock"])
        #expect(stock.columns["list_price"] == .decimal)
        #expect(stock.columns["stock_in_date"] == .date)
        #expect(catalog.tables["sales_orders"]?.columns["updated_at"] == .datetime)
        #expect(catalog.tables["vehicles"]?.columns["model_year"] == .int)
        #expect(catalog.tables["customers"]?.columns["is_company"] == .bool)
        #expect(stock.hasUniqueKey(["dealer_code", "vin"]))
        #expect(!stock.hasUniqueKey(["vin"]))
    }

    @Test("upsert: new rows inserted, changed rows updated, identical rows left untouched", arguments: TestDatabase.backends)
    func upsertCounts(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let first = MappedBatch(
            rows: [row("D1", "V1", "Hall A", "100.00"), row("D1", "V2", "tab\there \"q\" back\\slash\nnew line", "200.50")],
            rowLines: [2, 3], recordsIn: 2)
        let r1 = try db.database.commit(first, to: Self.stock, context: context(before: nil), end: end("p1"))
        #expect((r1.inserted, r1.updated, r1.unchanged) == (2, 0, 0))

        let second = MappedBatch(
            rows: [row("D1", "V1", "Hall A", "100.00"), row("D1", "V2", "moved", "200.50"), row("D2", "V1", nil, "0.00")],
            rowLines: [2, 3, 4], recordsIn: 3)
        let r2 = try db.database.commit(second, to: Self.stock, context: context(before: "p1"), end: end("p2"))
        #expect((r2.inserted, r2.updated, r2.unchanged) == (1, 1, 1))
        #expect(
            try db.dump("stock", Self.dumpColumns, orderBy: "dealer_code, vin") == [
                ["D1", "V1", "Hall A", "2025-12-02", "100.00"],
                ["D1", "V2", "moved", "2025-12-02", "200.50"],
                ["D2", "V1", "∅", "2025-12-02", "0.00"],
            ])
        // Provenance: the unchanged row still points at the batch that last changed it.
        let provenance = try db.query("SELECT vin, CAST(oemsync_batch_id AS TEXT) FROM stock WHERE dealer_code = 'D1' ORDER BY vin")
        #expect(provenance.map { $0[1] } == [String(r1.batchID), String(r2.batchID)])
    }

    @Test("text with tabs, newlines, quotes, backslashes and 4-byte characters round-trips", arguments: TestDatabase.backends)
    func textRoundTrip(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let text = "a\tb\nc\r\\N \"q\" 'q' 𠀀 ; DROP TABLE stock; --"
        let batch = MappedBatch(rows: [row("D1", "V1", text, "1.00")], rowLines: [2], recordsIn: 1)
        _ = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p"))
        #expect(try db.query("SELECT location FROM stock").first?[0] == text)
    }

    @Test("rejects, warnings, the ledger entry and the checkpoint are stored with the batch", arguments: TestDatabase.backends)
    func ledger(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let reject = Reject(
            line: 5,
            problems: [
                RecordProblem(code: "vin.check_digit", message: "expected 4, found 7", field: "vin", rawValue: "LSVAB2187S2100004"),
                RecordProblem(code: "type.date", message: "not a date", field: "stock_in_date", rawValue: "2025-13-01"),
            ], rawRecord: "[\"D1\",\"LSVAB2187S2100004\"]")
        let warning = Warning(line: 3, problem: RecordProblem(code: "phone.masked", message: "masked", field: "contact_phone", rawValue: "138****8000"), action: "null")
        let batch = MappedBatch(
            rows: [row("D1", "V1", nil, "1.00")], rowLines: [3], superseded: 1, rejects: [reject], warnings: [warning], recordsIn: 3)
        let receipt = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("{\"offset\":9}"))
        let ledger = try db.query(
            """
            SELECT feed, source, source_ref, CAST(records_in AS TEXT), CAST(written AS TEXT), CAST(rejected AS TEXT),
                   CAST(superseded AS TEXT), CAST(inserted AS TEXT), status, mapping, mapping_version, dictionary_version, position_end
            FROM oemsync_batches
            """)
        #expect(
            ledger == [
                [
                    "test-feed", "stock.csv", "claimed-stock.csv", "3", "2", "1", "1", "1", "partial", "acme.stock", "3", "2025.12",
                    "line 9",
                ]
            ])
        let rejects = try db.query("SELECT CAST(batch_id AS TEXT), CAST(line AS TEXT), field, reason, message, raw_value, raw_record, problems FROM oemsync_rejects")
        #expect(rejects.count == 1)
        #expect(rejects[0][0] == String(receipt.batchID))
        #expect(Array(rejects[0][1...6]) == ["5", "vin", "vin.check_digit", "expected 4, found 7", "LSVAB2187S2100004", "[\"D1\",\"LSVAB2187S2100004\"]"])
        #expect(rejects[0][7]?.contains("\"code\":\"type.date\"") == true)
        #expect(try db.query("SELECT field, reason, action, raw_value FROM oemsync_warnings") == [["contact_phone", "phone.masked", "null", "138****8000"]])
        #expect(try db.database.checkpoint(feed: "test-feed") == "{\"offset\":9}")
    }

    @Test("a checkpoint that moved underneath the batch fails it, and nothing of it is written", arguments: TestDatabase.backends)
    func checkpointCompareAndSet(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let batch = MappedBatch(rows: [row("D1", "V1", nil, "1.00")], rowLines: [2], recordsIn: 1)
        _ = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p1"))
        let next = MappedBatch(rows: [row("D1", "V2", nil, "2.00")], rowLines: [3], recordsIn: 1)
        #expect(throws: SinkError.self) { try db.database.commit(next, to: Self.stock, context: context(before: "stale"), end: end("p2")) }
        #expect(throws: SinkError.self) { try db.database.commit(next, to: Self.stock, context: context(before: nil), end: end("p2")) }
        #expect(try db.count("stock") == 1)
        #expect(try db.count("oemsync_batches") == 1)
        #expect(try db.database.checkpoint(feed: "test-feed") == "p1")
        // The database stays usable after the rollback.
        _ = try db.database.commit(next, to: Self.stock, context: context(before: "p1"), end: end("p2"))
        #expect(try db.count("stock") == 2)
    }

    @Test("a batch whose counts do not add up is refused before anything is written", arguments: TestDatabase.backends)
    func conservation(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let broken = MappedBatch(rows: [row("D1", "V1", nil, "1.00")], rowLines: [2], recordsIn: 2)
        #expect(throws: SinkError.self) { try db.database.commit(broken, to: Self.stock, context: context(before: nil), end: end("p")) }
        #expect(try db.count("stock") == 0)
        #expect(try db.database.checkpoint(feed: "test-feed") == nil)
    }

    @Test(
        "rows the database refuses are isolated as rejects with its message; the rest of the batch commits",
        arguments: TestDatabase.backends)
    func databaseRefusal(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        switch backend {
        case .sqlite:
            try db.execute(
                "CREATE TRIGGER price_cap BEFORE INSERT ON stock WHEN NEW.list_price >= 1000 BEGIN SELECT RAISE(ABORT, 'price cap'); END")
        case .postgres:
            try db.execute("ALTER TABLE stock ADD CONSTRAINT price_cap CHECK (list_price < 1000)")
        }
        // 11 rows, refused ones at the edges and in the middle: bisection must find each of them.
        let prices = ["5000.00", "1.00", "2.00", "3.00", "4.00", "6000.00", "5.00", "6.00", "7.00", "8.00", "7000.00"]
        let rows = prices.enumerated().map { row("D1", "V\($0.offset)", "x", $0.element) }
        let batch = MappedBatch(rows: rows, rowLines: Array(2...12), recordsIn: 11)
        let receipt = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p"))
        #expect(receipt.inserted == 8)
        #expect(receipt.refused.map(\.line) == [2, 7, 12])
        #expect(try db.count("stock") == 8)
        #expect(try db.count("stock", where: "list_price >= 1000") == 0)
        let ledger = try db.query("SELECT records_in, written, rejected, refused, status FROM oemsync_batches")
        #expect(ledger == [["11", "8", "3", "3", "partial"]])
        let rejects = try db.query("SELECT line, reason, message, raw_record FROM oemsync_rejects ORDER BY line")
        #expect(rejects.map { $0[0] } == ["2", "7", "12"])
        #expect(rejects.allSatisfy { $0[1] == "db.constraint" })
        #expect(rejects.allSatisfy { $0[2]?.contains("price_cap") == true || $0[2]?.contains("price cap") == true }, "\(rejects)")
        #expect(rejects.allSatisfy { $0[2]?.contains("5000") == false }, "values stay out of the message")
        #expect(rejects[0][3] == #"["D1","V0","x","2025-12-02","5000.00"]"#, "the row as mapped is kept")
        #expect(try db.database.checkpoint(feed: "test-feed") == "p", "the checkpoint moved with the rows that committed")
    }

    @Test("an error that is not about a row rolls back the whole batch with the database's code", arguments: TestDatabase.backends)
    func databaseFailure(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        switch backend {
        case .sqlite:
            // The trigger's table is gone: "no such table", an error of the schema, not of the row.
            try db.execute(
                """
                CREATE TABLE audit (x INTEGER);
                CREATE TRIGGER audit_stock BEFORE INSERT ON stock WHEN NEW.list_price >= 1000 BEGIN INSERT INTO audit VALUES (1); END;
                DROP TABLE audit;
                """)
        case .postgres:
            try db.execute(
                """
                CREATE FUNCTION audit_stock() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.list_price >= 1000 THEN RAISE EXCEPTION 'audit service unavailable'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER audit_stock BEFORE INSERT ON stock FOR EACH ROW EXECUTE FUNCTION audit_stock();
                """)
        }
        let batch = MappedBatch(
            rows: [row("D1", "V1", nil, "1.00"), row("D1", "V2", "x", "5000.00")], rowLines: [2, 3], recordsIn: 2)
        do {
            _ = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p"))
            Issue.record("the batch committed despite the failing trigger")
        } catch {
            #expect(error.feed == "test-feed")
            #expect(error.databaseCode != nil)
            #expect(!error.description.contains("5000"), "values stay out of error messages")
        }
        #expect(try db.count("stock") == 0)
        #expect(try db.count("oemsync_batches") == 0)
        #expect(try db.database.checkpoint(feed: "test-feed") == nil)
    }

    @Test("a trigger that rolls back the transaction fails the whole batch: no row is isolated, none written without its ledger")
    func sqliteRollbackTrigger() throws {
        let db = try TestDatabase(.sqlite)
        try db.execute("CREATE TRIGGER cap BEFORE INSERT ON stock WHEN NEW.list_price >= 1000 BEGIN SELECT RAISE(ROLLBACK, 'cap'); END")
        let batch = MappedBatch(
            rows: [row("D1", "V1", nil, "1.00"), row("D1", "V2", nil, "5000.00"), row("D1", "V3", nil, "2.00")], rowLines: [2, 3, 4],
            recordsIn: 3)
        #expect(throws: SinkError.self) { try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p")) }
        #expect(try db.count("stock") == 0)
        #expect(try db.count("oemsync_batches") == 0)
        #expect(try db.database.checkpoint(feed: "test-feed") == nil)
        // The connection is usable for the next batch.
        let next = MappedBatch(rows: [row("D1", "V1", nil, "1.00")], rowLines: [2], recordsIn: 1)
        _ = try db.database.commit(next, to: Self.stock, context: context(before: nil), end: end("p"))
        #expect(try db.count("stock") == 1)
    }

    /// A payload source whose file is gone.
    struct LostPayload: BatchPayloadSource {
        func load(records: Set<Int>?) -> BatchPayload? { nil }
    }

    @Test("a partial batch whose payload cannot be read back is rolled back, never kept without it", arguments: TestDatabase.backends)
    func payloadRequired(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let reject = Reject(line: 3, problems: [RecordProblem(code: "vin.length", message: "17 characters expected")], rawRecord: "[]")
        let batch = MappedBatch(rows: [row("D1", "V1", nil, "1.00")], rowLines: [2], rejects: [reject], recordsIn: 2)
        let lost = BatchEnd(positionEnd: "line 4", checkpointAfter: "p", payload: LostPayload())
        #expect(throws: SinkError.self) { try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: lost) }
        #expect(try db.count("stock") == 0)
        #expect(try db.count("oemsync_batches") == 0)
        // An ok batch needs no payload: the same source is never asked.
        let clean = MappedBatch(rows: [row("D1", "V1", nil, "1.00")], rowLines: [2], recordsIn: 1)
        _ = try db.database.commit(clean, to: Self.stock, context: context(before: nil), end: lost)
        #expect(try db.count("stock") == 1)
    }

    @Test("the database's messages reach the rejects without the values they quote", arguments: TestDatabase.backends)
    func refusedValuesMasked(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        try db.execute("CREATE UNIQUE INDEX stock_location ON stock (location)")
        if backend == .sqlite { try db.execute("CREATE TRIGGER price_text BEFORE INSERT ON stock WHEN typeof(NEW.list_price) = 'text' BEGIN SELECT RAISE(ABORT, 'price is not a number'); END") }
        let batch = MappedBatch(
            rows: [row("D1", "V1", "Bay Zhang-13800138000", "1.00"), row("D1", "V2", "Bay Zhang-13800138000", "2.00"), row("D1", "V3", "x", "12abc")],
            rowLines: [2, 3, 4], recordsIn: 3)
        let receipt = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p"))
        #expect(receipt.refused.map(\.line) == [3, 4])
        let messages = try db.query("SELECT reason, message FROM oemsync_rejects ORDER BY line")
        #expect(messages.map { $0[0] } == ["db.constraint", backend == .postgres ? "db.value" : "db.constraint"])
        for m in messages {
            #expect(m[1]?.contains("13800138000") == false, "\(m)")
            #expect(m[1]?.contains("12abc") == false, "\(m)")
        }
    }

    @Test("a row that collides with another unique constraint is refused, never counted as unchanged", arguments: TestDatabase.backends)
    func secondaryUnique(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        try db.execute("CREATE UNIQUE INDEX stock_location ON stock (location)")
        let batch = MappedBatch(
            rows: [row("D1", "V1", "bay-1", "1.00"), row("D1", "V2", "bay-1", "2.00"), row("D1", "V3", "bay-3", "3.00")],
            rowLines: [2, 3, 4], recordsIn: 3)
        let receipt = try db.database.commit(batch, to: Self.stock, context: context(before: nil), end: end("p"))
        #expect(receipt.inserted == 2)
        #expect(receipt.refused.map(\.line) == [3])
        #expect(try db.count("stock") == 2)
        #expect(try db.query("SELECT written, rejected FROM oemsync_batches") == [["2", "1"]])
    }
}

/// Batches that span several chunks: one transaction, one ledger entry, whatever the chunk count.
@Suite("Batches in chunks (SQLite and PostgreSQL)")
struct ChunkedBatchTests {
    final class Chunks: BatchChunks {
        var pending: [MappedBatch]
        let end: BatchEnd?
        init(_ chunks: [MappedBatch], end: BatchEnd?) {
            pending = chunks
            self.end = end
        }
        func next() -> MappedBatch? { pending.isEmpty ? nil : pending.removeFirst() }
    }

    let t = DealerDatabaseTests()

    @Test("three chunks commit as one batch; a key repeated across chunks is updated in place", arguments: TestDatabase.backends)
    func chunks(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let reject = Reject(line: 4, problems: [RecordProblem(code: "vin.length", message: "expected 17 characters, found 3", field: "vin", rawValue: "ABC")], rawRecord: "[]")
        var parts = [
            MappedBatch(rows: [t.row("D1", "V1", "a", "1.00"), t.row("D1", "V2", "b", "2.00")], rowLines: [2, 3], recordsIn: 2),
            MappedBatch(rejects: [reject], recordsIn: 1),
            MappedBatch(rows: [t.row("D1", "V1", "c", "3.00")], rowLines: [5], recordsIn: 1),
        ]
        for i in parts.indices { db.database.prepare(&parts[i]) }
        let receipt = try db.database.commit(Chunks(parts, end: t.end("p1")), to: DealerDatabaseTests.stock, context: t.context(before: nil))
        #expect((receipt.inserted, receipt.updated, receipt.unchanged) == (2, 1, 0))
        #expect(try db.query("SELECT CAST(records_in AS TEXT), CAST(written AS TEXT), CAST(rejected AS TEXT), status, position_end FROM oemsync_batches") == [["4", "3", "1", "partial", "line 9"]])
        #expect(try db.dump("stock", DealerDatabaseTests.dumpColumns, orderBy: "vin") == [
            ["D1", "V1", "c", "2025-12-02", "3.00"], ["D1", "V2", "b", "2025-12-02", "2.00"],
        ])
        #expect(try db.count("oemsync_rejects") == 1)
    }

    @Test("a batch its source abandons leaves nothing behind", arguments: TestDatabase.backends)
    func abandoned(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend)
        let parts = [MappedBatch(rows: [t.row("D1", "V1", "a", "1.00")], rowLines: [2], recordsIn: 1)]
        do {
            _ = try db.database.commit(Chunks(parts, end: nil), to: DealerDatabaseTests.stock, context: t.context(before: nil))
            Issue.record("an abandoned batch committed")
        } catch {
            #expect(error.code == .abandoned)
        }
        #expect(try db.count("stock") == 0)
        #expect(try db.count("oemsync_batches") == 0)
        #expect(try db.database.checkpoint(feed: "test-feed") == nil)
    }
}
