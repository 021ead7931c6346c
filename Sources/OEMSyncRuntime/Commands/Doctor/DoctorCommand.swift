import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// `oemsync doctor`: what an operator runs before enabling the service, and when something is off.
/// One line per check, `ok`, `warn` or `fail`, each failure with its fix:
///
/// - the config and the mappings are valid, and compile against the live tables;
/// - the database is reachable, migrated (not newer than this binary), and durable (PostgreSQL
///   with `fsync` on; oemsync makes its own commits synchronous whatever `synchronous_commit` says);
/// - every secret file (the database password, each credential's secret, TLS keys) is readable by
///   the service user, or, for a systemd credential, found where the unit loads it from;
/// - every drop directory exists (or can be made) and the service user may write it, with
///   `processing/`, `archive/` and `quarantine/` on the drop's own filesystem (renames, not copies);
/// - each OEM's token endpoint answers (OAuth2: one token request; no data is fetched);
/// - the metrics address is free (or held by the running daemon);
/// - the clock agrees with the database server's, and the time zone database is installed.
///
/// Exit 0 when nothing failed (warnings allowed), 1 otherwise; 78 when the config cannot be read.
public enum DoctorCommand {
    public struct Options: Sendable {
        public var configPath: String
        /// The user the service runs as (default: `oemsync` when it exists, else the current user).
        public var user: String?
        /// The systemd unit whose credentials `/run/credentials/<unit>/…` paths name.
        public var unit: String
        public var json: Bool
        /// Skip the OEM token requests (no network).
        public var offline: Bool

        public init(configPath: String, user: String? = nil, unit: String = "oemsync.service", json: Bool = false, offline: Bool = false) {
            self.configPath = configPath
            self.user = user
            self.unit = unit
            self.json = json
            self.offline = offline
        }
    }

    public struct Check: Sendable, Codable, Hashable {
        public enum Status: String, Sendable, Codable, Hashable {
            case ok
            case warn
            case fail
        }

        public var check: String
        public var status: Status
        public var message: String
        /// What to do about a warning or a failure.
        public var fix: String?

        public init(_ check: String, _ status: Status, _ message: String, fix: String? = nil) {
            self.check = check
            self.status = status
            self.message = message
            self.fix = fix
        }
    }

    public static func run(_ options: Options, console: Console) -> Int32 {
        var doctor = Doctor(options: options)
        let checks = doctor.examine()
        guard let checks else {
            console.report(doctor.diagnostics, doctor.renderer)
            console.err("oemsync doctor: the config '\(options.configPath)' cannot be read; fix it first (`oemsync check`)\n")
            return ExitStatus.config
        }
        if options.json {
            struct Document: Encodable {
                var user: String
                var checks: [Check]
                var failed: Int
                var warnings: Int
            }
            console.out(
                CommandJSON.encode(
                    Document(
                        user: doctor.user.name, checks: checks, failed: checks.filter { $0.status == .fail }.count,
                        warnings: checks.filter { $0.status == .warn }.count)))
        } else {
            let width = checks.map(\.check.count).max() ?? 0
            var out = ""
            for c in checks {
                out += "\(c.status.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  "
                    + c.check.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + FileName.escapingControls(c.message) + "\n"
                if let fix = c.fix { out += String(repeating: " ", count: 6 + width + 2) + "fix: " + fix + "\n" }
            }
            let failed = checks.filter { $0.status == .fail }.count
            let warned = checks.filter { $0.status == .warn }.count
            out += "\n" + (failed == 0 ? "ready" : "not ready: \(Plural.count(failed, "check")) failed") + (warned > 0 ? ", \(Plural.count(warned, "warning"))" : "")
                + " (service user \(doctor.user.name))\n"
            console.out(out)
        }
        return checks.contains { $0.status == .fail } ? ExitStatus.failure : ExitStatus.ok
    }

    /// Where systemd loads a unit's credential from, in words (`file /etc/credstore/x`, `missing …`,
    /// `not loaded`, `no unit`), under `root` (a test's folder; `""` for this host).
    public static func credentialSource(unit: String, id: String, root: String = "") -> String {
        switch SystemdCredential.find(unit: unit, id: id, root: root) {
        case .file(let path): return "file \(path)"
        case .missing(let path): return "missing \(path)"
        case .notLoaded: return "not loaded"
        case .noUnit: return "no unit"
        }
    }
}
