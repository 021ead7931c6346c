#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// The checks of `oemsync doctor`, in the order an operator fixes things.
struct Doctor {
    typealias Check = DoctorCommand.Check

    let options: DoctorCommand.Options
    let user: ServiceUser
    var diagnostics: [Diagnostic] = []
    var renderer = DiagnosticRenderer()
    private var checks: [Check] = []

    init(options: DoctorCommand.Options) {
        self.options = options
        user = ServiceUser.resolve(options.user) ?? ServiceUser(name: options.user ?? "?", uid: getuid(), groups: [getgid()])
    }

    private mutating func add(_ check: String, _ status: Check.Status, _ message: String, fix: String? = nil) {
        checks.append(Check(check, status, message, fix: fix))
    }

    /// Nil when the config cannot be read at all.
    mutating func examine() -> [Check]? {
        if options.user != nil, ServiceUser.lookup(options.user!) == nil {
            add("service user", .fail, "no user '\(options.user!)' on this host", fix: "install the package (it creates the oemsync user), or name the user with --user")
        }
        let loaded = ConfigurationLoader().load(path: options.configPath)
        guard let configuration = loaded.configuration else {
            diagnostics = loaded.diagnostics
            renderer = DiagnosticRenderer(sources: loaded.redactedText.map { [options.configPath: $0] } ?? [:])
            return nil
        }
        configCheck()
        let database = databaseChecks(configuration)
        secrets(configuration)
        drops(configuration)
        if !options.offline { tokens(configuration) }
        metrics(configuration, database: database)
        clock(database)
        return checks
    }

    // MARK: Config and mappings

    private mutating func configCheck() {
        let catalog = try? ReferenceSchema.catalog()
        let load = Project.load(configPath: options.configPath, catalog: catalog, catalogIsComplete: false)
        let errors = load.diagnostics.filter { $0.severity == .error }
        if errors.isEmpty {
            let warnings = load.diagnostics.count
            add(
                "config", warnings == 0 ? .ok : .warn,
                "\(options.configPath): \(Plural.count(load.project?.configuration.feeds.count ?? 0, "feed")), \(Plural.count(load.mappingCount, "mapping")) valid"
                    + (warnings > 0 ? ", \(Plural.count(warnings, "warning"))" : ""),
                fix: warnings > 0 ? "`oemsync check --config \(options.configPath)` shows them" : nil)
        } else {
            add(
                "config", .fail, "\(Plural.count(errors.count, "error")) in the config or its mappings: \(errors[0].description)",
                fix: "`oemsync check --config \(options.configPath)` shows each with its line")
        }
    }

    // MARK: Database

    private mutating func databaseChecks(_ configuration: Configuration) -> (any DealerDatabase)? {
        let settings = configuration.database
        let database: any DealerDatabase
        do {
            database = try DatabaseOpener.open(settings)
        } catch {
            add("database", .fail, "\(settings.displayName): \(error.description)", fix: databaseFix(settings))
            return nil
        }
        add("database", .ok, "\(settings.displayName) reachable")
        var migrated = false
        do {
            switch try SchemaGate.check(database, displayName: settings.displayName) {
            case .usable:
                add("schema", .ok, "migrated: \(Plural.count(Migration.all.count, "migration")) applied")
                migrated = true
            case .pending(let m): add("schema", .fail, m, fix: "`oemsync db migrate --config \(options.configPath)` (as the service user)")
            case .newer(let m): add("schema", .fail, m, fix: "install the oemsync that migrated it, or a later one")
            }
        } catch {
            add("schema", .fail, error.description)
        }
        durability(database, settings)
        // The tables exist once migrated; before, the schema check says what to do.
        if migrated { liveMappings(database) }
        return database
    }

    private func databaseFix(_ settings: DatabaseSettings) -> String {
        switch settings.kind {
        case .sqlite(let path): return "the folder of \(path) must exist and be writable by \(user.name)"
        case .postgres: return "is the server up and reachable from here, the user and database right, the password file readable?"
        }
    }

    private mutating func durability(_ database: any DealerDatabase, _ settings: DatabaseSettings) {
        switch settings.kind {
        case .sqlite(let path):
            guard path != ":memory:" else { return add("durability", .warn, "an in-memory database keeps nothing", fix: "use a file: sqlite:/var/lib/oemsync/dealer.db") }
            let folder = (path as NSString).deletingLastPathComponent
            if let problem = user.cannot(.write, folder.isEmpty ? "." : folder) {
                add("durability", .fail, "SQLite writes its journal beside the database: \(problem)", fix: "chown \(user.name) the folder (StateDirectory=oemsync does for /var/lib/oemsync)")
            } else if FileManager.default.fileExists(atPath: path), let problem = user.cannot(.write, path) {
                add("durability", .fail, problem, fix: "chown \(user.name) '\(path)' (it was created by another user: run `oemsync db migrate` as \(user.name))")
            } else {
                add("durability", .ok, "SQLite in WAL mode, synchronous=FULL: every commit is on disk when it returns")
            }
        case .postgres:
            func setting(_ name: String) -> String? { (try? database.select("SELECT current_setting(?)", [.string(name)]))?.first?[0] ?? nil }
            let fsync = setting("fsync")
            let commit = setting("synchronous_commit")
            let pages = setting("full_page_writes")
            if fsync == "off" || pages == "off" {
                add(
                    "durability", .fail, "the server runs with fsync=\(fsync ?? "?"), full_page_writes=\(pages ?? "?"): a power loss can lose or corrupt committed data",
                    fix: "set fsync = on and full_page_writes = on in postgresql.conf (a test server only may run without)")
            } else if commit == "off" {
                add("durability", .ok, "fsync on; the server's synchronous_commit is off, and oemsync turns it on for its own sessions")
            } else {
                add("durability", .ok, "fsync on, synchronous_commit \(commit ?? "?")")
            }
        }
    }

