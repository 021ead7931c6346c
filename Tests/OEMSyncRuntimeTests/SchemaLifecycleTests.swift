import Foundation
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Testing

@Suite("Schema lifecycle: db status, migrate --dry-run, a schema newer than the binary (SQLite and PostgreSQL)")
struct SchemaLifecycleTests {
    @Test("a new database: status lists what is pending (exit 1), a dry run shows the SQL and applies nothing, migrate applies it", arguments: TestDatabase.backends)
    func pendingThenMigrated(_ backend: TestDatabase.Backend) throws {
        let db = try TestDatabase(backend, migrate: false)
        let dir = try TemporaryDirectory("schema")
        let config = try dir.write("oemsync.yaml", db.configPrologue + "feeds: {}\n")
        let before = LedgerCommand.capture { SchemaStatusCommand.run(configPath: config, json: false, console: $0) }
        #expect(before.status == ExitStatus.failure)
        #expect(before.out.split(separator: "\n").contains { $0.hasPrefix("0006-files-and-heartbeats ") && $0.hasSuffix("pending  -") }, "\(before.out)")
        let dry = LedgerCommand.capture { MigrateCommand.run(configPath: config, dryRun: true, console: $0) }
        #expect(dry.status == ExitStatus.ok)
        #expect(dry.out.contains("would apply 0001-oemsync-ledger") && dry.out.contains("CREATE TABLE oemsync_files"), "\(dry.out)")
        #expect(try db.database.pendingMigrations().count == Migration.all.count, "a dry run applies nothing")
        #expect(LedgerCommand.capture { MigrateCommand.run(configPath: config, console: $0) }.status == ExitStatus.ok)
        let after = LedgerCommand.capture { SchemaStatusCommand.run(configPath: config, json: true, console: $0) }
        #expect(after.status == ExitStatus.ok)
        let doc = try JSONSerialization.jsonObject(with: Data(after.out.utf8)) as? [String: Any]
        #expect(doc?["up_to_date"] as? Bool == true)
        #expect((doc?["applied"] as? [[String: Any]])?.count == Migration.all.count)
    }

    @Test("a schema a newer oemsync migrated: status says which migration (78); migrate, sync and the ledger commands refuse it", arguments: TestDatabase.backends)
    func newerSchema(_ backend: TestDatabase.Backend) throws {
        let ws = try Workspace(backend, feeds: ["stock": "Mappings/acme/stock.v1.yaml"])
        try ws.dropText("stock", "day1.csv", StockFeed.csv(rows: 3))
        try ws.db.execute("INSERT INTO oemsync_migrations (name, applied_at) VALUES ('0099-from-the-future', '2027-01-01T00:00:00Z')")
        let status = ws.command { SchemaStatusCommand.run(configPath: $0, json: false, console: $1) }
        #expect(status.status == ExitStatus.config)
        #expect(status.out.split(separator: "\n").contains { $0.hasPrefix("0099-from-the-future ") && $0.contains("unknown (newer)") }, "\(status.out)")
        let migrate = ws.command { MigrateCommand.run(configPath: $0, console: $1) }
        #expect(migrate.status == ExitStatus.config && migrate.err.contains("0099-from-the-future"), "\(migrate.err)")
        let sync = ws.sync()
        #expect(sync.status == ExitStatus.config)
        #expect(sync.err.contains("the database's schema is newer than this oemsync (\(OEMSyncVersion.current)) knows: it has 0099-from-the-future"), "\(sync.err)")
        #expect(ws.files("stock") == ["day1.csv"], "no file touched")
        let feedStatus = ws.command { StatusCommand.run(configPath: $0, json: false, console: $1) }
        #expect(feedStatus.status == ExitStatus.config)
    }
}
