import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncSinks
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
        #expect((feed.source as? CSVDropSettings)?.directory == root + "/drops/stock")
        #expect((feed.source as? CSVDropSettings)?.pattern == "STOCK_*.csv")
        #expect((feed.source as? CSVDropSettings)?.readiness == .marker(suffix: ".ok"))
        #expect((feed.source as? CSVDropSettings)?.batchRows == 1000)
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
                "\(path):8:7: error[C102]: missing required key 'url' in the rest source of feed 'acme-stock'",
                "\(path):8:7: error[C102]: missing required key 'credentials' in the rest source of feed 'acme-stock'",
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

    @Test("the database's waits: defaults, durations read, each on the database it applies to")
    func databaseLimits() throws {
        let (defaults, _, _) = try load("oemsync: 1\ndatabase: {url: \"sqlite:x.db\"}\nfeeds: {}\n")
        let limits = try #require(defaults.configuration).database.limits
        #expect(limits.busyTimeout == .seconds(30) && limits.statementTimeout == .seconds(600) && limits.connectTimeout == .seconds(10))
        #expect(limits.keepalive == .seconds(30))
        #expect(limits.answerTimeout == .seconds(610), "statement_timeout + at most 10 s")

        let (pg, _, _) = try load(
            """
            oemsync: 1
            database: {url: "postgresql://o@db/dealer", connect_timeout: 3s, statement_timeout: 2m, keepalive: 15s}
            feeds: {}
            """)
        let set = try #require(pg.configuration).database.limits
        #expect(set.connectTimeout == .seconds(3) && set.statementTimeout == .seconds(120) && set.keepalive == .seconds(15))

        let (sqlite, _, _) = try load("oemsync: 1\ndatabase: {url: \"sqlite:x.db\", busy_timeout: 5s}\nfeeds: {}\n")
        #expect(try #require(sqlite.configuration).database.limits.busyTimeout == .seconds(5))

        let (wrong, _, _) = try load(
            """
            oemsync: 1
            database:
              url: sqlite:x.db
              statement_timeout: 1m
            feeds: {}
            """)
        #expect(wrong.diagnostics.map { "\($0.location?.line ?? 0) \($0.message)" } == ["4 statement_timeout applies to PostgreSQL only"])
        let (busy, _, _) = try load(
            """
            oemsync: 1
            database:
              url: postgresql://o@db/dealer
              busy_timeout: 1s
              connect_timeout: 0s
            feeds: {}
            """)
        #expect(Set(busy.diagnostics.map { "\($0.location?.line ?? 0) \($0.message)" }) == ["4 busy_timeout applies to SQLite only", "5 connect_timeout must be at least 1s"])
    }

    @Test("schedule: and daemon: are read, with their defaults")
    func schedules() throws {
        let (result, _, _) = try load(
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            daemon: {metrics: "localhost:9464", max_parallel: 4, stall_timeout: 10m}
            feeds:
              a:
                mapping: a.yaml
                source: {kind: csv-drop, directory: a}
                schedule: {cron: "*/15 6-22 * * MON-FRI", timezone: Europe/Berlin, blackout: ["02:00-04:00", "Sun 00:00-06:00"], allowed: "22:00-06:00", drain_margin: 10m}
              b:
                mapping: b.yaml
                source: {kind: csv-drop, directory: b}
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = try #require(result.configuration)
        #expect(config.daemon.metrics == MetricsEndpoint("127.0.0.1:9464"))
        #expect(config.daemon.maxParallel == 4)
        #expect(config.daemon.stallTimeout == .seconds(600))
        let a = try #require(config.feed(named: "a")).schedule
        #expect(a.trigger == .cron(try CronExpression("*/15 6-22 * * MON-FRI")))
        #expect(a.zoneName == "Europe/Berlin")
        #expect(a.blackouts.map(\.source) == ["02:00-04:00", "Sun 00:00-06:00"])
        #expect(a.allowed.map(\.source) == ["22:00-06:00"])
        #expect(a.drainMargin == .fixed(.seconds(600)))
        let b = try #require(config.feed(named: "b")).schedule
        #expect(b.trigger == .every(.seconds(300)) && b.zoneName == "UTC" && !b.hasWindows && b.drainMargin == .auto)
    }

    @Test("bad schedules and daemon settings are errors at their line", arguments: [
        ("schedule: {every: 5m, cron: \"* * * * *\"}", "give either every or cron"),
        ("schedule: {timezone: UTC}", "needs every (an interval) or cron"),
        ("schedule: {every: 0s}", "every must be at least 1s"),
        ("schedule: {cron: \"* * *\"}", "has 3"),
        ("schedule: {every: 1m, timezone: Mars/Olympus}", "unknown time zone 'Mars/Olympus'"),
        ("schedule: {every: 1m, blackout: [\"2-4\"]}", "invalid window times '2-4'"),
        ("schedule: {every: 1m, blackout: [\"00:00-24:00\"], allowed: [\"01:00-02:00\"]}", "is never open"),
        ("schedule: {every: 1m, windows: [\"01:00-02:00\"]}", "unknown key 'windows'"),
    ])
    func badSchedules(line: String, fragment: String) throws {
        let (result, path, _) = try load(
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            feeds:
              a:
                mapping: a.yaml
                source: {kind: csv-drop, directory: a}
                \(line)
            """)
        #expect(result.configuration == nil)
        let d = try #require(result.diagnostics.first { $0.message.contains(fragment) }, "\(result.diagnostics.map(\.message))")
        #expect(d.location?.file == path)
        #expect(d.location?.line == 7)
    }

    @Test("the metrics endpoint listens on loopback only")
    func metricsLoopbackOnly() throws {
        for bad in ["0.0.0.0:9464", "192.168.1.5:9464", "9464", "[::]:9464", "127.0.0.1:99999"] {
            let (result, _, _) = try load("oemsync: 1\ndatabase: {url: \"sqlite:x.db\"}\ndaemon: {metrics: \"\(bad)\"}\nfeeds: {}\n")
            #expect(result.configuration == nil, "\(bad)")
            #expect(result.diagnostics.contains { $0.message.contains("loopback address and port") }, "\(bad)")
        }
        #expect(MetricsEndpoint("[::1]:9464")?.host == "::1")
        #expect(MetricsEndpoint("127.0.0.1:0")?.port == 0)
    }
}
