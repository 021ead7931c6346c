import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks

/// The daemon's configuration, read from `oemsync.yaml` by ``ConfigurationLoader``.
///
/// ```yaml
/// oemsync: 1
/// database:
///   url: sqlite:/var/lib/oemsync/dealer.db      # or postgresql://oemsync@db.internal:5432/dealer
///   password_file: /run/credentials/oemsync.service/db-password   # or password_env: OEMSYNC_DB_PASSWORD
///   schema: dealer                             # PostgreSQL only; default: the user's search_path
/// dictionary: Mappings/dictionary
/// feeds:
///   acme-stock:
///     mapping: Mappings/acme/stock.v1.yaml
///     source:
///       kind: csv-drop
///       directory: /var/spool/oemsync/acme-stock
/// ```
/// Relative paths are relative to the config file's folder. Unknown keys are errors.
public struct Configuration: Sendable {
    /// The config file as shown in diagnostics.
    public var file: String
    public var database: DatabaseSettings
    /// The data dictionary folder (absolute), and as the config wrote it.
    public var dictionaryPath: String?
    public var dictionaryDisplay: String?
    /// Feeds in the order the file lists them.
    public var feeds: [FeedSettings]
    /// OEM credentials by name, shared by the feeds that name them.
    public var credentials: [String: CredentialSettings] = [:]
    /// What `oemsync run` itself is configured with (`daemon:`).
    public var daemon = DaemonSettings()

    public func feed(named name: String) -> FeedSettings? { feeds.first { $0.name == name } }
}

/// Where the dealer database is and how to log in. The password is never in the config itself.
public struct DatabaseSettings: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A SQLite file (the embedded default).
        case sqlite(path: String)
        /// A PostgreSQL server: a `postgresql://` (or `postgres://`) URL, without password.
        case postgres(url: String)
    }

    public var kind: Kind
    /// A file holding the password (a systemd credential: `/run/credentials/<unit>/db-password`).
    public var passwordFile: String?
    /// An environment variable holding the password.
    public var passwordEnvironment: String?
    /// The PostgreSQL schema oemsync works in; nil for the connection's default search path.
    public var schema: String?
    /// How long oemsync waits for the database (`connect_timeout`, `statement_timeout`,
    /// `keepalive`, `busy_timeout`).
    public var limits = DatabaseLimits()

    public init(kind: Kind, passwordFile: String? = nil, passwordEnvironment: String? = nil, schema: String? = nil) {
        self.kind = kind
        self.passwordFile = passwordFile
        self.passwordEnvironment = passwordEnvironment
        self.schema = schema
    }

    /// The database as shown to people: the file, or the URL without any password.
    public var displayName: String {
        switch kind {
        case .sqlite(let path): return path
        case .postgres(let url): return Redaction.url(url)
        }
    }

    /// Reads the password from its file or environment variable.
    public func password(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError)
        -> String?
    {
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile), let s = String(data: data, encoding: .utf8) else {
                throw ConfigurationError("cannot read the database password file '\(passwordFile)'")
            }
            return s.trimmingCharacters(in: .newlines)
        }
        if let passwordEnvironment {
            guard let s = environment[passwordEnvironment] else {
                throw ConfigurationError("the environment variable \(passwordEnvironment) (database password) is not set")
            }
            return s
        }
        return nil
    }
}

/// One feed: a source, the mapping that turns its records into rows.
public struct FeedSettings: Sendable {
    public var name: String
    /// The mapping file (absolute) and as the config wrote it.
    public var mappingPath: String
    public var mappingDisplay: String
    /// Where its records come from: the settings of its kind (``FeedKinds``).
    public var source: any FeedSourceSettings
    /// Where the feed is defined in the config, for messages.
    public var location: SourceLocation
    /// Where its `mapping:` is, for a mapping that does not fit the source.
    public var mappingLocation: SourceLocation?
    /// Which payloads the ledger keeps (`keep_ok_payloads:`); those of failed and partial batches always.
    public var retention: PayloadRetention = .problemsOnly
    /// When `oemsync run` syncs the feed and when it must not (`schedule:`). Default: every 5 minutes, always open.
    public var schedule = FeedSchedule()
}

/// A problem with the configuration that is found while running (a missing password file), as
/// opposed to the file's own problems, which are diagnostics.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Keeps secrets out of anything printed.
public enum Redaction {
    /// `postgresql://user:secret@host/db` -> `postgresql://user:***@host/db`; `password=x` -> `password=***`.
    public static func url(_ url: String) -> String {
        var out = url
        if let scheme = out.range(of: "://"), let at = out[scheme.upperBound...].firstIndex(of: "@") {
            let userinfo = out[scheme.upperBound..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                out.replaceSubrange(out.index(after: colon)..<at, with: "***")
            }
        }
        for marker in ["password=", "sslpassword="] {
            var search = out.startIndex
            while let r = out.range(of: marker, range: search..<out.endIndex) {
                let end = out[r.upperBound...].firstIndex(where: { $0 == " " || $0 == "&" }) ?? out.endIndex
                out.replaceSubrange(r.upperBound..<end, with: "***")
                search = out.index(r.upperBound, offsetBy: 3, limitedBy: out.endIndex) ?? out.endIndex
            }
        }
        return out
    }

    /// Keys whose values are secrets when someone writes them into the config (which is an error,
    /// `C113`, but the diagnostic must not print them): in block or flow style, any case.
    static let secretKeys = ["password", "client_secret", "client_key_password", "api_key", "key", "token", "authorization", "x-api-key", "cookie"]

    /// Config text with passwords and other secrets masked, for printing a diagnostic's source line.
    public static func configText(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var l = url(String(line))
            for key in secretKeys { l = masking(key, in: l) }
            return l
        }.joined(separator: "\n")
    }

    /// `... key: value ...` -> `... key: *** ...`, where `key` stands alone (not `record_key`) and the
    /// value runs to a comma, a closing brace or the end of the line.
    static func masking(_ key: String, in line: String) -> String {
        var out = ""
        var rest = Substring(line)
        while let r = rest.range(of: key + ":", options: .caseInsensitive) {
            let before = rest[..<r.lowerBound].last
            let standsAlone = before.map { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") } ?? true
            out += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            guard standsAlone else { continue }
            let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
            if rest[..<end].trimmingCharacters(in: .whitespaces).isEmpty { continue }  // a block-style parent key
            out += " ***"
            rest = rest[end...]
        }
        return out + rest
    }
}
