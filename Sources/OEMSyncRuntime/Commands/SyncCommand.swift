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
            let pending = try database.pendingMigrations()
            guard pending.isEmpty else {
                console.err(
                    "oemsync sync: database \(configuration.database.displayName) is not up to date (pending: \(pending.joined(separator: ", "))); run `oemsync db migrate`\n"
                )
                return ExitStatus.failure
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
            if options.reloadDuplicates, case .csvDrop(var drop) = feed.source {
                drop.duplicates = .load
                feed.source = .csvDrop(drop)
            }
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

/// `oemsync db migrate`: creates or upgrades oemsync's tables and the reference dealer schema.
public enum MigrateCommand {
    public static func run(configPath: String, console: Console) -> Int32 {
        let loaded = ConfigurationLoader().load(path: configPath)
        if !loaded.diagnostics.isEmpty {
            console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [configPath: $0] } ?? [:]))
        }
        guard let configuration = loaded.configuration else { return ExitStatus.config }
        do {
            let database = try DatabaseOpener.open(configuration.database)
            let applied = try database.migrate()
            let name = configuration.database.displayName
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
