import Foundation
import Logging
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// `oemsync sync FEED --once` / `oemsync sync --all --once`: one pass of the chosen feeds now.
///
/// The database is opened and checked before any file is touched: when it is unreachable or not
/// migrated, the run stops with exit 1 and every drop file stays where it was. Mappings are compiled
/// against the live database's tables (exit 78 when one does not fit).
public enum SyncCommand {
    public struct Options: Sendable {
        public var configPath: String
        public var feeds: [String]
        public var all: Bool
        public var json: Bool
        /// Load dropped files whose content the feed loaded before (`--reload-duplicates`).
        public var reloadDuplicates: Bool

        public init(configPath: String, feeds: [String], all: Bool, json: Bool = false, reloadDuplicates: Bool = false) {
            self.configPath = configPath
            self.feeds = feeds
            self.all = all
            self.json = json
            self.reloadDuplicates = reloadDuplicates
        }
    }

    /// - Parameters:
    ///   - services: what REST feeds share (tests pass one with their own clock); nil: the real ones.
    ///   - interrupts: SIGINT/SIGTERM, installed by the executable: a signal stops the run after its
    ///     batch in flight; the report is printed and the status is 128 + the signal.
    public static func run(
        _ options: Options, logger: Logger, console: Console, services: SourceServices? = nil, interrupts: Interrupts? = nil
    ) -> Int32 {
        let loaded = ConfigurationLoader().load(path: options.configPath)
        let renderer = DiagnosticRenderer(sources: loaded.redactedText.map { [options.configPath: $0] } ?? [:])
        if !loaded.diagnostics.isEmpty { console.report(loaded.diagnostics, renderer) }
        guard let configuration = loaded.configuration else { return ExitStatus.config }

        var selected = configuration.feeds
        if !options.all {
            let unknown = options.feeds.filter { configuration.feed(named: $0) == nil }
            if !unknown.isEmpty {
                let known = configuration.feeds.map(\.name).joined(separator: ", ")
                console.err("oemsync sync: unknown feed \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (feeds: \(known))\n")
                return ExitStatus.usage
            }
            selected = options.feeds.compactMap { configuration.feed(named: $0) }
        }

        let database: any DealerDatabase
        let catalog: SchemaCatalog
        do {
            database = try DatabaseOpener.open(configuration.database)
            let verdict = try SchemaGate.check(database, displayName: configuration.database.displayName)
            if let status = verdict.exitStatus {
                console.err("oemsync sync: \(verdict.message ?? ""); no file was touched\n")
                return status
            }
            catalog = try database.catalog()
        } catch {
            console.err("oemsync sync: \(error); no file was touched\n")
            return ExitStatus.failure
        }

        let load = Project.load(configPath: options.configPath, catalog: catalog, catalogIsComplete: true)
        let problems = load.diagnostics.filter { d in !loaded.diagnostics.contains(d) }
        if !problems.isEmpty { console.report(problems, load.renderer) }
        guard let project = load.project else { return ExitStatus.config }

        let services = services ?? SourceServices(credentials: configuration.credentials)
        var reports: [FeedReport] = []
        let control = interrupts?.control ?? .none
        for feed in selected {
            guard let plan = project.plans[feed.name] else { continue }
            var feed = feed
            if options.reloadDuplicates { feed.source = feed.source.reloadingDuplicates() }
            reports.append(FeedRunner.run(feed, plan: plan, database: database, services: services, logger: logger, control: control))
            if interrupts?.signal != nil { break }
        }
        if options.json {
            console.out(SyncReportFormat.json(reports, database: configuration.database))
        } else {
            console.out(SyncReportFormat.text(reports, database: configuration.database))
        }
        for r in reports where r.error != nil { console.err("oemsync sync: \(FileName.escapingControls(Redact.scrub(r.error!.description)))\n") }
        if let status = interrupts?.exitStatus {
            let skipped = selected.count - reports.count
            console.err("oemsync sync: interrupted; the batch in flight committed" + (skipped > 0 ? ", \(Plural.count(skipped, "feed")) not run" : "") + "\n")
            return status
        }
        return reports.contains(where: \.failed) ? ExitStatus.failure : ExitStatus.ok
    }
}

