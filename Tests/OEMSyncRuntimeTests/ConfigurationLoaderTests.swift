import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncTesting
import Testing

@Suite("Configuration file")
struct ConfigurationLoaderTests {
    func load(_ yaml: String) throws -> (ConfigurationLoader.Result, String, TemporaryDirectory) {
        let dir = try TemporaryDirectory("config")
        let path = try dir.write("oemsync.yaml", yaml)
        return (ConfigurationLoader().load(path: path), path, dir)
    }

    @Test("a complete config resolves relative paths against its own folder")
    func resolvesPaths() throws {
        let (result, _, dir) = try load(
            """
            oemsync: 1
            database:
              url: sqlite:data/dealer.db
            dictionary: Mappings/dictionary
            feeds:
              acme-stock:
                mapping: Mappings/acme/stock.v1.yaml
                source:
                  kind: csv-drop
                  directory: drops/stock
                  pattern: "STOCK_*.csv"
                  ready: marker
                  marker_suffix: .ok
                  batch_rows: 1000
            """)
        #expect(result.diagnostics.isEmpty)
        let config = try #require(result.configuration)
        let root = (dir.path as NSString).standardizingPath
        #expect(config.database.kind == .sqlite(path: root + "/data/dealer.db"))
        #expect(config.dictionaryPath == root + "/Mappings/dictionary")
        let feed = try #require(config.feed(named: "acme-stock"))
        #expect(feed.mappingPath == root + "/Mappings/acme/stock.v1.yaml")
        #expect(feed.source.csvDrop?.directory == root + "/drops/stock")
        #expect(feed.source.csvDrop?.pattern == "STOCK_*.csv")
        #expect(feed.source.csvDrop?.readiness == .marker(suffix: ".ok"))
        #expect(feed.source.csvDrop?.batchRows == 1000)
    }

    @Test("every problem is reported with its position: unknown keys, missing keys, bad values")
    func problems() throws {
        let (result, path, _) = try load(
            """
            oemsync: 1
            databse:
              url: sqlite:x.db
            feeds:
              acme-stock:
                mapping: m.yaml
                source:
                  kind: rest
                  directory: d
              acme-orders:
                mapping: m.yaml
                source:
                  kind: csv-drop
                  directory: d
                  ready: whenever
                  batch_rows: 0
            """)
        #expect(result.configuration == nil)
        let rendered = result.diagnostics.map(\.description)
        #expect(
            rendered == [
                "\(path):2:1: error[C101]: unknown key 'databse' in the config",
                "\(path):1:1: error[C102]: missing required key 'database' in the config",
                "\(path):9:7: error[C101]: unknown key 'directory' in the rest source of feed 'acme-stock'",
                "\(path):8:7: error[C102]: missing required key 'url' in the source of feed 'acme-stock'",
                "\(path):8:7: error[C102]: missing required key 'credentials' in the source of feed 'acme-stock'",
                "\(path):15:14: error[C104]: invalid ready 'whenever'",
                "\(path):16:19: error[C104]: batch_rows must be between 1 and 1000000, found 0",
            ])
        #expect(result.diagnostics[0].help == "did you mean 'database'?")
    }

    @Test("a password in the database URL is a warning, and never printed")
    func inlinePassword() throws {
        let (result, path, _) = try load(
            """
            oemsync: 1
            database:
              url: postgresql://oemsync:hunter2@db.internal:5432/dealer
            feeds: {}
            """)
        let config = try #require(result.configuration)
        #expect(result.diagnostics.map(\.code) == ["C109"])
        #expect(config.database.displayName == "postgresql://oemsync:***@db.internal:5432/dealer")
        let rendered = DiagnosticRenderer(sources: [path: result.redactedText ?? ""]).render(result.diagnostics)
        #expect(rendered.contains("url: postgresql://oemsync:***@db.internal:5432/dealer"))
        #expect(!rendered.contains("hunter2"))
    }

    @Test("the password comes from a file or the environment, and its absence is a clear error")
    func passwordSources() throws {
        let dir = try TemporaryDirectory("secret")
        let file = try dir.write("db-password", "from-file\n")
        let fromFile = DatabaseSettings(kind: .postgres(url: "postgresql://u@h/d"), passwordFile: file)
        #expect(try fromFile.password() == "from-file")
        let fromEnv = DatabaseSettings(kind: .postgres(url: "postgresql://u@h/d"), passwordEnvironment: "DB_PW")
        #expect(try fromEnv.password(environment: ["DB_PW": "from-env"]) == "from-env")
        #expect(throws: ConfigurationError.self) { try fromEnv.password(environment: [:]) }
        let missing = DatabaseSettings(kind: .postgres(url: "postgresql://u@h/d"), passwordFile: dir.file("nope"))
        #expect(throws: ConfigurationError.self) { try missing.password() }
    }

    @Test("SQLite takes no password or schema")
    func sqliteOptions() throws {
        let (result, _, _) = try load(
            """
            oemsync: 1
            database:
              url: sqlite:x.db
              password_env: PW
            feeds: {}
            """)
        #expect(result.configuration == nil)
        #expect(result.diagnostics.map(\.message) == ["password_env applies to PostgreSQL only"])
    }
}
