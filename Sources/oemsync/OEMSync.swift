import ArgumentParser
import Foundation
import Logging
import OEMSyncCore
import OEMSyncRuntime
import OEMSyncMapping

@main
struct OEMSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oemsync",
        abstract: "OEM-integration middleware for car dealers: OEM feeds into the dealer database.",
        discussion: """
            Exit codes: 0 ok, 1 failure, 64 usage error, 78 configuration or mapping invalid.
            The config file is --config, else $OEMSYNC_CONFIG, else /etc/oemsync/oemsync.yaml.
            """,
        version: OEMSyncVersion.current,
        subcommands: [
            Check.self, MapMapping.self, Validate.self, Sync.self, Run.self, Status.self, Windows.self, Batches.self, Replay.self, Checkpoint.self,
            Database.self, Doctor.self, Kinds.self, Trigger.self,
        ])
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

    @Option(name: .long, help: "Log format on stderr: logfmt or json (default: logfmt, or $OEMSYNC_LOG_FORMAT).")
    var logFormat: String?

    func validate() throws {
        if let logFormat, !["logfmt", "json"].contains(logFormat) { throw ValidationError("--log-format is logfmt or json") }
    }

    /// Sets up logging; returns the logger and the console whose error side follows the format
    /// (JSON lines, journal priorities).
    func bootstrap() -> (Logger, Console) {
        let env = ProcessInfo.processInfo.environment
        let raw = logLevel ?? env["OEMSYNC_LOG_LEVEL"] ?? "info"
        let format = LogOutput.Format(rawValue: logFormat ?? env["OEMSYNC_LOG_FORMAT"] ?? "logfmt") ?? .logfmt
        let output = LogOutput(format: format, level: Logger.Level(rawValue: raw) ?? .info)
        LoggingSystem.bootstrap { output.handler(label: $0) }
        return (Logger(label: "oemsync"), output.console())
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

    @Option(name: .long, help: "The sample payload: a CSV file, a JSON payload (a saved API response) for a JSON mapping, or an XML payload (a saved SOAP response) for an XML mapping.")
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
            CSV drops load every complete file; REST and SOAP feeds resume or start a pull and fetch it page by
            page (a SOAP answer is spooled to disk, checked whole, then committed in batches of batch_rows; a
            message whose BODID the ledger has is skipped).
            Prints, per feed and source (a file, a REST or SOAP pull), records read, rows written and records
            rejected (records = written + rejected).
            Exit 1 when a feed failed, a file was quarantined or a page failed; 78 when the config or a mapping
            is invalid. An HTTP feed parked on its daily quota or by the OEM's Retry-After is not a failure.
            SIGINT or SIGTERM stops the run after the batch in flight, which commits with its checkpoint; the
            report is printed and the exit status is 130 (SIGINT) or 143 (SIGTERM). A second signal stops at
            once: the batch in flight rolls back and the next run resumes from the last committed one.
            A dropped file whose content the feed loaded before is skipped with a ledger note naming the
            earlier batch (--reload-duplicates loads it).
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

    @Flag(name: .long, help: "Load dropped files whose content (SHA-256) the feed loaded before, instead of skipping them.")
    var reloadDuplicates = false

    func validate() throws {
        guard once else { throw ValidationError("sync runs one pass now: add --once") }
        guard all != !feeds.isEmpty else { throw ValidationError("name the feeds to run, or give --all (not both)") }
    }

    func run() throws {
        let (logger, console) = log.bootstrap()
        let interrupts = Interrupts()
        interrupts.install { _ in logger.notice("interrupted: stopping after the batch in flight (a second signal aborts it)") }
        let code = SyncCommand.run(
            .init(configPath: config.path, feeds: feeds, all: all, json: json, reloadDuplicates: reloadDuplicates), logger: logger,
            console: console, interrupts: interrupts)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The daemon: every feed on its schedule and windows, until stopped (systemd Type=notify).",
        discussion: """
            Each feed runs on its schedule (every: or cron:, in its timezone) and never in a blackout or outside its \
            allowed windows; no batch starts that would not finish before a window closes (drain_margin). A sync that \
            meets a window stops after its batch in flight, checkpointed, and resumes when the window opens. A feed \
            whose daily quota is spent waits for the quota's next day. A failed run is retried sooner, backing off \
            from 30s to 15m.

            systemd: READY=1 once config, mappings and database are usable (a database that is down is waited for), \
            STATUS= lines, WATCHDOG=1 while healthy, RELOADING=1 and STOPPING=1. SIGTERM: syncs finish their batch \
            in flight, then exit 0. SIGHUP: reload config and mappings once they validate; otherwise the running \
            ones stay and the log says why. Exit 78 when the config or a mapping is invalid at start.

            Metrics (daemon: metrics: 127.0.0.1:9464): /metrics, /healthz, /readyz.
            """)

    @OptionGroup var config: ConfigOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let (logger, console) = log.bootstrap()
        let code = await RunCommand.run(configPath: config.path, logger: logger, console: console)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Trigger: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running daemon to run a feed now (through its control socket, daemon.control).",
        discussion: "Exit 0 when the daemon took the request, 64 for a feed it does not run, 1 when no daemon answers.")

    @OptionGroup var config: ConfigOptions

    @Argument(help: "The feed.")
    var feed: String

    func run() throws {
        let code = TriggerCommand.run(configPath: config.path, feed: feed, console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Kinds: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The source kinds a feed can have, and a kind's `source:` keys with their defaults.",
        discussion: "From this oemsync alone: no config is read.")

    @Argument(help: "A kind (csv-drop, rest, soap): list its keys.")
    var kind: String?

    func run() throws {
        let code = KindsCommand.run(kind: kind, console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Windows: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "When a feed will and won't run: its open and closed periods in its own time zone, and its cron run times.",
        discussion: "From the config alone. Times are the feed's wall-clock time, with the UTC offset in force.")

    @OptionGroup var config: ConfigOptions

    @Argument(help: "The feed.")
    var feed: String

    @Option(name: .long, help: "How many days to show.")
    var days = 7

    @Option(name: .long, help: "The first day (YYYY-MM-DD, from its midnight in the feed's zone); default: now.")
    var from: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...366).contains(days) else { throw ValidationError("--days is 1 to 366") }
        if let from, Self.date(from) == nil { throw ValidationError("--from is a date, YYYY-MM-DD") }
    }

    static func date(_ s: String) -> CivilDate? {
        let p = s.split(separator: "-")
        guard p.count == 3, let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]) else { return nil }
        return CivilDate(year: y, month: m, day: d)
    }

    func run() throws {
        let code = WindowsCommand.run(
            configPath: config.path, feed: feed, days: days, from: from.flatMap(Self.date), json: json, console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a host before enabling the service: config, database, secrets, drops, OEMs, metrics, clock.",
        discussion: """
            One line per check, ok, warn or fail, each problem with its fix: the config and mappings valid \
            (and against the live tables), the database reachable, migrated and durable, every secret file \
            readable by the service user (a systemd credential found where the unit loads it from), each drop \
            directory writable with processing/, archive/ and quarantine/ on its filesystem, each OEM's OAuth2 \
            token endpoint answering (a token only, no data), the metrics address free, the clock in step with \
            the database server. Run it as root: it judges access for the service user (--user).
            Exit 0 when no check failed, 1 otherwise, 78 when the config cannot be read.
            """)

    @OptionGroup var config: ConfigOptions

    @Option(name: .long, help: "The user the service runs as (default: oemsync when it exists, else you).")
    var user: String?

    @Option(name: .long, help: "The systemd unit whose credentials /run/credentials/UNIT/… paths name.")
    var unit = "oemsync.service"

    @Flag(name: .long, help: "No network: skip the OEMs' token requests.")
    var offline = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let code = DoctorCommand.run(
            .init(configPath: config.path, user: user, unit: unit, json: json, offline: offline), console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Database: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Operate the dealer database: its schema and oemsync's own tables.", subcommands: [Migrate.self, Status.self])

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or upgrade the reference dealer schema and oemsync's own tables.",
            discussion: """
                Applies the migrations this oemsync knows and the database lacks, each in its own transaction. \
                A database migrated by a newer oemsync is refused (exit 78).
                """)

        @OptionGroup var config: ConfigOptions

        @Flag(name: .long, help: "Say what would be applied, with its SQL, and apply nothing.")
        var dryRun = false

        func run() throws {
            let code = MigrateCommand.run(configPath: config.path, dryRun: dryRun, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The schema's migrations: applied (when), pending, and unknown ones a newer oemsync applied.",
            discussion: """
                Exit 0 when up to date, 1 with migrations pending (`oemsync db migrate`), 78 when the database \
                has migrations this oemsync does not know: then sync, run and the ledger commands refuse it too.
                """)

        @OptionGroup var config: ConfigOptions

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            let code = SchemaStatusCommand.run(configPath: config.path, json: json, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where every feed stands: last batch, figures, open rejects, failures, checkpoint and lag.",
        discussion: """
            From the ledger in the dealer database. Lag: for a REST feed, how far the newest change \
            committed lies behind now; for a SOAP feed, how long ago its last complete pull started; \
            for a CSV drop, the files waiting and the age of the oldest.

            States: never run, ok, rejects (open rejects wait for a replay), failing (the last batch failed). \
            The daemon column is what `oemsync run` last recorded: idle, running, in window, parked on quota, \
            failing, stopped; with the next run.
            """)

    @OptionGroup var config: ConfigOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let code = StatusCommand.run(configPath: config.path, json: json, console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Batches: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The batch ledger: one entry per committed batch (a CSV chunk, a REST page, a replay).",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List batches, newest first.")

        @OptionGroup var config: ConfigOptions

        @Option(name: .long, help: "Only this feed.")
        var feed: String?

        @Option(name: .long, help: "Only batches with this status: ok, partial (some records rejected), failed.")
        var status: String?

        @Option(name: .long, help: "Only batches started since: 2026-12-01, 2026-12-01T08:00:00Z, or an age (90m, 24h, 7d).")
        var since: String?

        @Option(name: .long, help: "At most this many.")
        var limit = 50

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            let code = BatchesCommand.list(
                .init(configPath: config.path, feed: feed, status: status, since: since, limit: limit, json: json), console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One batch: its figures, position, mapping and dictionary versions, errors, rejects by reason with samples, replays.",
            discussion: """
                Rejected values can be personal data; they are shown only with --show-values. Errors an OEM or a \
                database wrote are stored masked (phone and ID numbers, e-mail addresses, keys, and every word \
                that may be a name); --show-values also prints the stored payload as received, where the OEM's own \
                words are.
                """)

        @OptionGroup var config: ConfigOptions

        @Argument(help: "The batch id (from `batches list`).")
        var id: Int64

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        @Flag(name: .long, help: "Show the rejected values themselves, and the stored payload as received.")
        var showValues = false

        func run() throws {
            let code = BatchesCommand.show(configPath: config.path, id: id, json: json, showValues: showValues, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Map stored payloads again with the current mappings and dictionary, and write the result.",
        discussion: """
            Select batches by id, by feed and status, or the open rejects of one reason. Each replay is a new \
            ledger entry linked to the original; the checkpoint does not move, and rows a later batch wrote \
            are left alone.

            The open rejects of the replayed records are resolved; a record rejected again counts one more \
            attempt, and after 3 it is flagged and left out (--force to replay it anyway).

            --dry-run does everything in a transaction that is rolled back: the figures are exact and \
            nothing is written. Personal columns in the sample are masked unless --unmask.

            Exit 0 when every batch was replayed, 1 when one could not be, 78 when the config or a mapping \
            is invalid.
            """)

    @OptionGroup var config: ConfigOptions

    @Argument(help: "Batch ids to replay.")
    var ids: [Int64] = []

    @Option(name: .long, help: "Replay this feed's batches with --status.")
    var feed: String?

    @Option(name: .long, help: "With --feed: failed (not yet replayed successfully) or partial (with open rejects).")
    var status: String?

    @Flag(name: .long, help: "Replay the records of open rejects (with --reason; --feed to narrow).")
    var rejects = false

    @Option(name: .long, help: "With --rejects: the reason code (e.g. lookup.missing, vin.check_digit).")
    var reason: String?

    @Flag(name: .long, help: "Show what would be inserted, updated, unchanged and rejected; write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Replay flagged records too.")
    var force = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "Show personal data in the sample instead of masking it.")
    var unmask = false

    func validate() throws {
        let ways = [!ids.isEmpty, status != nil, rejects].filter { $0 }.count
        guard ways == 1 else { throw ValidationError("choose one: batch ids, --feed F --status S, or --rejects --reason CODE") }
        if status != nil, feed == nil { throw ValidationError("--status needs --feed") }
        if let status, !["failed", "partial"].contains(status) { throw ValidationError("--status is failed or partial") }
        if rejects, reason == nil { throw ValidationError("--rejects needs --reason CODE") }
        if !rejects, reason != nil { throw ValidationError("--reason goes with --rejects") }
        if !ids.isEmpty, feed != nil { throw ValidationError("--feed goes with --status or --rejects, not with batch ids") }
    }

    func run() throws {
        let selection: OEMSyncRuntime.Replay.Selection
        if rejects, let reason {
            selection = .rejects(reason: reason, feed: feed)
        } else if let feed, let status {
            selection = .feed(feed, status: status)
        } else {
            selection = .batches(ids)
        }
        let code = ReplayCommand.run(
            .init(configPath: config.path, selection: selection, dryRun: dryRun, force: force, json: json, unmask: unmask), console: .standard)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Checkpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show, set or reset a feed's checkpoint (the position after its last committed batch).",
        discussion: "Changes are logged with the value they replaced (oemsync_checkpoint_changes).",
        subcommands: [Show.self, Set.self, Reset.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the stored checkpoint.")
        @OptionGroup var config: ConfigOptions
        @Argument(help: "The feed.") var feed: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let code = CheckpointCommand.run(configPath: config.path, feed: feed, action: .show, yes: false, json: json, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the checkpoint with VALUE (checked to be one of the feed's kind).")
        @OptionGroup var config: ConfigOptions
        @Argument(help: "The feed.") var feed: String
        @Argument(help: "The checkpoint, as `checkpoint show FEED` prints it.") var value: String
        @Flag(name: .long, help: "Confirm.") var yes = false

        func run() throws {
            let code = CheckpointCommand.run(configPath: config.path, feed: feed, action: .set(value), yes: yes, json: false, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the checkpoint: the next run starts from the beginning (upserts make that harmless).")
        @OptionGroup var config: ConfigOptions
        @Argument(help: "The feed.") var feed: String
        @Flag(name: .long, help: "Confirm.") var yes = false

        func run() throws {
            let code = CheckpointCommand.run(configPath: config.path, feed: feed, action: .reset, yes: yes, json: false, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate VINs or phone numbers as the mappings do: `validate vin VIN…`, `validate phone NUMBER… --region CN`.",
        discussion: "Without values, reads one per line from standard input. Exit 0 when every value is valid (a warning counts as valid), 1 otherwise.",
        subcommands: [VIN.self, Phone.self])

    /// The values given, or the lines of standard input when there are none.
    static func values(_ given: [String]) -> [String] {
        guard given.isEmpty else { return given }
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) {
            if !line.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(line) }
        }
        return lines
    }

    struct VIN: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vin",
            abstract: "Check VINs: characters, length, placeholders, check digit, year code; decode region, country and model year.",
            discussion: """
                strict: the check digit and the year code must be right (North America, China). advisory: a wrong \
                check digit is a warning. auto (default): strict for WMIs 1-5 and L, advisory elsewhere.
                """)

        @Argument(help: "The VINs (default: one per line from standard input).")
        var vins: [String] = []

        @Option(name: .long, help: "strict, advisory or auto.")
        var mode: String = "auto"

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func validate() throws {
            guard VINValidator.Mode(rawValue: mode) != nil else { throw ValidationError("--mode is strict, advisory or auto") }
        }

        func run() throws {
            let code = ValidateCommand.vin(Validate.values(vins), mode: VINValidator.Mode(rawValue: mode)!, json: json, console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Phone: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "phone",
            abstract: "Parse phone numbers to E.164 and check them by number type, with libphonenumber's rules and metadata.")

        @Argument(help: "The numbers (default: one per line from standard input).")
        var numbers: [String] = []

        @Option(name: .long, help: "The default region for numbers without a country code: an ISO 3166 code (CN, US, DE, GB, JP, KR, HK, TW, ...; \(PhoneValidator.supportedRegions.count) regions).")
        var region: String = "CN"

        @Option(name: .long, help: "Several numbers in one field: first (take it, with a warning) or reject.")
        var multiple: String = "first"

        @Option(name: .long, help: "Only numbers of these types are valid, comma-separated (mobile, fixed_line, toll_free, shared_cost, voip, ...); default: every type.")
        var types: String?

        var numberTypes: Set<PhoneNumberType>? {
            types.map { Set($0.split(separator: ",").compactMap { PhoneNumberType(rawValue: $0.trimmingCharacters(in: .whitespaces)) }) }
        }

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func validate() throws {
            guard PhoneValidator.Multiple(rawValue: multiple) != nil else { throw ValidationError("--multiple is first or reject") }
            guard PhoneValidator.supports(region: region) else {
                let hint = PhoneValidator.regionHint(region).map { " (did you mean \($0)?)" } ?? ""
                throw ValidationError("--region \(region) is not a region libphonenumber knows\(hint)")
            }
            for name in types?.split(separator: ",") ?? [] where PhoneNumberType(rawValue: name.trimmingCharacters(in: .whitespaces)) == nil {
                let known = PhoneNumberType.allCases.filter { $0 != .unknown }.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--types: '\(name)' is not a number type (\(known))")
            }
        }

        func run() throws {
            let code = ValidateCommand.phone(
                Validate.values(numbers), region: region, multiple: PhoneValidator.Multiple(rawValue: multiple)!, types: numberTypes, json: json,
                console: .standard)
            if code != 0 { throw ExitCode(code) }
        }
    }
}
