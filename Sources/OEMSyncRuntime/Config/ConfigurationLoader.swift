import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks
import OEMSyncMapping
import Yams

/// Reads `oemsync.yaml` into a ``Configuration``, collecting every problem (codes `C1xx`).
///
/// Reads only the config file itself: mappings and the dictionary are compiled separately
/// (``ConfigurationCheck``), and nothing here touches the network or a database.
public struct ConfigurationLoader {
    public init() {}

    static let topKeys = ["oemsync", "database", "dictionary", "credentials", "daemon", "feeds"]
    static let databaseKeys = ["url", "password_file", "password_env", "schema", "connect_timeout", "statement_timeout", "keepalive", "busy_timeout"]
    static let feedKeys = ["mapping", "source", "schedule", "keep_ok_payloads"]

    public struct Result {
        public var configuration: Configuration?
        public var diagnostics: [Diagnostic]
        /// The file's text with passwords masked, for rendering diagnostics.
        public var redactedText: String?
    }

    public func load(path: String) -> Result {
        let (document, problems) = YAMLDocument.load(path: path, code: "C105", reference: nil)
        guard let document else {
            let missing = problems.map { d -> Diagnostic in
                var d = d
                if d.code == "C105" {
                    d.help = "pass --config FILE, or set OEMSYNC_CONFIG"
                    d.location = nil
                }
                return d
            }
            return Result(configuration: nil, diagnostics: missing, redactedText: nil)
        }
        guard document.parsed else {
            return Result(configuration: nil, diagnostics: problems, redactedText: Redaction.configText(document.text))
        }
        let base = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        var result = load(document, baseDirectory: base.isEmpty ? FileManager.default.currentDirectoryPath : base)
        result.redactedText = Redaction.configText(document.text)
        return result
    }

