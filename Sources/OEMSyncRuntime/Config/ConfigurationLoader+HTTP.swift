import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import Yams

/// What the HTTP kinds' settings share (URLs, retries, transport and TLS, change times) and the
/// `credentials:` section (codes `C1xx`).
extension ConfigurationLoader {
    /// The keys every HTTP kind's source takes for its requests (``readHTTP(_:retry:transport:password:reader:resolve:)``).
    static let httpKeys: [SettingKey] = [
        .block("retry", "Attempts per request and the backoff between them.", retrySchema),
        .optional("timeout", default: "30s", "The whole request."),
        .optional("connect_timeout", default: "10s", "Establishing the connection."),
        .optional("max_response_bytes", default: "rest 256 MiB, soap 2 GiB", "A larger answer stops the transfer and fails the page."),
        .block("tls", "A private CA, mutual TLS.", tlsSchema),
    ]
    static let retrySchema = SettingsSchema([
        .optional("max_attempts", default: "5", "Attempts per request, the first included, 1 to 100."),
        .optional("base", default: "500ms", "Backoff with full jitter: the wait before attempt n+1 is uniform in [0, min(cap, base·2ⁿ⁻¹)]."),
        .optional("cap", default: "30s", "The longest backoff wait."),
        .optional("max_retry_after", default: "10m", "A Retry-After up to this long is waited for; a longer one parks the feed."),
    ])
    static let tlsSchema = SettingsSchema([
        .optional("ca_file", default: "the system's CAs", "A PEM bundle to trust instead: the OEM's private CA. TLS is always verified."),
        .optional("client_certificate", "Mutual TLS: the client certificate (with client_key)."),
        .optional("client_key", "Mutual TLS: the client key (with client_certificate)."),
        .optional("client_key_password_file", "Where an encrypted client key's passphrase is."),
        .optional("client_key_password_env", "The environment variable holding it."),
    ])
    static let credentialKeys = ["auth", "rate_limit", "daily_quota", "quota_timezone"]
    static let authKeys = [
        "kind", "token_url", "client_id", "client_secret_file", "client_secret_env", "scope", "client_auth", "allow_http", "header",
        "query_param", "key_file", "key_env", "user", "password_file", "password_env", "password_type",
    ]
    /// Keys that would put a secret into the config file.
    static let inlineSecrets = ["client_secret": "client_secret_file or client_secret_env", "key": "key_file or key_env", "api_key": "key_file or key_env",
        "password": "password_file or password_env", "token": "a credentials entry", "client_key_password": "client_key_password_file or client_key_password_env"]


