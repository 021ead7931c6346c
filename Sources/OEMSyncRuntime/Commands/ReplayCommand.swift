import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// `oemsync replay ID… | --feed F --status failed|partial | --rejects --reason CODE [--dry-run]`:
/// maps stored payloads again with the current mappings and dictionary (see ``Replay``).
///
/// Progress goes to stderr, one line per batch, when more than one is replayed. Exit 0 when every
/// selected batch was replayed (records rejected again are reported, not failures), 1 when one
/// could not be (no payload, a payload that is not records, a database error), 78 when the config
/// or a mapping is invalid.
public enum ReplayCommand {
    public struct Options: Sendable {
        public var configPath: String
        public var selection: Replay.Selection
        public var dryRun: Bool
        public var force: Bool
        public var json: Bool
        public var unmask: Bool

        public init(configPath: String, selection: Replay.Selection, dryRun: Bool, force: Bool = false, json: Bool = false, unmask: Bool = false) {
            self.configPath = configPath
            self.selection = selection
            self.dryRun = dryRun
            self.force = force
            self.json = json
            self.unmask = unmask
        }
    }

    public static func run(_ options: Options, console: Console) -> Int32 {
        let access: LedgerAccess
        switch LedgerAccess.open(configPath: options.configPath, command: "replay", console: console) {
        case .ready(let a): access = a
        case .exit(let code): return code
        }
        if case .feed(let name, _) = options.selection, access.feed(name, command: "replay", console: console) == nil { return ExitStatus.usage }
        let catalog: SchemaCatalog
        do {
            catalog = try access.database.catalog()
        } catch {
            console.err("oemsync replay: \(error)\n")
            return ExitStatus.failure
        }
        let load = Project.load(configPath: options.configPath, catalog: catalog, catalogIsComplete: true)
        if !load.diagnostics.isEmpty { console.report(load.diagnostics, load.renderer) }
        guard let project = load.project else { return ExitStatus.config }

        let replay = Replay(project: project, database: access.database)
        let targets: [Replay.Target]
        do {
            targets = try replay.targets(options.selection, force: options.force)
        } catch {
            console.err("oemsync replay: \(error)\n")
            return ExitStatus.failure
        }
        if targets.isEmpty {
            console.err("oemsync replay: nothing to replay\n")
            if options.json { console.out(CommandJSON.encode(["replays": [Replay.Outcome]()])) }
            return ExitStatus.ok
        }
        var outcomes: [Replay.Outcome] = []
        for (n, target) in targets.enumerated() {
            var outcome = replay.run(target, dryRun: options.dryRun)
            if !options.unmask, let plan = project.plans[target.original.feed] { mask(&outcome, plan: plan) }
            if targets.count > 1 {
                console.err(
                    "replay \(n + 1)/\(targets.count): batch \(target.original.id): \(outcome.error == nil ? "\(Plural.count(outcome.records, "record")), \(outcome.rejected) rejected" : "failed")\n")
            }
            outcomes.append(outcome)
        }
        if options.json {
            console.out(CommandJSON.encode(["replays": outcomes]))
        } else {
            console.out(outcomes.map(text).joined())
        }
        for o in outcomes { if let e = o.error { console.err("oemsync replay: \(e)\n") } }
        return outcomes.contains { $0.error != nil } ? ExitStatus.failure : ExitStatus.ok
    }

    /// Personal columns (the dictionary's `personal: true`) are masked in the sample diff, keys included.
    static func mask(_ outcome: inout Replay.Outcome, plan: MappingPlan) {
        let personal = plan.personalColumns
        let keyNames = plan.targetTable.keyColumns.map(\.name)
        for i in outcome.sampleChanges.indices {
            for (k, name) in keyNames.enumerated() where personal.contains(name) && k < outcome.sampleChanges[i].key.count {
                outcome.sampleChanges[i].key[k] = "***"
            }
            for j in outcome.sampleChanges[i].changes.indices where personal.contains(outcome.sampleChanges[i].changes[j].column) {
                outcome.sampleChanges[i].changes[j].old = outcome.sampleChanges[i].changes[j].old.map { _ in "***" }
                outcome.sampleChanges[i].changes[j].new = outcome.sampleChanges[i].changes[j].new.map { _ in "***" }
            }
        }
    }

    static func text(_ o: Replay.Outcome) -> String {
        var out = "batch \(o.original) (feed \(o.feed))"
        if let e = o.error { return out + ": not replayed: \(e)\n" }
        if o.records == 0 {
            return out + ": nothing replayed" + (o.flagged > 0 ? "; \(Plural.count(o.flagged, "flagged reject")) left out (--force to replay)" : "") + "\n"
        }
        let verb = o.dryRun ? "would be" : ""
        out += o.dryRun ? ": dry run, nothing written\n" : ": replayed as batch \(o.batch ?? 0)\n"
        let written = o.records - o.rejected
        out += "  \(Plural.count(o.records, "record")): \(written) \(o.dryRun ? "would be written" : "written") (\(o.inserted) inserted, \(o.updated) updated, \(o.unchanged) unchanged"
        if o.superseded > 0 { out += ", \(o.superseded) superseded by a later record" }
        out += o.newer > 0 ? ", \(o.newer) left as a later batch wrote them)" : ")"
        out += ", \(o.rejected) \(verb.isEmpty ? "rejected" : "would be rejected")"
        if !o.rejectReasons.isEmpty { out += " (" + o.rejectReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
        out += "\n"
        if o.resolved > 0 || o.rejectedAgain > 0 {
            out += "  open rejects: \(o.resolved) \(o.dryRun ? "would be resolved" : "resolved"), \(o.rejectedAgain) of them rejected again\n"
        }
        if o.flagged > 0 { out += "  \(Plural.count(o.flagged, "flagged reject")) left out (replayed \(Ledger.maxAttempts) times without success; --force)\n" }
        if !o.sampleChanges.isEmpty {
            out += "  sample:\n"
            for c in o.sampleChanges {
                out += "    line \(c.line) (\(c.key.joined(separator: ", "))): "
                if c.isNew {
                    out += "new row\n"
                } else {
                    out += c.changes.map { "\($0.column) \($0.old.map { "'\($0)'" } ?? "null") -> \($0.new.map { "'\($0)'" } ?? "null")" }.joined(separator: ", ") + "\n"
                }
            }
        }
        return out
    }
}