    public func load(_ document: YAMLDocument, baseDirectory: String) -> Result {
        var reader = YAMLReader(file: document.path, prefix: "C")
        guard let root = document.root else {
            reader.add(.error("C102", "the config file is empty", at: SourceLocation(file: document.path, line: 1, column: 1)))
            return Result(configuration: nil, diagnostics: reader.diagnostics)
        }
        guard let entries = reader.entries(root, what: "the config", allowed: Self.topKeys) else {
            return Result(configuration: nil, diagnostics: reader.diagnostics)
        }
        reader.require(["oemsync", "database", "feeds"], in: entries, of: root, what: "the config")
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : ((baseDirectory as NSString).appendingPathComponent(p) as NSString).standardizingPath
        }
        var database: DatabaseSettings?
        var dictionary: (String, String)?
        var feeds: [FeedSettings] = []
        var credentials: [String: CredentialSettings] = [:]
        var credentialNames: Set<String> = []
        var daemon = DaemonSettings()
        for entry in entries {
            switch entry.key {
            case "oemsync":
                if let v = reader.int(entry.value, what: "oemsync"), v != 1 {
                    reader.error("104", "unsupported config format \(v)", at: entry.value, help: "this oemsync reads config format 1")
                }
            case "database": database = readDatabase(entry.value, reader: &reader, resolve: resolve)
            case "dictionary":
                if let d = reader.nonEmptyString(entry.value, what: "dictionary") { dictionary = (resolve(d), DisplayPath.of(resolve(d))) }
            case "feeds": feeds = readFeeds(entry.value, reader: &reader, resolve: resolve)
            case "credentials": (credentials, credentialNames) = readCredentials(entry.value, reader: &reader, resolve: resolve)
            case "daemon": daemon = readDaemon(entry.value, reader: &reader)
            default: break
            }
        }
        checkCredentialNames(feeds, credentialNames, reader: &reader)
        guard !reader.diagnostics.hasErrors, let database else {
            return Result(configuration: nil, diagnostics: reader.diagnostics)
        }
        var config = Configuration(
            file: document.path, database: database, dictionaryPath: dictionary?.0, dictionaryDisplay: dictionary?.1, feeds: feeds)
        config.credentials = credentials
        config.daemon = daemon
        return Result(configuration: config, diagnostics: reader.diagnostics)
    }

    private func readDatabase(_ node: Node, reader: inout YAMLReader, resolve: (String) -> String) -> DatabaseSettings? {
        guard let keys = reader.entries(node, what: "database", allowed: Self.databaseKeys) else { return nil }
        reader.require(["url"], in: keys, of: node, what: "database")
        var kind: DatabaseSettings.Kind?
        var settings = DatabaseSettings(kind: .sqlite(path: ""))
        for k in keys {
            switch k.key {
            case "url":
                guard let url = reader.nonEmptyString(k.value, what: "database url") else { continue }
                if url.hasPrefix("sqlite:") {
                    var path = String(url.dropFirst("sqlite:".count))
                    if path.hasPrefix("//") { path.removeFirst(2) }
                    if path.isEmpty {
                        reader.error("104", "a sqlite: url needs a file path (sqlite:/var/lib/oemsync/dealer.db)", at: k.value)
                    } else {
                        kind = .sqlite(path: path == ":memory:" ? path : resolve(path))
                    }
                } else if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
                    kind = .postgres(url: url)
                    if Redaction.url(url) != url {
                        reader.add(
                            .warning(
                                "C109", "the database url contains a password", at: reader.location(k.value),
                                help: "move it to password_file (a systemd credential) or password_env"))
                    }
                } else {
                    reader.error(
                        "104", "unsupported database url '\(Redaction.url(url))'", at: k.value,
                        notes: ["expected sqlite:PATH or postgresql://USER@HOST:PORT/DATABASE"])
                }
            case "password_file":
                settings.passwordFile = reader.nonEmptyString(k.value, what: "password_file").map(resolve)
            case "password_env":
                if let name = reader.nonEmptyString(k.value, what: "password_env") {
                    if name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                        settings.passwordEnvironment = name
                    } else {
                        reader.error("104", "password_env names an environment variable (letters, digits, '_')", at: k.value)
                    }
                }
            case "schema":
                if let s = reader.nonEmptyString(k.value, what: "schema") {
                    if Identifier.isValid(s) { settings.schema = s } else {
                        reader.error("104", "invalid schema name '\(s)'", at: k.value, help: "a lowercase letter, then lowercase letters, digits and '_' (at most 63)")
                    }
                }
            case "connect_timeout", "statement_timeout", "keepalive", "busy_timeout":
                guard let d = readDuration(k.value, what: k.key, reader: &reader) else { continue }
                guard d >= .seconds(1) else {
                    reader.error("104", "\(k.key) must be at least 1s", at: k.value)
                    continue
                }
                switch k.key {
                case "connect_timeout": settings.limits.connectTimeout = d
                case "statement_timeout": settings.limits.statementTimeout = d
                case "keepalive": settings.limits.keepalive = d
                default: settings.limits.busyTimeout = d
                }
            default: break
            }
        }
        guard let kind else { return nil }
        settings.kind = kind
        if case .sqlite = kind {
            for k in keys where ["password_file", "password_env", "schema", "connect_timeout", "statement_timeout", "keepalive"].contains(k.key) {
                reader.error("104", "\(k.key) applies to PostgreSQL only", at: k.keyNode)
            }
        }
        if case .postgres = kind, let k = keys.first(where: { $0.key == "busy_timeout" }) {
            reader.error("104", "busy_timeout applies to SQLite only", at: k.keyNode)
        }
        if settings.passwordFile != nil && settings.passwordEnvironment != nil {
            reader.error("104", "give either password_file or password_env, not both", at: node)
        }
        return settings
    }

    private func readFeeds(_ node: Node, reader: inout YAMLReader, resolve: (String) -> String) -> [FeedSettings] {
        guard let list = reader.entries(node, what: "feeds") else { return [] }
        var feeds: [FeedSettings] = []
        for feed in list {
            let what = "feed '\(feed.key)'"
            guard feed.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !feed.key.isEmpty else {
                reader.error("104", "invalid feed name '\(feed.key)'", at: feed.keyNode, help: "feed names use letters, digits, '-', '_' and '.'")
                continue
            }
            guard let keys = reader.entries(feed.value, what: what, allowed: Self.feedKeys) else { continue }
            reader.require(["mapping", "source"], in: keys, of: feed.value, what: what)
            var mapping: (String, String, SourceLocation)?
            var source: (any FeedSourceSettings)?
            var retention = PayloadRetention.problemsOnly
            var schedule = FeedSchedule()
            for k in keys {
                if k.key == "schedule", let s = readSchedule(k.value, feed: feed.key, reader: &reader) { schedule = s }
                if k.key == "keep_ok_payloads", let d = readDuration(k.value, what: "keep_ok_payloads", reader: &reader) {
                    retention.okSeconds = d.components.seconds
                }
                if k.key == "mapping", let m = reader.nonEmptyString(k.value, what: "mapping") {
                    mapping = (resolve(m), DisplayPath.of(resolve(m)), reader.location(k.value))
                }
                if k.key == "source" { source = readSource(k.value, feed: feed.key, reader: &reader, resolve: resolve) }
            }
            if let mapping, let source {
                feeds.append(
                    FeedSettings(
                        name: feed.key, mappingPath: mapping.0, mappingDisplay: mapping.1, source: source,
                        location: reader.location(feed.keyNode), mappingLocation: mapping.2, retention: retention, schedule: schedule))
            }
        }
        return feeds
    }

    /// Every REST or SOAP feed's `credentials:` names an entry of the `credentials:` section.
    private func checkCredentialNames(_ feeds: [FeedSettings], _ names: Set<String>, reader: inout YAMLReader) {
        for feed in feeds {
            guard let credentials = feed.source.http?.credentials, !names.contains(credentials) else { continue }
            let help = Suggestion.closest(to: credentials, in: names).map { "did you mean '\($0)'?" }
            let known = names.sorted()
            reader.add(
                .error(
                    "C110", "feed '\(feed.name)' names credentials '\(credentials)', which the config does not define",
                    at: feed.location, notes: [known.isEmpty ? "the config has no credentials: section" : "credentials: \(known.joined(separator: ", "))"],
                    help: help))
        }
    }

    /// A feed's `source:`: its `kind` names the kind (``FeedKinds``), whose schema says which keys
    /// the block may have and which it needs, and which reads them.
    private func readSource(_ node: Node, feed: String, reader: inout YAMLReader, resolve: (String) -> String) -> (any FeedSourceSettings)? {
        let what = "the source of feed '\(feed)'"
        guard case .mapping(let m) = node else {
            _ = reader.entries(node, what: what)
            return nil
        }
        // The kind decides which keys are allowed, so it is read first.
        var kindNode: Node?
        for (k, v) in m {
            if case .scalar(let s) = k, s.string == "kind" { kindNode = v }
        }
        let names = FeedKinds.names
        guard let kindNode else {
            reader.error("102", "missing required key 'kind' in \(what)", at: node, notes: ["kinds: \(names.joined(separator: ", "))"])
            return nil
        }
        guard let name = reader.string(kindNode, what: "source kind") else { return nil }
        guard let kind = FeedKinds.named(name) else {
            let help = Suggestion.closest(to: name, in: names).map { "did you mean '\($0)'?" }
            reader.error("104", "invalid source kind '\(name)'", at: kindNode, notes: ["expected one of: \(names.joined(separator: ", "))"], help: help)
            return nil
        }
        guard let block = reader.block(node, what: "the \(kind.name) source of feed '\(feed)'", schema: kind.schema, extra: ["kind"]) else {
            return nil
        }
        return kind.read(block, feed: feed, loader: self, reader: &reader, resolve: resolve)
    }
}