    /// An http(s) URL without credentials in it; plain http only to loopback, or with `allow_http`.
    func readURL(_ node: Node, what: String, allowHTTP: Bool, reader: inout YAMLReader) -> String? {
        guard let url = reader.nonEmptyString(node, what: what) else { return nil }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), RequestRunner.host(of: url).count > 0 else {
            reader.error("104", "\(what) must be an https:// URL", at: node)
            return nil
        }
        let authority = url.dropFirst(url.hasPrefix("https://") ? 8 : 7).prefix { $0 != "/" && $0 != "?" }
        if authority.contains("@") {
            reader.error("113", "the \(what) contains a user or password", at: node, help: "put credentials under credentials:, with their secret in a file or variable")
            return nil
        }
        if url.hasPrefix("http://") && !allowHTTP {
            let authority = RequestRunner.host(of: url)
            // `[::1]:8080` -> `[::1]`; `127.0.0.1:8080` -> `127.0.0.1`
            let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }) + "]" : String(authority.prefix { $0 != ":" })
            if !["127.0.0.1", "localhost", "[::1]"].contains(host) {
                reader.error(
                    "111", "\(what) uses plain http to \(host): credentials and dealer data would cross the network unencrypted", at: node,
                    help: "use https; for a test OEM on a trusted network, set allow_http: true")
            }
        }
        return url
    }

    func readPairs(_ node: Node, what: String, reader: inout YAMLReader) -> [(name: String, value: String)] {
        guard let entries = reader.entries(node, what: what) else { return [] }
        var pairs: [(name: String, value: String)] = []
        for e in entries {
            if let v = reader.string(e.value, what: "\(what) value '\(e.key)'") { pairs.append((e.key, v)) }
        }
        return pairs
    }





    /// The `format`, `timezone`, `overlap` and `start` of an incremental pull.
    func readChangeTimes(_ keys: [YAMLReader.Entry], reader: inout YAMLReader) -> (codec: ChangeTimeCodec, overlap: Duration, start: Timestamp?)? {
        var zone = ZoneConverter.utc
        if let z = keys["timezone"], let id = reader.nonEmptyString(z.value, what: "timezone") {
            if let converter = ZoneConverter(identifier: id) { zone = converter } else {
                reader.error("104", "unknown time zone '\(id)'", at: z.value, help: "use an IANA name such as Asia/Shanghai")
            }
        }
        var pattern: DatePattern?
        if let f = keys["format"], let text = reader.nonEmptyString(f.value, what: "format") {
            do {
                let p = try DatePattern(text)
                if !p.hasTime {
                    reader.error("104", "the change-time format '\(text)' has no time of day", at: f.value, help: "use a format with HH:mm:ss, iso8601, epoch_s or epoch_ms")
                } else {
                    pattern = p
                }
            } catch {
                reader.error("104", "invalid time format '\(text)': \(error.description)", at: f.value, notes: ["formats: iso8601, epoch_s, epoch_ms, or a pattern such as yyyy-MM-dd HH:mm:ss"])
            }
        }
        var overlap = Duration.seconds(300)
        if let o = keys["overlap"], let d = readDuration(o.value, what: "overlap", reader: &reader) {
            if d < .seconds(1) {
                reader.error("104", "overlap must be at least 1s: records that share the last change time are fetched again and told apart by their id", at: o.value)
            } else {
                overlap = d
            }
        }
        guard let pattern else { return nil }
        let codec = ChangeTimeCodec(pattern: pattern, zone: zone)
        var start: Timestamp?
        if let s = keys["start"], let text = reader.nonEmptyString(s.value, what: "start") {
            start = codec.parse(text)
            if start == nil { reader.error("104", "start '\(text)' is not a time in the format \(pattern.text)", at: s.value) }
        }
        return (codec, overlap, start)
    }


    func readRetry(_ node: Node, reader: inout YAMLReader) -> RetryPolicy {
        var policy = RetryPolicy()
        guard let keys = reader.entries(node, what: "retry", allowed: Self.retrySchema.names) else { return policy }
        for k in keys {
            switch k.key {
            case "max_attempts": if let n = reader.int(k.value, what: "max_attempts", range: 1...100) { policy.maxAttempts = n }
            case "base": if let d = readDuration(k.value, what: "base", reader: &reader) { policy.base = d }
            case "cap": if let d = readDuration(k.value, what: "cap", reader: &reader) { policy.cap = d }
            case "max_retry_after": if let d = readDuration(k.value, what: "max_retry_after", reader: &reader) { policy.maxRetryAfter = d }
            default: break
            }
        }
        if policy.cap < policy.base { reader.error("104", "retry cap (\(policy.cap.short)) is below base (\(policy.base.short))", at: node) }
        return policy
    }

    /// What every HTTP source has: `retry`, `timeout`, `connect_timeout`, `max_response_bytes`, `tls`.
    func readHTTP(
        _ block: SettingsBlock, retry: inout RetryPolicy, transport: inout TransportSettings, password: inout SecretSource?,
        reader: inout YAMLReader, resolve: (String) -> String
    ) {
        if let r = block["retry"] { retry = readRetry(r.value, reader: &reader) }
        if let t = block["timeout"], let d = readDuration(t.value, what: "timeout", reader: &reader) { transport.timeout = d }
        if let t = block["connect_timeout"], let d = readDuration(t.value, what: "connect_timeout", reader: &reader) {
            transport.connectTimeout = d
        }
        if let m = block["max_response_bytes"], let n = reader.int(m.value, what: "max_response_bytes", range: 1024...(64 << 30)) {
            transport.maxResponseBytes = n
        }
        if let t = block["tls"] { readTLS(t.value, into: &transport, password: &password, reader: &reader, resolve: resolve) }
    }

    func readTLS(_ node: Node, into transport: inout TransportSettings, password: inout SecretSource?, reader: inout YAMLReader, resolve: (String) -> String) {
        guard let keys = reader.entries(node, what: "tls", allowed: Self.tlsSchema.names) else { return }
        for k in keys {
            guard let v = reader.nonEmptyString(k.value, what: k.key) else { continue }
            switch k.key {
            case "ca_file": transport.tls.caFile = resolve(v)
            case "client_certificate": transport.tls.clientCertificate = resolve(v)
            case "client_key": transport.tls.clientKey = resolve(v)
            case "client_key_password_file": password = .file(resolve(v))
            case "client_key_password_env": password = .environment(v)
            default: break
            }
        }
        let tls = transport.tls
        if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
            reader.error("104", "mutual TLS needs client_certificate and client_key together", at: node)
        }
    }

    /// `500ms`, `30s`, `10m`, `2h`, `7d`, or a number of seconds.
    func readDuration(_ node: Node, what: String, reader: inout YAMLReader) -> Duration? {
        guard case .scalar(let s) = node, !YAMLReader.isNull(node) else {
            reader.error("103", "\(what) must be a duration (500ms, 30s, 10m, 2h), found \(YAMLReader.kind(node))", at: node)
            return nil
        }
        let text = s.string.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Double(text.dropLast(suffix.count)), n >= 0 { return .milliseconds(Int64((n * factor * 1000).rounded())) }
        }
        if let n = Double(text), n >= 0 { return .milliseconds(Int64((n * 1000).rounded())) }
        reader.error("104", "invalid duration '\(text)' for \(what)", at: node, help: "write it as 500ms, 30s, 10m, 2h or 7d")
        return nil
    }

    // MARK: Credentials

    /// The valid credentials, and the names of all written (an invalid entry has its own diagnostics:
    /// the feeds naming it get no second one).
    func readCredentials(_ node: Node, reader: inout YAMLReader, resolve: (String) -> String) -> ([String: CredentialSettings], Set<String>) {
        guard let list = reader.entries(node, what: "credentials") else { return ([:], []) }
        var out: [String: CredentialSettings] = [:]
        for entry in list {
            let what = "credentials '\(entry.key)'"
            guard let keys = reader.entries(entry.value, what: what, allowed: Self.credentialKeys) else { continue }
            reader.require(["auth"], in: keys, of: entry.value, what: what)
            guard let a = keys["auth"], let auth = readAuth(a.value, what: what, reader: &reader, resolve: resolve) else { continue }
            var settings = CredentialSettings(
                name: entry.key, auth: auth, rate: nil, dailyQuota: nil, quotaZone: TimeZone(identifier: "UTC")!, location: reader.location(entry.keyNode))
            if let r = keys["rate_limit"], let rk = reader.entries(r.value, what: "rate_limit", allowed: ["per_second", "burst"]) {
                reader.require(["per_second"], in: rk, of: r.value, what: "rate_limit")
                let perSecond = rk.first { $0.key == "per_second" }.flatMap { reader.number($0.value, what: "per_second") }
                let burst = rk.first { $0.key == "burst" }.flatMap { reader.int($0.value, what: "burst", range: 1...10_000) } ?? 1
                if let perSecond {
                    if perSecond > 0 { settings.rate = (perSecond, burst) } else { reader.error("104", "per_second must be positive", at: r.value) }
                }
            }
            if let q = keys["daily_quota"] { settings.dailyQuota = reader.int(q.value, what: "daily_quota", range: 1...100_000_000) }
            if let z = keys["quota_timezone"], let id = reader.nonEmptyString(z.value, what: "quota_timezone") {
                if let zone = TimeZone(identifier: id) { settings.quotaZone = zone } else {
                    reader.error("104", "unknown time zone '\(id)'", at: z.value, help: "use an IANA name such as Asia/Shanghai")
                }
            }
            out[entry.key] = settings
        }
        return (out, Set(list.map(\.key)))
    }

    func readAuth(_ node: Node, what: String, reader: inout YAMLReader, resolve: (String) -> String) -> AuthSettings? {
        if case .mapping(let m) = node {
            for (k, _) in m {
                if case .scalar(let s) = k, let instead = Self.inlineSecrets[s.string] {
                    reader.error("113", "'\(s.string)' would put a secret in the config file", at: k, help: "use \(instead)")
                }
            }
        }
        guard let keys = reader.entries(node, what: "auth of \(what)", allowed: Self.authKeys + Array(Self.inlineSecrets.keys)) else { return nil }
        func string(_ key: String) -> String? { keys[key].flatMap { reader.nonEmptyString($0.value, what: key) } }
        func secret(_ base: String, what: String) -> SecretSource? {
            let file = string(base + "_file")
            let env = string(base + "_env")
            if file != nil && env != nil { reader.error("104", "give either \(base)_file or \(base)_env, not both", at: node) }
            if let file { return .file(resolve(file)) }
            if let env { return .environment(env) }
            reader.error("102", "missing \(what): \(base)_file (a systemd credential) or \(base)_env", at: node)
            return nil
        }
        reader.require(["kind"], in: keys, of: node, what: "auth")
        guard let k = keys["kind"], let kind = reader.choice(k.value, what: "auth kind", allowed: ["oauth2", "api_key", "basic", "ws_security", "none"]) else { return nil }
        let used: [String: [String]] = [
            "oauth2": ["kind", "token_url", "client_id", "client_secret_file", "client_secret_env", "scope", "client_auth", "allow_http"],
            "api_key": ["kind", "header", "query_param", "key_file", "key_env"],
            "basic": ["kind", "user", "password_file", "password_env"],
            "ws_security": ["kind", "user", "password_file", "password_env", "password_type"],
            "none": ["kind"],
        ]
        for e in keys where !used[kind]!.contains(e.key) && Self.inlineSecrets[e.key] == nil {
            reader.error("101", "\(e.key) does not apply to auth kind \(kind)", at: e.keyNode, notes: ["keys for \(kind): \(used[kind]!.joined(separator: ", "))"])
        }
        switch kind {
        case "oauth2":
            reader.require(["token_url", "client_id"], in: keys, of: node, what: "oauth2 auth")
            let allowHTTP = keys["allow_http"].flatMap { reader.bool($0.value, what: "allow_http") } ?? false
            let url = keys["token_url"].flatMap { readURL($0.value, what: "token_url", allowHTTP: allowHTTP, reader: &reader) }
            let clientAuth = keys["client_auth"].flatMap { reader.choice($0.value, what: "client_auth", allowed: ["basic", "form"]) } ?? "basic"
            guard let url, let id = string("client_id"), let s = secret("client_secret", what: "the client secret") else { return nil }
            return .oauth2(tokenURL: url, clientID: id, secret: s, scope: string("scope"), secretInForm: clientAuth == "form")
        case "api_key":
            let header = string("header")
            let query = string("query_param")
            if header != nil && query != nil { reader.error("104", "give either header or query_param, not both", at: node) }
            guard let s = secret("key", what: "the API key") else { return nil }
            return .apiKey(name: query ?? header ?? "X-Api-Key", inQuery: query != nil, value: s)
        case "basic":
            reader.require(["user"], in: keys, of: node, what: "basic auth")
            guard let user = string("user"), let s = secret("password", what: "the password") else { return nil }
            return .basic(user: user, password: s)
        case "ws_security":
            // PasswordDigest by default: the password never crosses the wire, and nonce + created stop a replay.
            reader.require(["user"], in: keys, of: node, what: "ws_security auth")
            let type = keys["password_type"].flatMap { reader.choice($0.value, what: "password_type", allowed: ["digest", "text"]) } ?? "digest"
            guard let user = string("user"), let s = secret("password", what: "the password") else { return nil }
            return .wsSecurity(user: user, password: s, digest: type == "digest")
        default:
            return AuthSettings.none
        }
    }
}

/// Change times of an API in its format and zone, through the mapping layer's date patterns.
struct ChangeTimeCodec: TimeCodec {
    let pattern: DatePattern
    let zone: ZoneConverter

    func parse(_ text: String) -> Timestamp? {
        guard case .success(.datetime(let t)) = Coercion(type: .datetime, formats: [pattern], zone: zone).coerce(text, field: "") else {
            return nil
        }
        return t
    }

    func format(_ instant: Timestamp) -> String { pattern.format(instant, zone: zone) }
}