    private mutating func liveMappings(_ database: any DealerDatabase) {
        guard let catalog = try? database.catalog() else { return }
        let load = Project.load(configPath: options.configPath, catalog: catalog, catalogIsComplete: true)
        let errors = load.diagnostics.filter { $0.severity == .error }
        if errors.isEmpty {
            add("tables", .ok, "every mapping fits the database's tables")
        } else {
            add("tables", .fail, "\(Plural.count(errors.count, "problem")) against the live tables: \(errors[0].description)", fix: "`oemsync db migrate`, or fix the mapping")
        }
    }

    // MARK: Secrets

    private mutating func secrets(_ configuration: Configuration) {
        var files: [(what: String, path: String)] = []
        if let p = configuration.database.passwordFile { files.append(("the database password", p)) }
        for (name, c) in configuration.credentials.sorted(by: { $0.key < $1.key }) {
            if case .file(let p) = c.auth.secretSource { files.append(("credentials '\(name)'", p)) }
        }
        for feed in configuration.feeds {
            guard let transport = feed.source.http?.transport else { continue }
            for (what, p) in [("CA file", transport.tls.caFile), ("client certificate", transport.tls.clientCertificate), ("client key", transport.tls.clientKey)] {
                if let p { files.append(("feed '\(feed.name)' \(what)", p)) }
            }
            if case .file(let p)? = feed.source.http?.clientKeyPassword {
                files.append(("feed '\(feed.name)' client key passphrase", p))
            }
        }
        var seen = Set<String>()
        for (what, path) in files where seen.insert(path).inserted {
            secret(what, path)
        }
        if files.isEmpty { add("secrets", .ok, "the config names no secret file") }
    }

    private mutating func secret(_ what: String, _ path: String) {
        let name = "secret"
        // A systemd credential: it exists only inside the running service; systemd reads its
        // source as root when the service starts.
        if let (unit, id) = SystemdCredential.parse(path), !FileManager.default.fileExists(atPath: path) {
            switch SystemdCredential.find(unit: unit, id: id) {
            case .file(let source):
                var st = stat()
                if stat(source, &st) == 0, st.st_mode & 0o077 != 0 {
                    add(name, .warn, "\(what): credential '\(id)' of \(unit) from \(source), readable by others (mode \(String(st.st_mode & 0o777, radix: 8)))", fix: "chmod 600 '\(source)'")
                } else {
                    add(name, .ok, "\(what): credential '\(id)' of \(unit) from \(source)")
                }
            case .missing(let source):
                add(name, .fail, "\(what): \(unit) loads credential '\(id)' from \(source), which does not exist", fix: "write it there (root, mode 0600)")
            case .notLoaded:
                add(name, .fail, "\(what) is read from \(path), but \(unit) loads no credential '\(id)'", fix: "`systemctl edit \(unit)`: LoadCredential=\(id):oemsync-\(id), and the secret in /etc/credstore/oemsync-\(id)")
            case .noUnit:
                add(name, .warn, "\(what) is read from \(path), but \(unit) is not installed here", fix: "install the package, or name the unit with --unit")
            }
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            return add(name, .fail, "\(what): '\(path)' does not exist", fix: "write the secret there, readable by \(user.name) only")
        }
        if let problem = user.cannot(.read, path) {
            add(name, .fail, "\(what): \(problem)", fix: "chgrp \(user.name) '\(path)' && chmod 640 '\(path)'")
        } else if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size == 0 {
            add(name, .fail, "\(what): '\(path)' is empty")
        } else {
            add(name, .ok, "\(what): '\(path)' readable by \(user.name)")
        }
    }

    // MARK: Drops