/// `oemsync db migrate`: creates or upgrades oemsync's tables and the reference dealer schema;
/// `--dry-run` says what it would apply, with the SQL, and applies nothing. A database migrated by a
/// newer oemsync is refused (exit 78).
public enum MigrateCommand {
    public static func run(configPath: String, dryRun: Bool = false, console: Console) -> Int32 {
        let loaded = ConfigurationLoader().load(path: configPath)
        console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [configPath: $0] } ?? [:]))
        guard let configuration = loaded.configuration else { return ExitStatus.config }
        do {
            let database = try DatabaseOpener.open(configuration.database)
            let name = configuration.database.displayName
            let state = try database.schemaState()
            if let newer = state.newerMessage {
                console.err("oemsync db migrate: database \(name): \(newer)\n")
                return ExitStatus.config
            }
            if dryRun {
                guard !state.pending.isEmpty else {
                    console.out("database \(name): up to date; nothing would be applied\n")
                    return ExitStatus.ok
                }
                var out = "database \(name): would apply \(state.pending.joined(separator: ", ")) (dry run: nothing applied)\n"
                for migration in Migration.all where state.pending.contains(migration.name) {
                    out += "\n-- \(migration.name)\n" + migration.sql(for: database.dialect).trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
                }
                console.out(out)
                return ExitStatus.ok
            }
            let applied = try database.migrate()
            if applied.isEmpty {
                console.out("database \(name): up to date\n")
            } else {
                console.out("database \(name): applied \(applied.joined(separator: ", "))\n")
            }
            return ExitStatus.ok
        } catch {
            console.err("oemsync db migrate: \(error)\n")
            return ExitStatus.failure
        }
    }
}

/// `oemsync db status`: each migration this binary knows, applied (when) or pending, and any the
/// database has that it does not know. Exit 0 when up to date, 1 with migrations pending, 78 when
/// the schema is newer than this binary.
public enum SchemaStatusCommand {
    public static func run(configPath: String, json: Bool, console: Console) -> Int32 {
        let loaded = ConfigurationLoader().load(path: configPath)
        console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [configPath: $0] } ?? [:]))
        guard let configuration = loaded.configuration else { return ExitStatus.config }
        let state: SchemaState
        do {
            state = try DatabaseOpener.open(configuration.database).schemaState()
        } catch {
            console.err("oemsync db status: \(error)\n")
            return ExitStatus.failure
        }
        let status = !state.unknown.isEmpty ? ExitStatus.config : !state.pending.isEmpty ? ExitStatus.failure : ExitStatus.ok
        if json {
            struct Document: Encodable {
                var database: String
                var binaryVersion: String
                var upToDate: Bool
                var applied: [SchemaState.Applied]
                var pending: [String]
                var unknown: [SchemaState.Applied]
            }
            console.out(
                CommandJSON.encode(
                    Document(
                        database: configuration.database.displayName, binaryVersion: OEMSyncVersion.current, upToDate: state.isCurrent,
                        applied: state.applied, pending: state.pending, unknown: state.unknown)))
            return status
        }
        var rows = state.applied.map { [$0.name, "applied", $0.appliedAt] }
        rows += state.pending.map { [$0, "pending", "-"] }
        rows += state.unknown.map { [$0.name, "unknown (newer)", $0.appliedAt] }
        var out = "database \(configuration.database.displayName), oemsync \(OEMSyncVersion.current)\n\n"
        out += TextTable.render(header: ["migration", "state", "applied at"], rows: rows)
        if let newer = state.newerMessage {
            out += "\n\(newer)\n"
        } else if !state.pending.isEmpty {
            out += "\n\(Plural.count(state.pending.count, "migration")) pending: `oemsync db migrate` applies them (`--dry-run` shows the SQL)\n"
        } else {
            out += "\nup to date\n"
        }
        console.out(out)
        return status
    }
}
