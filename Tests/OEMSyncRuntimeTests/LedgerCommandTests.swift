import Foundation
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Testing

/// `status`, `batches list/show` and `checkpoint show/set/reset` on a real ledger.
@Suite("Ledger commands (SQLite and PostgreSQL)")
struct LedgerCommandTests {
    func loaded(_ backend: TestDatabase.Backend) throws -> Workspace {
        let ws = try Workspace(backend, feeds: ["acme-stock": "Mappings/acme/stock.v1.yaml", "acme-orders": "Mappings/acme/orders.v1.yaml"])
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv")
        try ws.drop("acme-orders", fixture: "feeds/csv/acme/orders-20251203.csv")
        #expect(ws.sync().status == 0)
        return ws
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("status: every feed's figures, open rejects, checkpoint and lag; JSON for scripts", arguments: TestDatabase.backends)
    func status(_ backend: TestDatabase.Backend) throws {
        let ws = try loaded(backend)
        try ws.dropText("acme-stock", "waiting.csv", StockFeed.csv(rows: 1))
        let text = ws.command { StatusCommand.run(configPath: $0, json: false, console: $1) }
        #expect(text.status == 0)
        let stock = try #require(text.out.split(separator: "\n").first { $0.hasPrefix("acme-stock ") })
        #expect(stock.contains(" rejects "), "open rejects wait: \(stock)")
        #expect(stock.contains(" 12 ") && stock.contains(" 7 ") && stock.contains(" 5 "), "\(stock)")
        #expect(stock.contains("1 file waiting, oldest"), "\(stock)")
        #expect(text.out.contains("acme-stock: ") && text.out.contains("loaded to its end"))

        let doc = try json(ws.command { StatusCommand.run(configPath: $0, json: true, console: $1) }.out)
        let feeds = try #require(doc["feeds"] as? [[String: Any]])
        let orders = try #require(feeds.first { $0["feed"] as? String == "acme-orders" })
        let summary = try #require(orders["summary"] as? [String: Any])
        #expect(summary["records_in"] as? Int == 7)
        #expect(summary["written"] as? Int == 4)
        #expect(summary["open_rejects"] as? Int == 3)
        #expect(orders["lag_seconds"] as? Int == 0)
        #expect(orders["state"] as? String == "rejects")
    }

    @Test("batches list filters by feed, status and time; show groups rejects by reason, values masked", arguments: TestDatabase.backends)
    func batches(_ backend: TestDatabase.Backend) throws {
        let ws = try loaded(backend)
        try ws.dropText("acme-stock", "clean.csv", StockFeed.csv(rows: 2))
        #expect(ws.sync().status == 0)

        let all = try json(ws.command { BatchesCommand.list(.init(configPath: $0, json: true), console: $1) }.out)
        #expect((all["batches"] as? [[String: Any]])?.map { $0["id"] as? Int } == [3, 2, 1], "newest first")
        let stockPartial = try ws.db.query("SELECT id FROM oemsync_batches WHERE feed = 'acme-stock' AND status = 'partial'").map { Int($0[0]!) }
        #expect(stockPartial.count == 1)
        let partial = try json(
            ws.command { BatchesCommand.list(.init(configPath: $0, feed: "acme-stock", status: "partial", json: true), console: $1) }.out)
        #expect((partial["batches"] as? [[String: Any]])?.map { $0["id"] as? Int } == stockPartial)
        let future = ws.command { BatchesCommand.list(.init(configPath: $0, since: "2999-01-01"), console: $1) }
        #expect(future.status == 0)
        #expect(!future.out.contains("acme-stock"))
        let recent = ws.command { BatchesCommand.list(.init(configPath: $0, since: "1h"), console: $1) }
        #expect(recent.out.contains("acme-orders"))
        let wrong = ws.command { BatchesCommand.list(.init(configPath: $0, status: "broken"), console: $1) }
        #expect(wrong.status == 64)
        let badTime = ws.command { BatchesCommand.list(.init(configPath: $0, since: "yesterday"), console: $1) }
        #expect(badTime.status == 64)

        let orders = try #require(try ws.db.query("SELECT id FROM oemsync_batches WHERE feed = 'acme-orders'").first?[0] ?? nil)
        let show = ws.command { BatchesCommand.show(configPath: $0, id: Int64(orders)!, json: false, showValues: false, console: $1) }
        #expect(show.status == 0)
        #expect(show.out.contains("records:      7 = 4 written + 3 rejected"), "\(show.out)")
        #expect(show.out.contains("rejects by reason:"))
        #expect(show.out.contains("phone.masked: 1"))
        #expect(show.out.contains("payload:      orders-20251203.csv bytes"))
        #expect(!show.out.contains("****"), "the masked phone itself is not shown: \(show.out)")
        #expect(show.out.contains("[value: ***]"))
        let values = ws.command { BatchesCommand.show(configPath: $0, id: Int64(orders)!, json: true, showValues: true, console: $1) }
        let doc = try json(values.out)
        let groups = try #require(doc["rejects"] as? [[String: Any]])
        #expect(groups.map { $0["count"] as? Int }.reduce(0) { $0 + ($1 ?? 0) } == 3)
        let missing = ws.command { BatchesCommand.show(configPath: $0, id: 999, json: false, showValues: false, console: $1) }
        #expect(missing.status == 1)
        #expect(missing.err.contains("no batch 999"))
    }

    @Test("checkpoint set and reset need --yes, set checks the value, and every change is logged", arguments: TestDatabase.backends)
    func checkpoints(_ backend: TestDatabase.Backend) throws {
        let ws = try loaded(backend)
        let before = try #require(try ws.db.database.checkpoint(feed: "acme-stock"))
        let show = ws.command { CheckpointCommand.run(configPath: $0, feed: "acme-stock", action: .show, yes: false, json: true, console: $1) }
        #expect(try json(show.out)["checkpoint"] != nil)

        let unconfirmed = ws.command { CheckpointCommand.run(configPath: $0, feed: "acme-stock", action: .reset, yes: false, json: false, console: $1) }
        #expect(unconfirmed.status == 64)
        #expect(unconfirmed.err.contains("add --yes"))
        #expect(try ws.db.database.checkpoint(feed: "acme-stock") == before)

        let invalid = ws.command { CheckpointCommand.run(configPath: $0, feed: "acme-stock", action: .set("{\"page\": 3}"), yes: true, json: false, console: $1) }
        #expect(invalid.status == 64)
        #expect(invalid.err.contains("not a CSV drop checkpoint"))
        let unknown = ws.command { CheckpointCommand.run(configPath: $0, feed: "acme-stok", action: .show, yes: false, json: false, console: $1) }
        #expect(unknown.status == 64)
        #expect(unknown.err.contains("did you mean 'acme-stock'?"))

        let value = #"{"crc32":"00000000","file":"x.csv","line":5,"offset":300,"size":900}"#
        let set = ws.command { CheckpointCommand.run(configPath: $0, feed: "acme-stock", action: .set(value), yes: true, json: false, console: $1) }
        #expect(set.status == 0, "\(set.err)")
        #expect(set.out.contains("it was: \(before)"))
        #expect(try ws.db.database.checkpoint(feed: "acme-stock") == value)
        let reset = ws.command { CheckpointCommand.run(configPath: $0, feed: "acme-stock", action: .reset, yes: true, json: false, console: $1) }
        #expect(reset.status == 0)
        #expect(try ws.db.database.checkpoint(feed: "acme-stock") == nil)
        #expect(
            try ws.db.query("SELECT old_position, new_position, reason FROM oemsync_checkpoint_changes ORDER BY id") == [
                [before, value, "set by hand"], [value, nil, "reset by hand"],
            ])
        // A feed without a checkpoint loads its next file from the start, and then checkpoints again.
        try ws.dropText("acme-stock", "next.csv", StockFeed.csv(rows: 2))
        #expect(ws.sync().status == 0)
        #expect(try ws.db.database.checkpoint(feed: "acme-stock") != nil)
    }