    private mutating func drops(_ configuration: Configuration) {
        for feed in configuration.feeds {
            guard let drop = feed.source.dropDirectory else { continue }
            let check = "drop \(feed.name)"
            var st = stat()
            guard stat(drop.path, &st) == 0 else {
                let parent = (drop.path as NSString).deletingLastPathComponent
                if let problem = user.cannot(.write, parent) {
                    add(check, .fail, "\(drop.path) does not exist, and \(problem)", fix: "install -d -o \(user.name) -g \(user.name) '\(drop.path)'")
                } else {
                    add(check, .warn, "\(drop.path) does not exist (the daemon creates it, mode 0700)", fix: "create it with the group the OEM's upload account needs")
                }
                continue
            }
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                add(check, .fail, "\(drop.path) is not a directory")
                continue
            }
            if let problem = user.cannot(.write, drop.path) {
                add(check, .fail, problem, fix: "chown \(user.name) '\(drop.path)', or add \(user.name) to its group with write access")
                continue
            }
            // Claims, archives and quarantines are renames: they must stay on the drop's filesystem.
            var elsewhere: [String] = []
            for sub in [drop.processingPath, drop.archivePath, drop.quarantinePath] {
                var ss = stat()
                guard stat(sub, &ss) == 0 else { continue }
                if ss.st_dev != st.st_dev { elsewhere.append((sub as NSString).lastPathComponent) }
                if let problem = user.cannot(.write, sub) { elsewhere.append(problem) }
            }
            if elsewhere.isEmpty {
                add(check, .ok, "\(drop.path) writable by \(user.name); processing/, archive/, quarantine/ on its filesystem")
            } else {
                add(check, .fail, "\(drop.path): \(elsewhere.joined(separator: "; ")) (a file moves there by rename)", fix: "keep the three folders inside the drop directory, on its filesystem, writable by \(user.name)")
            }
        }
    }

    // MARK: OEMs

    private mutating func tokens(_ configuration: Configuration) {
        let services = SourceServices(credentials: configuration.credentials)
        for (name, c) in configuration.credentials.sorted(by: { $0.key < $1.key }) {
            guard case .oauth2(let tokenURL, _, _, _, _) = c.auth else { continue }
            let users = configuration.feeds.filter { $0.source.http?.credentials == name }
            guard let feed = users.first else { continue }
            let check = "oem \(name)"
            do {
                let (authenticator, _) = try services.credentials(name)
                let transport = try CurlTransport(settings: feed.source.http?.transport ?? TransportSettings())
                var request = HTTPRequest(method: "GET", url: feed.source.http?.url ?? tokenURL)
                try authenticator.authorize(&request, transport: transport, clock: SystemClock())
                add(check, .ok, "token endpoint \(RequestRunner.host(of: tokenURL)) issued a token (no data fetched)")
            } catch let error as AuthFailure {
                add(check, .fail, "token endpoint \(RequestRunner.host(of: tokenURL)): \(Redact.scrub(error.message))", fix: "check the client id and secret, and that this host may reach the OEM")
            } catch {
                add(check, .fail, "\(error)", fix: "check the credentials' secret file and TLS settings")
            }
        }
    }

    // MARK: Metrics and clock

    private mutating func metrics(_ configuration: Configuration, database: (any DealerDatabase)?) {
        guard let endpoint = configuration.daemon.metrics else { return }
        guard let problem = endpoint.bindProblem() else { return add("metrics", .ok, "\(endpoint) is free") }
        // The daemon itself holds it while it runs: that is no problem.
        let now = Timestamp.now()
        let live = database.flatMap { try? Ledger($0).daemons() }?.values.contains { $0.isLive(at: now) == true } ?? false
        if live {
            add("metrics", .ok, "\(endpoint) is held by the running daemon")
        } else {
            add("metrics", .fail, problem, fix: "choose another daemon.metrics port, or stop what listens there")
        }
    }

    private mutating func clock(_ database: (any DealerDatabase)?) {
        if !FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/UTC") {
            add("clock", .fail, "no time zone database (/usr/share/zoneinfo)", fix: "apt-get install tzdata")
        }
        guard let database, database.dialect == .postgres,
            let text = (try? database.select("SELECT extract(epoch FROM clock_timestamp())::text", []))?.first?[0] ?? nil, let server = Double(text)
        else {
            return add("clock", .ok, "local time \(Timestamp.now()) (UTC)")
        }
        let skew = Date().timeIntervalSince1970 - server
        let text2 = String(format: "%.1f", abs(skew))
        if abs(skew) > 30 {
            add("clock", .fail, "this host's clock is \(text2) s \(skew > 0 ? "ahead of" : "behind") the database server's", fix: "synchronise both with NTP (systemd-timesyncd, chrony)")
        } else if abs(skew) > 2 {
            add("clock", .warn, "\(text2) s off the database server's clock", fix: "synchronise both with NTP")
        } else {
            add("clock", .ok, "agrees with the database server's within \(text2) s")
        }
    }
}

extension AuthSettings {
    /// The secret's source, when the method has one.
    var secretSource: SecretSource? {
        switch self {
        case .none: return nil
        case .oauth2(_, _, let secret, _, _): return secret
        case .apiKey(_, _, let value): return value
        case .basic(_, let password), .wsSecurity(_, let password, _): return password
        }
    }
}
