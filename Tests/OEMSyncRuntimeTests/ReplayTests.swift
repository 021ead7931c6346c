import Foundation
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Testing

/// Replays from the ledger's stored payloads, through the commands an engineer runs, on real
/// databases: fixed code tables, dry runs, flagged records, newer rows, database refusals.
@Suite("Replay from the ledger (SQLite and PostgreSQL)")
struct ReplayTests {
    static let stockMapping = "Mappings/acme/stock.v1.yaml"

    /// A copy of the repository's dictionary that a test may edit (a fixed code table).
    final class Dictionary: @unchecked Sendable {
        let dir: TemporaryDirectory
        var path: String { dir.file("dictionary") }

        init() throws {
            dir = try TemporaryDirectory("dict")
            try FileManager.default.copyItem(atPath: Fixture.repository("Mappings/dictionary"), toPath: dir.file("dictionary"))
        }

        /// Adds ACME model Q9Z (missing from the code table) and bumps the dictionary's version.
        func addModelQ9Z() throws {
            let codes = path + "/codes/acme.yaml"
            var text = try String(contentsOfFile: codes, encoding: .utf8)
            text = text.replacingOccurrences(of: "      M2C: ACME-M2-COUPE\n", with: "      M2C: ACME-M2-COUPE\n      Q9Z: ACME-Q9-SUV\n")
            try text.write(toFile: codes, atomically: true, encoding: .utf8)
            let main = path + "/dictionary.yaml"
            let dict = try String(contentsOfFile: main, encoding: .utf8).replacingOccurrences(of: "version: \"2025.12\"", with: "version: \"2025.12.1\"")
            try dict.write(toFile: main, atomically: true, encoding: .utf8)
        }
    }

    func replay(_ ws: Workspace, _ selection: Replay.Selection, dryRun: Bool = false, force: Bool = false, json: Bool = false)
        -> (status: Int32, out: String, err: String)
    {
        ws.command { config, console in
            ReplayCommand.run(.init(configPath: config, selection: selection, dryRun: dryRun, force: force, json: json), console: console)
        }
    }

    /// Everything a replay could touch, as text: the dealer table and oemsync's own tables.
    func snapshot(_ db: TestDatabase) throws -> [[String?]] {
        var rows: [[String?]] = []
        for sql in [
            "SELECT * FROM stock ORDER BY dealer_code, vin", "SELECT * FROM oemsync_batches ORDER BY id",
            "SELECT * FROM oemsync_rejects ORDER BY id", "SELECT * FROM oemsync_warnings ORDER BY id",
            "SELECT * FROM oemsync_checkpoints ORDER BY feed", "SELECT batch_id, size FROM oemsync_payloads ORDER BY batch_id",
        ] {
            rows += try db.query(sql)
            rows.append(["--"])
        }
        return rows
    }

