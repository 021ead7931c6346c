import OEMSyncCore
import OEMSyncSinks

/// Whether a command may use a database's schema: every migration this binary knows applied (else
/// exit 1: `oemsync db migrate`), and none it does not know (else exit 78: a newer oemsync migrated
/// the database, and this one would write tables whose meaning may have changed).
enum SchemaGate {
    enum Verdict {
        case usable
        /// Migrations to apply first.
        case pending(String)
        /// A schema newer than this binary.
        case newer(String)

        var exitStatus: Int32? {
            switch self {
            case .usable: return nil
            case .pending: return ExitStatus.failure
            case .newer: return ExitStatus.config
            }
        }

        var message: String? {
            switch self {
            case .usable: return nil
            case .pending(let m), .newer(let m): return m
            }
        }
    }

    static func check(_ database: any DealerDatabase, displayName: String) throws(SinkError) -> Verdict {
        let state = try database.schemaState()
        if let newer = state.newerMessage { return .newer("database \(displayName): \(newer)") }
        if !state.pending.isEmpty {
            return .pending(
                "database \(displayName) is not up to date (pending: \(state.pending.joined(separator: ", "))); run `oemsync db migrate`")
        }
        return .usable
    }
}
