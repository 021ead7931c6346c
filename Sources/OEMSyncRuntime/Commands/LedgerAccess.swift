import Foundation
import OEMSyncCore
import OEMSyncSinks

/// What the engineers' commands (`status`, `batches`, `replay`, `checkpoint`) open first: the
/// config and the dealer database, migrated. Problems are printed; the exit status is returned.
struct LedgerAccess {
    var configuration: Configuration
    var database: any DealerDatabase
    var ledger: Ledger { Ledger(database) }

    enum Opened {
        case ready(LedgerAccess)
        case exit(Int32)
    }

    static func open(configPath: String, command: String, console: Console) -> Opened {
        let loaded = ConfigurationLoader().load(path: configPath)
        if !loaded.diagnostics.isEmpty {
            console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [configPath: $0] } ?? [:]))
        }
        guard let configuration = loaded.configuration else { return .exit(ExitStatus.config) }
        do {
            let database = try DatabaseOpener.open(configuration.database)
            let verdict = try SchemaGate.check(database, displayName: configuration.database.displayName)
            if let status = verdict.exitStatus {
                console.err("oemsync \(command): \(verdict.message ?? "")\n")
                return .exit(status)
            }
            return .ready(LedgerAccess(configuration: configuration, database: database))
        } catch {
            console.err("oemsync \(command): \(error)\n")
            return .exit(ExitStatus.failure)
        }
    }

    /// The feed named on the command line, or a usage error naming the configured ones.
    func feed(_ name: String, command: String, console: Console) -> FeedSettings? {
        if let f = configuration.feed(named: name) { return f }
        let known = configuration.feeds.map(\.name)
        let help = Suggestion.closest(to: name, in: Set(known)).map { "; did you mean '\($0)'?" } ?? ""
        console.err("oemsync \(command): unknown feed '\(name)' (feeds: \(known.joined(separator: ", ")))\(help)\n")
        return nil
    }
}

/// JSON for scripts: snake_case keys, sorted, one document per command.
enum CommandJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self) + "\n"
    }
}
