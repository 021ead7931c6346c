import Foundation
import Logging
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncTesting
import Synchronization
import Testing

/// A config file, its drop directories and a real dealer database, in a temp folder: what a
/// pipeline test runs `oemsync sync` against.
final class Workspace: @unchecked Sendable {
    let dir: TemporaryDirectory
    let db: TestDatabase
    let configPath: String
    let feeds: [String: String]  // feed -> mapping (repository path)

    /// - Parameter feeds: feed name -> mapping file in the repository (`Mappings/acme/stock.v1.yaml`).
    /// - Parameter dictionary: a dictionary folder of the test's own (to change a code table between runs).
    init(
        _ backend: TestDatabase.Backend, feeds: [String: String], batchRows: Int = 5000, extraSource: String = "", extraFeed: String = "",
        dictionary: String? = nil
    ) throws {
        dir = try TemporaryDirectory("ws")
        db = try TestDatabase(backend)
        self.feeds = feeds
        var prologue = db.configPrologue
        if let dictionary { prologue = prologue.replacingOccurrences(of: Fixture.repository("Mappings/dictionary"), with: dictionary) }
        var yaml = prologue + "feeds:\n"
        for (name, mapping) in feeds.sorted(by: { $0.key < $1.key }) {
            yaml += """
                  \(name):
                    mapping: \(mapping.hasPrefix("/") ? mapping : Fixture.repository(mapping))
                    source:
                      kind: csv-drop
                      directory: drops/\(name)
                      batch_rows: \(batchRows)
                \(extraSource)
                \(extraFeed)

                """
        }
        configPath = try dir.write("oemsync.yaml", yaml)
    }

    func drop(_ feed: String, fixture: String, as name: String? = nil) throws {
        let data = try Fixture.data(fixture)
        try dir.write("drops/\(feed)/\(name ?? (fixture as NSString).lastPathComponent)", data)
    }

    func dropText(_ feed: String, _ name: String, _ text: String) throws {
        try dir.write("drops/\(feed)/\(name)", text)
    }

    func files(_ feed: String, _ folder: String = "") -> [String] {
        dir.list("drops/\(feed)/\(folder)").filter { !$0.hasPrefix(".") && !["processing", "archive", "quarantine"].contains($0) }
    }

    /// Runs `oemsync sync` in-process; returns the exit status, stdout, stderr and log lines.
    func sync(_ feedNames: [String]? = nil, json: Bool = false, reloadDuplicates: Bool = false) -> (status: Int32, out: String, err: String, logs: String) {
        let out = Mutex("")
        let err = Mutex("")
        let logs = Mutex("")
        let console = Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
        let logger = Logger(label: "test") { label in
            LogfmtLogHandler(label: label, level: .trace, stream: { line in logs.withLock { $0 += line } })
        }
        let options = SyncCommand.Options(
            configPath: configPath, feeds: feedNames ?? [], all: feedNames == nil, json: json, reloadDuplicates: reloadDuplicates)
        let status = SyncCommand.run(options, logger: logger, console: console)
        #expect((try? db.ledgerViolations()) == [], "after sync")
        return (status, out.withLock { $0 }, err.withLock { $0 }, logs.withLock { $0 })
    }

    /// Runs one of the engineers' commands in-process (`status`, `batches`, `replay`, `checkpoint`).
    func command(_ run: (String, Console) -> Int32) -> (status: Int32, out: String, err: String) {
        LedgerCommand.run(configPath: configPath, db: db, run)
    }
}

/// Runs one of the engineers' commands with a captured console, then checks the ledger still keeps its rules.
enum LedgerCommand {
    /// Runs a command with a captured console.
    static func capture(_ run: (Console) -> Int32) -> (status: Int32, out: String, err: String) {
        let out = Mutex("")
        let err = Mutex("")
        let console = Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
        let status = run(console)
        return (status, out.withLock { $0 }, err.withLock { $0 })
    }

    static func run(configPath: String, db: TestDatabase, _ run: (String, Console) -> Int32) -> (status: Int32, out: String, err: String) {
        let out = Mutex("")
        let err = Mutex("")
        let console = Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
        let status = run(configPath, console)
        #expect((try? db.ledgerViolations()) == [], "after a command")
        return (status, out.withLock { $0 }, err.withLock { $0 })
    }
}
