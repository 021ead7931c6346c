import ArgumentParser
import Foundation
import Logging
import OEMSyncCore
import OEMSyncRuntime

@main
struct OEMSync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oemsync",
        abstract: "OEM-integration middleware for car dealers: OEM feeds into the dealer database.",
        discussion: """
            Exit codes: 0 ok, 1 failure, 64 usage error, 78 configuration or mapping invalid.
            The config file is --config, else $OEMSYNC_CONFIG, else /etc/oemsync/oemsync.yaml.
            """,
        version: OEMSyncVersion.current,
        subcommands: [Check.self, MapMapping.self, Sync.self, Database.self])
}

/// Options every command that reads the config shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The config file (default: $OEMSYNC_CONFIG or /etc/oemsync/oemsync.yaml).")
    var config: String?

    var path: String {
        config ?? ProcessInfo.processInfo.environment["OEMSYNC_CONFIG"] ?? "/etc/oemsync/oemsync.yaml"
    }
}

struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error (default: info, or $OEMSYNC_LOG_LEVEL).")
    var logLevel: String?

    func bootstrap() -> Logger {
        let raw = logLevel ?? ProcessInfo.processInfo.environment["OEMSYNC_LOG_LEVEL"] ?? "info"
        let level = Logger.Level(rawValue: raw) ?? .info
        LoggingSystem.bootstrap { LogfmtLogHandler(label: $0, level: level) }
        return Logger(label: "oemsync")
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the config, the data dictionary and the mappings (no network, no database).",
        discussion: """
            Every problem is printed as file:line:column: error[CODE]: message, with the line and a caret.
            Codes are listed in Mappings/README.md. Exit 78 when anything is invalid, 0 otherwise.
            With MAPPING files and no --config, only those mappings (and the dictionary found next to them) are checked.
            """)

    @OptionGroup var config: ConfigOptions

    @Option(name: .long, help: "The data dictionary folder for MAPPING files (default: a dictionary/ folder beside the first one or up to three folders above it).")
    var dictionary: String?

    @Argument(help: "Mapping files to check on their own.")
    var mappings: [String] = []

    func run() throws {
        let configPath: String? = mappings.isEmpty || config.config != nil ? config.path : nil
        let code = CheckCommand.run(configPath: configPath, mappings: mappings, dictionary: dictionary, console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct MapMapping: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Dry-run a mapping on a sample payload: the rows it would write and every reject, writing nothing.",
        discussion: "Personal columns (personal: true in the dictionary) are masked unless --unmask is given.")

    @Argument(help: "The mapping file.")
    var mapping: String

    @Option(name: .long, help: "The sample payload: a CSV file, or a JSON payload (a saved API response) for a JSON mapping.")
    var input: String

    @Option(name: .long, help: "The data dictionary folder (default: a dictionary/ folder beside the mapping or up to three folders above it).")
    var dictionary: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .long, help: "Show personal data (phones, names) instead of masking it.")
    var unmask = false

    @Option(name: .long, help: "Rows to print in the table.")
    var limit = 50

    func run() throws {
        let code = MapCommand.run(
            .init(mapping: mapping, input: input, dictionary: dictionary, json: json, unmask: unmask, limit: limit), console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run feeds once now: `sync FEED... --once` or `sync --all --once`.",
        discussion: """
            CSV drops load every complete file; REST feeds resume or start a pull and fetch it page by page.
            Prints, per feed and source (a file, a REST pull), records read, rows written and records rejected
            (records = written + rejected).
            Exit 1 when a feed failed, a file was quarantined or a page failed; 78 when the config or a mapping
            is invalid. A REST feed parked on its daily quota or by the OEM's Retry-After is not a failure.
            """)

    @OptionGroup var config: ConfigOptions
    @OptionGroup var log: LogOptions

    @Argument(help: "The feeds to run.")
    var feeds: [String] = []

    @Flag(name: .long, help: "Run every configured feed.")
    var all = false

    @Flag(name: .long, help: "Run one pass now and exit (required).")
    var once = false

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard once else { throw ValidationError("sync runs one pass now: add --once") }
        guard all != !feeds.isEmpty else { throw ValidationError("name the feeds to run, or give --all (not both)") }
    }

    func run() throws {
        let logger = log.bootstrap()
        let code = SyncCommand.run(.init(configPath: config.path, feeds: feeds, all: all, json: json), logger: logger, console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Database: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Operate the dealer database.", subcommands: [Migrate.self])

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or upgrade the reference dealer schema and oemsync's own tables.")

        @OptionGroup var config: ConfigOptions

        func run() throws {
            let code = MigrateCommand.run(configPath: config.path, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }
}