    @Test("a fixed code table turns rejects into rows; the replay is a linked ledger entry and the checkpoint stays", arguments: TestDatabase.backends)
    func fixedCodeTable(_ backend: TestDatabase.Backend) throws {
        let dictionary = try Dictionary()
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping], dictionary: dictionary.path)
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv")
        #expect(ws.sync().status == 0)
        #expect(try ws.db.count("stock") == 6)
        #expect(try ws.db.count("oemsync_rejects", where: "reason = 'lookup.missing'") == 1)
        let checkpoint = try ws.db.database.checkpoint(feed: "acme-stock")
        // The partial batch's payload is its rejected records, with their lines.
        let rejectLines = try ws.db.query("SELECT line FROM oemsync_rejects WHERE batch_id = 1 ORDER BY line").map { $0[0] ?? "" }
        #expect(try ws.db.query("SELECT lines FROM oemsync_payloads WHERE batch_id = 1") == [["[" + rejectLines.joined(separator: ",") + "]"]])

        try dictionary.addModelQ9Z()
        let run = replay(ws, .batches([1]))
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("replayed as batch 2"), "\(run.out)")
        // LSVAB2180S2100005 (model Q9Z) is written now, with the dealer's code.
        #expect(try ws.db.query("SELECT model_code, oemsync_batch_id FROM stock WHERE vin = 'LSVAB2180S2100005'") == [["ACME-Q9-SUV", "2"]])
        #expect(try ws.db.count("stock") == 7)
        let ledger = try ws.db.query("SELECT id, replay_of, status, records_in, written, rejected, dictionary_version FROM oemsync_batches ORDER BY id")
        // The partial batch kept its five rejected records (the rest is in the database): those are replayed.
        #expect(ledger[1] == ["2", "1", "partial", "5", "1", "4", "2025.12.1"])
        // Every open reject of batch 1 is resolved by batch 2; the four still broken are rejected again, attempt 1.
        #expect(try ws.db.count("oemsync_rejects", where: "batch_id = 1 AND resolved_by = 2") == 5)
        #expect(try ws.db.count("oemsync_rejects", where: "resolved_by IS NULL") == 4)
        #expect(try ws.db.count("oemsync_rejects", where: "batch_id = 2 AND attempts = 1") == 4)
        #expect(try ws.db.count("oemsync_rejects", where: "reason = 'lookup.missing' AND resolved_by IS NULL") == 0)
        #expect(try ws.db.database.checkpoint(feed: "acme-stock") == checkpoint, "a replay never moves the checkpoint")
        // The rejects keep their lines in the original file, through the stored payload.
        let original = try ws.db.query("SELECT line FROM oemsync_rejects WHERE batch_id = 1 AND reason <> 'lookup.missing' ORDER BY line")
        let replayed = try ws.db.query("SELECT line FROM oemsync_rejects WHERE batch_id = 2 ORDER BY line")
        #expect(replayed == original)
        #expect(try ws.db.query("SELECT line FROM oemsync_rejects WHERE reason = 'lookup.missing'") == [["7"]])
    }

    @Test("--dry-run writes nothing and tells exactly what the replay then does", arguments: TestDatabase.backends)
    func dryRun(_ backend: TestDatabase.Backend) throws {
        let dictionary = try Dictionary()
        // With ok payloads kept, a partial batch keeps its whole payload too: every record is replayed.
        let ws = try Workspace(
            backend, feeds: ["acme-stock": Self.stockMapping], extraFeed: "    keep_ok_payloads: 1d", dictionary: dictionary.path)
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv")
        #expect(ws.sync().status == 0)
        try dictionary.addModelQ9Z()
        try ws.db.execute("UPDATE stock SET location = 'moved' WHERE vin = 'LSVAB2181S2100000'")

        let before = try snapshot(ws.db)
        let dry = replay(ws, .batches([1]), dryRun: true, json: true)
        #expect(dry.status == 0, "\(dry.err)")
        #expect(try snapshot(ws.db) == before, "a dry run changes nothing")

        let real = replay(ws, .batches([1]), json: true)
        #expect(real.status == 0)
        func figures(_ json: String) throws -> [String: Int] {
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let first = try #require((doc["replays"] as? [[String: Any]])?.first)
            var out: [String: Int] = [:]
            for key in ["records", "inserted", "updated", "unchanged", "superseded", "rejected", "resolved", "rejected_again"] { out[key] = first[key] as? Int }
            return out
        }
        let expected = ["records": 12, "inserted": 1, "updated": 1, "unchanged": 5, "superseded": 1, "rejected": 4, "resolved": 5, "rejected_again": 4]
        #expect(try figures(dry.out) == expected)
        #expect(try figures(real.out) == expected)
        // The dry run's sample shows the row that changes, old value first.
        let doc = try JSONSerialization.jsonObject(with: Data(dry.out.utf8)) as? [String: Any]
        let sample = ((doc?["replays"] as? [[String: Any]])?.first?["sample_changes"] as? [[String: Any]]) ?? []
        let moved = sample.first { ($0["key"] as? [String]) == ["D001", "LSVAB2181S2100000"] }
        #expect((moved?["changes"] as? [[String: Any]])?.first?["old"] as? String == "moved", "\(sample)")
        #expect(sample.contains { ($0["is_new"] as? Bool) == true && ($0["key"] as? [String]) == ["D001", "LSVAB2180S2100005"] })
        #expect(try ws.db.query("SELECT location FROM stock WHERE vin = 'LSVAB2181S2100000'") == [["A1"]])
    }

    @Test("a record rejected by three replays is flagged and left out, unless forced", arguments: TestDatabase.backends)
    func flagged(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping])
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv")
        #expect(ws.sync().status == 0)
        for attempt in 1...3 {
            let run = replay(ws, .rejects(reason: "lookup.missing", feed: nil))
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("1 record:"), "attempt \(attempt): \(run.out)")
        }
        #expect(try ws.db.query("SELECT attempts FROM oemsync_rejects WHERE reason = 'lookup.missing' AND resolved_by IS NULL") == [["3"]])
        let status = ws.command { StatusCommand.run(configPath: $0, json: false, console: $1) }
        #expect(status.out.contains("5 (1 flagged)"), "\(status.out)")

        let fourth = replay(ws, .rejects(reason: "lookup.missing", feed: nil))
        #expect(fourth.status == 0)
        #expect(fourth.out.contains("nothing replayed; 1 flagged reject left out (--force to replay)"), "\(fourth.out)")
        #expect(try ws.db.count("oemsync_batches") == 4, "no ledger entry for a replay that replays nothing")
        let forced = replay(ws, .rejects(reason: "lookup.missing", feed: nil), force: true)
        #expect(forced.out.contains("1 record:"), "\(forced.out)")
        #expect(try ws.db.query("SELECT attempts FROM oemsync_rejects WHERE reason = 'lookup.missing' AND resolved_by IS NULL") == [["4"]])
    }

    @Test("a replay never puts older data over a row a later batch wrote", arguments: TestDatabase.backends)
    func newerRowsLeft(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping], extraFeed: "    keep_ok_payloads: 1d")
        let header = "DealerCode,VIN,StockNo,Status,Model,Color,InDate,Price,Location,ReservedPhone\n"
        let v0 = FailureModeTests.vin(0)
        let v1 = FailureModeTests.vin(1)
        try ws.dropText("acme-stock", "a.csv", header + "D001,\(v0),S-0,20,A3S,0Q,2025-12-02,100,old,\nD001,\(v1),S-1,20,A3S,0Q,2025-12-02,100,old,\nD001,BAD,S-9,20,A3S,0Q,2025-12-02,1,x,\n")
        #expect(ws.sync().status == 0)
        try ws.dropText("acme-stock", "b.csv", header + "D001,\(v0),S-0,20,A3S,0Q,2025-12-02,200,new,\n")
        #expect(ws.sync().status == 0)
        let run = replay(ws, .batches([1]), json: true)
        #expect(run.status == 0, "\(run.err)")
        #expect(try ws.db.query("SELECT location FROM stock ORDER BY vin") == [["new"], ["old"]])
        #expect(try ws.db.query("SELECT newer, unchanged FROM oemsync_batches WHERE id = 3") == [["1", "1"]])
        // (batch 2, the later file, kept its payload too: keep_ok_payloads.)
        // A second replay of the same batch may update what the first replay wrote.
        try ws.db.execute("UPDATE stock SET oemsync_batch_id = 3 WHERE vin = '\(v1)'")
        try ws.db.execute("UPDATE stock SET location = 'edited' WHERE vin = '\(v1)'")
        #expect(replay(ws, .batches([3])).status == 0)
        #expect(try ws.db.query("SELECT location FROM stock ORDER BY vin") == [["new"], ["old"]])
    }

    @Test("a row the database refuses is a reject with its message; replayed once the database accepts it", arguments: TestDatabase.backends)
    func refusedThenReplayed(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping])
        switch backend {
        case .sqlite: try ws.db.execute("CREATE TRIGGER hall_full BEFORE INSERT ON stock WHEN NEW.location = 'Hall' BEGIN SELECT RAISE(ABORT, 'hall full'); END")
        case .postgres: try ws.db.execute("ALTER TABLE stock ADD CONSTRAINT hall_full CHECK (location <> 'Hall')")
        }
        var text = FailureModeTests.stockCSV(rows: 40)
        text = text.replacingOccurrences(of: ",Hall,", with: ",Yard,")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var edited = lines
        for i in [1, 17, 40] { edited[i] = edited[i].replacingOccurrences(of: ",Yard,", with: ",Hall,") }
        try ws.dropText("acme-stock", "stock.csv", edited.joined(separator: "\n"))
        let run = ws.sync()
        #expect(run.status == 0, "\(run.err)")
        #expect(try ws.db.count("stock") == 37)
        #expect(try ws.db.query("SELECT line, reason FROM oemsync_rejects ORDER BY line") == [["2", "db.constraint"], ["18", "db.constraint"], ["41", "db.constraint"]])
        #expect(try ws.db.query("SELECT status, refused FROM oemsync_batches") == [["partial", "3"]])

        let messages = try ws.db.query("SELECT message FROM oemsync_rejects").compactMap { $0[0] }
        #expect(messages.count == 3 && messages.allSatisfy { !$0.contains("Hall") }, "values stay out of the message: \(messages)")
        // Refused again by a replay: one more attempt, as for any reject.
        #expect(replay(ws, .feed("acme-stock", status: "partial")).status == 0)
        #expect(try ws.db.query("SELECT attempts FROM oemsync_rejects WHERE resolved_by IS NULL") == [["1"], ["1"], ["1"]])

        switch backend {
        case .sqlite: try ws.db.execute("DROP TRIGGER hall_full")
        case .postgres: try ws.db.execute("ALTER TABLE stock DROP CONSTRAINT hall_full")
        }
        let replayed = replay(ws, .feed("acme-stock", status: "partial"))
        #expect(replayed.status == 0, "\(replayed.err)")
        #expect(try ws.db.count("stock") == 40)
        #expect(try ws.db.count("oemsync_rejects", where: "resolved_by IS NULL") == 0)
        // Nothing left to replay: the feed's partial batches have no open rejects.
        let again = replay(ws, .feed("acme-stock", status: "partial"))
        #expect(again.err.contains("nothing to replay"))
    }

    @Test("a REST page is replayed from its stored JSON, rejects keeping the record's JSON", arguments: TestDatabase.backends)
    func restPage(_ backend: TestDatabase.Backend) async throws {
        try await withSimulator { oem in
            let ws = try RESTWorkspace(backend, feeds: [RESTWorkspace.ordersV1(oem)], oem: oem)
            #expect(try await ws.sync().status == 0)
            let partial = try #require(try ws.db.query("SELECT min(id) FROM oemsync_batches WHERE status = 'partial'").first?[0] ?? nil)
            let before = try ws.orders()
            let run = try await onThread {
                ws.command { ReplayCommand.run(.init(configPath: $0, selection: .batches([Int64(partial)!]), dryRun: false), console: $1) }
            }
            #expect(run.status == 0, "\(run.err)")
            #expect(try ws.orders() == before, "the same page mapped again changes nothing")
            let again = try ws.db.query("SELECT raw_record FROM oemsync_rejects WHERE attempts = 1")
            #expect(!again.isEmpty)
            #expect(again.allSatisfy { $0[0]?.hasPrefix("{") == true }, "\(again)")
        }
    }

    @Test("a REST page replays only its own records: those it dropped as delivered before belong to other batches", arguments: TestDatabase.backends)
    func restDuplicates(_ backend: TestDatabase.Backend) async throws {
        try await withSimulator { oem in
            var feed = RESTWorkspace.ordersV1(oem)
            feed.setting = "keep_ok_payloads: 1d"
            let ws = try RESTWorkspace(backend, feeds: [feed], oem: oem)
            #expect(try await ws.sync().status == 0)
            // The next pull overlaps the last: its page holds two records delivered before, and none of its own.
            #expect(try await ws.sync().status == 0)
            let last = try #require(try ws.db.query("SELECT id, duplicates, records_in FROM oemsync_batches ORDER BY id DESC").first)
            #expect(last[1] == "2" && last[2] == "0")
            #expect(try ws.db.query("SELECT lines FROM oemsync_payloads WHERE batch_id = \(last[0]!)") == [["[]"]])
            let run = try await onThread {
                ws.command { ReplayCommand.run(.init(configPath: $0, selection: .batches([Int64(last[0]!)!]), dryRun: true), console: $1) }
            }
            #expect(run.status == 1)
            #expect(run.err.contains("no records of its own"), "\(run.err)")
            // A full page replays whole: its five records, unchanged.
            let first = try #require(try ws.db.query("SELECT min(id) FROM oemsync_batches").first?[0] ?? nil)
            let whole = try await onThread {
                ws.command { ReplayCommand.run(.init(configPath: $0, selection: .batches([Int64(first)!]), dryRun: true, json: true), console: $1) }
            }
            #expect(whole.status == 0, "\(whole.err)")
            #expect(whole.out.contains("\"records\" : 5"), "\(whole.out)")
        }
    }

    @Test("a dry run over several batches, then the replay: each batch on the same connection", arguments: TestDatabase.backends)
    func severalBatches(_ backend: TestDatabase.Backend) throws {
        // Whole payloads, so that the replays write rows (PostgreSQL stages them in a temporary table).
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping], extraFeed: "    keep_ok_payloads: 1d")
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv", as: "a.csv")
        #expect(ws.sync().status == 0)
        try ws.drop("acme-stock", fixture: "feeds/csv/acme/stock-20251202.csv", as: "b.csv")
        #expect(ws.sync(reloadDuplicates: true).status == 0)
        let before = try snapshot(ws.db)
        let dry = replay(ws, .feed("acme-stock", status: "partial"), dryRun: true)
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.err.contains("replay 2/2: batch 2: 12 records, 5 rejected"), "progress for each batch: \(dry.err)")
        #expect(try snapshot(ws.db) == before)
        let real = replay(ws, .feed("acme-stock", status: "partial"))
        #expect(real.status == 0, "\(real.err)")
        #expect(try ws.db.count("oemsync_batches", where: "replay_of IS NOT NULL") == 2)
        // status counts the feed's own batches; replays apart.
        let status = ws.command { StatusCommand.run(configPath: $0, json: true, console: $1) }
        let doc = try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any]
        let summary = ((doc?["feeds"] as? [[String: Any]])?.first?["summary"]) as? [String: Any]
        #expect(summary?["records_in"] as? Int == 24)
        #expect(summary?["batches"] as? Int == 2)
        #expect(summary?["replays"] as? Int == 2)
        #expect(summary?["open_rejects"] as? Int == 10)
    }

    @Test("a batch without a stored payload cannot be replayed: exit 1 and why", arguments: TestDatabase.backends)
    func noPayload(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping])
        try ws.dropText("acme-stock", "ok.csv", FailureModeTests.stockCSV(rows: 3))
        #expect(ws.sync().status == 0)
        let run = replay(ws, .batches([1]))
        #expect(run.status == 1)
        #expect(run.err.contains("batch 1 has no stored payload"), "\(run.err)")
        let missing = replay(ws, .batches([99]))
        #expect(missing.status == 1)
        #expect(missing.err.contains("there is no batch 99"))
    }

    @Test("keep_ok_payloads keeps ok batches' payloads, and expires them", arguments: TestDatabase.backends)
    func retention(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["acme-stock": Self.stockMapping], extraFeed: "    keep_ok_payloads: 2d")
        try ws.dropText("acme-stock", "a.csv", FailureModeTests.stockCSV(rows: 3))
        #expect(ws.sync().status == 0)
        #expect(try ws.db.count("oemsync_payloads") == 1)
        #expect(replay(ws, .batches([1])).status == 0, "an ok batch with its payload replays")
        try ws.db.execute("UPDATE oemsync_payloads SET stored_at = '2020-01-01T00:00:00Z'")
        try ws.dropText("acme-stock", "b.csv", FailureModeTests.stockCSV(rows: 2, price: 500))
        #expect(ws.sync().status == 0)
        #expect(try ws.db.query("SELECT batch_id FROM oemsync_payloads") == [["3"]], "the expired one is gone, the new one kept")
    }
}