    @Test("a file changed in processing/ with its size kept is quarantined, never resumed (its CRC-32 differs)", arguments: TestDatabase.backends)
    func changedContent(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": "Mappings/acme/stock.v1.yaml"], batchRows: 2)
        try ws.dropText("acme-stock", "stock.csv", StockFeed.csv(rows: 6))
        // Load the first batch only: a database that fails the second batch.
        try ws.db.execute(
            ws.db.backend == .sqlite
                // An integer overflow at run time: an error of the database, not a constraint on the row.
                ? "CREATE TRIGGER stop BEFORE INSERT ON stock WHEN NEW.stock_no = 'S-2' BEGIN SELECT abs(-9223372036854775807 - 1); END"
                : """
                CREATE FUNCTION stop() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.stock_no = 'S-2' THEN RAISE EXCEPTION 'database down'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER stop BEFORE INSERT ON stock FOR EACH ROW EXECUTE FUNCTION stop();
                """)
        #expect(ws.sync().status == 1)
        #expect(try ws.db.count("stock") == 2)
        try ws.db.execute(ws.db.backend == .sqlite ? "DROP TRIGGER stop" : "DROP TRIGGER stop ON stock")
        // Same size, other content: a price digit changed.
        let claimed = try #require(ws.files("acme-stock", "processing").first)
        let path = ws.dir.file("drops/acme-stock/processing/\(claimed)")
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: ",105,", with: ",106,")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let run = ws.sync()
        #expect(run.status == 1)
        #expect(run.out.contains("content changed since loading started"), "\(run.out)")
        #expect(ws.files("acme-stock", "quarantine").contains { $0.hasSuffix("stock.csv") })
        #expect(try ws.db.count("stock") == 2, "nothing of the changed file was loaded")
    }
}
