import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import Yams

/// The `rest` source of a feed and the `credentials:` section (codes `C1xx`).
extension ConfigurationLoader {
    static let restKeys = [
        "kind", "url", "credentials", "query", "headers", "record_id", "pagination", "incremental", "errors", "retry", "timeout",
        "connect_timeout", "max_response_bytes", "tls", "on_failure", "max_pages", "stable", "allow_http",
    ]
    static let paginationKeys: [String: [String]] = [
        "none": ["style"],
        "page": ["style", "param", "first", "size_param", "size"],
        "offset": ["style", "param", "limit_param", "limit"],
        "cursor": ["style", "param", "path", "size_param", "size"],
        "next_link": ["style", "path", "header", "size_param", "size"],
    ]
    static let incrementalKeys = ["param", "field", "format", "timezone", "overlap", "start"]
    static let errorKeys = ["code", "success", "message", "retryable"]
    static let retryKeys = ["max_attempts", "base", "cap", "max_retry_after"]
    static let tlsKeys = ["ca_file", "client_certificate", "client_key", "client_key_password_file", "client_key_password_env"]
    static let credentialKeys = ["auth", "rate_limit", "daily_quota", "quota_timezone"]
    static let authKeys = [
        "kind", "token_url", "client_id", "client_secret_file", "client_secret_env", "scope", "client_auth", "allow_http", "header",
        "query_param", "key_file", "key_env", "user", "password_file", "password_env", "password_type",
    ]
    /// Keys that would put a secret into the config file.
    static let inlineSecrets = ["client_secret": "client_secret_file or client_secret_env", "key": "key_file or key_env", "api_key": "key_file or key_env",
        "password": "password_file or password_env", "token": "a credentials entry", "client_key_password": "client_key_password_file or client_key_password_env"]

    func readREST(_ keys: [YAMLReader.Entry], node: Node, feed: String, reader: inout YAMLReader, resolve: (String) -> String) -> RESTFeedSettings? {
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        reader.require(["url", "credentials"], in: keys, of: node, what: "the source of feed '\(feed)'")
        let allowHTTP = value("allow_http").flatMap { reader.bool($0.value, what: "allow_http") } ?? false
        guard let urlEntry = value("url"), let url = readURL(urlEntry.value, what: "url", allowHTTP: allowHTTP, reader: &reader),
            let credEntry = value("credentials"), let credentials = reader.nonEmptyString(credEntry.value, what: "credentials")
        else { return nil }

        var source = RESTSourceSettings(url: url)
        if let q = value("query") { source.query = readPairs(q.value, what: "query", reader: &reader) }
        if let h = value("headers") {
            source.headers = readPairs(h.value, what: "headers", reader: &reader)
            for (name, _) in source.headers where ["authorization", "x-api-key", "cookie"].contains(name.lowercased()) {
                reader.error(
                    "113", "a '\(name)' header in the config puts a secret in the file", at: h.value,
                    help: "name the credentials under credentials: (auth: api_key with header: \(name), basic, oauth2)")
            }
        }
        if let r = value("record_id") { source.recordID = readPath(r.value, what: "record_id", reader: &reader) }
        if let p = value("pagination") { source.pagination = readPagination(p.value, reader: &reader) ?? .none }
        if let i = value("incremental") {
            source.incremental = readIncremental(i.value, reader: &reader)
            if source.recordID == nil {
                reader.error(
                    "102", "incremental needs record_id: the record's id, which tells apart records with the same change time",
                    at: i.keyNode, help: "add record_id: orderNo (the JSON path of the id in each record)")
            }
        }
        if let e = value("errors") { source.bodyErrors = readBodyErrors(e.value, reader: &reader) }
        if let m = value("max_pages"), let n = reader.int(m.value, what: "max_pages", range: 1...10_000_000) { source.maxPages = n }

        var settings = RESTFeedSettings(
            source: source, credentials: credentials, retry: RetryPolicy(), transport: TransportSettings(), clientKeyPassword: nil,
            onFailure: .stop)
        if let o = value("on_failure"),
            let c = reader.choice(o.value, what: "on_failure", allowed: RESTFeedSettings.OnFailure.allCases.map(\.rawValue))
        {
            settings.onFailure = RESTFeedSettings.OnFailure(rawValue: c)!
            switch source.pagination {
            case .page, .offset, .none: break
            case .cursor, .nextLink:
                if settings.onFailure == .continue {
                    reader.error(
                        "104", "on_failure: continue needs page or offset pagination: with a cursor or a next link, the next page is in the page that failed",
                        at: o.value)
                }
            }
        }
        // stable: true says the pages are a keyset that records changing while paging do not shift.
        readHTTP(keys, retry: &settings.retry, transport: &settings.transport, password: &settings.clientKeyPassword, reader: &reader, resolve: resolve)
        if let s = value("stable"), let stable = reader.bool(s.value, what: "stable") { settings.source.positional = !stable }
        return settings
    }

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

    func readPath(_ node: Node, what: String, reader: inout YAMLReader) -> JSONPath? {
        guard let text = reader.nonEmptyString(node, what: what) else { return nil }
        do {
            return try JSONPath(parsing: text)
        } catch {
            reader.error("104", "invalid JSON path '\(text)' in \(what): \(error)", at: node, help: MappingCompiler.pathHelp)
            return nil
        }
    }

    /// A path into the whole response body (`$.data.nextCursor`; a leading `$` is optional).
    func readBodyPath(_ node: Node, what: String, reader: inout YAMLReader) -> JSONPath? {
        guard var path = readPath(node, what: what, reader: &reader) else { return nil }
        if case .parent = path.anchor {
            reader.error("104", "\(what) is a path in the response body, from '$'", at: node)
            return nil
        }
        if path.hasWildcard {
            reader.error("104", "\(what) must name one value, without [*]", at: node)
            return nil
        }
        path.anchor = .root
        return path
    }

    func readPagination(_ node: Node, reader: inout YAMLReader) -> Pagination? {
        guard let keys = reader.entries(node, what: "pagination", allowed: ["style", "param", "first", "size_param", "size", "limit_param", "limit", "path", "header"])
        else { return nil }
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        reader.require(["style"], in: keys, of: node, what: "pagination")
        guard let s = value("style"), let style = reader.choice(s.value, what: "pagination style", allowed: ["page", "offset", "cursor", "next_link", "none"])
        else { return nil }
        let allowed = Self.paginationKeys[style]!
        for k in keys where !allowed.contains(k.key) {
            reader.error("101", "\(k.key) does not apply to pagination style \(style)", at: k.keyNode, notes: ["keys for \(style): \(allowed.joined(separator: ", "))"])
        }
        func string(_ key: String, _ fallback: String) -> String { value(key).flatMap { reader.nonEmptyString($0.value, what: key) } ?? fallback }
        let sizeParam = value("size_param").flatMap { reader.nonEmptyString($0.value, what: "size_param") }
        let size = value("size").flatMap { reader.int($0.value, what: "size", range: 1...100_000) }
        if (sizeParam == nil) != (size == nil), style != "offset", style != "none" {
            reader.error("104", "give size_param and size together (the page size asked for, and its parameter)", at: node)
        }
        switch style {
        case "page":
            let first = value("first").flatMap { reader.int($0.value, what: "first", range: 0...1) } ?? 1
            return .page(param: string("param", "page"), first: first, sizeParam: sizeParam, size: size)
        case "offset":
            reader.require(["limit"], in: keys, of: node, what: "offset pagination")
            let limit = value("limit").flatMap { reader.int($0.value, what: "limit", range: 1...100_000) } ?? 100
            return .offset(param: string("param", "offset"), limitParam: string("limit_param", "limit"), limit: limit)
        case "cursor":
            reader.require(["path"], in: keys, of: node, what: "cursor pagination")
            guard let p = value("path"), let path = readBodyPath(p.value, what: "the cursor path", reader: &reader) else { return nil }
            return .cursor(param: string("param", "cursor"), path: path, sizeParam: sizeParam, size: size)
        case "next_link":
            let path = value("path").flatMap { readBodyPath($0.value, what: "the next link path", reader: &reader) }
            let header = value("header").flatMap { reader.bool($0.value, what: "header") } ?? true
            if path == nil && !header {
                reader.error("104", "next_link needs a path in the body, or header: true (the Link header)", at: node)
            }
            return .nextLink(path: path, header: header, sizeParam: sizeParam, size: size)
        default:
            return Pagination.none
        }
    }

    func readIncremental(_ node: Node, reader: inout YAMLReader) -> Incremental? {
        guard let keys = reader.entries(node, what: "incremental", allowed: Self.incrementalKeys) else { return nil }
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        reader.require(["param", "field", "format"], in: keys, of: node, what: "incremental")
        let times = readChangeTimes(keys, reader: &reader)
        guard let p = value("param").flatMap({ reader.nonEmptyString($0.value, what: "param") }),
            let fieldNode = value("field"), let field = readPath(fieldNode.value, what: "the change-time field", reader: &reader),
            let times
        else { return nil }
        return Incremental(param: p, field: field, codec: times.codec, overlap: times.overlap, start: times.start)
    }

    /// The `format`, `timezone`, `overlap` and `start` of an incremental pull.
    func readChangeTimes(_ keys: [YAMLReader.Entry], reader: inout YAMLReader) -> (codec: ChangeTimeCodec, overlap: Duration, start: Timestamp?)? {
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        var zone = ZoneConverter.utc
        if let z = value("timezone"), let id = reader.nonEmptyString(z.value, what: "timezone") {
            if let converter = ZoneConverter(identifier: id) { zone = converter } else {
                reader.error("104", "unknown time zone '\(id)'", at: z.value, help: "use an IANA name such as Asia/Shanghai")
            }
        }
        var pattern: DatePattern?
        if let f = value("format"), let text = reader.nonEmptyString(f.value, what: "format") {
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
        if let o = value("overlap"), let d = readDuration(o.value, what: "overlap", reader: &reader) {
            if d < .seconds(1) {
                reader.error("104", "overlap must be at least 1s: records that share the last change time are fetched again and told apart by their id", at: o.value)
            } else {
                overlap = d
            }
        }
        guard let pattern else { return nil }
        let codec = ChangeTimeCodec(pattern: pattern, zone: zone)
        var start: Timestamp?
        if let s = value("start"), let text = reader.nonEmptyString(s.value, what: "start") {
            start = codec.parse(text)
            if start == nil { reader.error("104", "start '\(text)' is not a time in the format \(pattern.text)", at: s.value) }
        }
        return (codec, overlap, start)
    }

    func readBodyErrors(_ node: Node, reader: inout YAMLReader) -> BodyErrorRule? {
        guard let keys = reader.entries(node, what: "errors", allowed: Self.errorKeys) else { return nil }
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        reader.require(["code", "success"], in: keys, of: node, what: "errors")
        func codes(_ key: String) -> Set<String> {
            guard let e = value(key), let items = reader.sequence(e.value, what: key, allowScalar: true) else { return [] }
            var out: Set<String> = []
            for item in items {
                if case .scalar(let s) = item { out.insert(s.string) } else { reader.error("103", "\(key) lists codes (numbers or strings)", at: item) }
            }
            return out
        }
        guard let c = value("code"), let code = readBodyPath(c.value, what: "the error code path", reader: &reader) else { return nil }
        let success = codes("success")
        if success.isEmpty, let e = value("success") { reader.error("104", "success needs at least one code", at: e.value) }
        let message = value("message").flatMap { readBodyPath($0.value, what: "the error message path", reader: &reader) }
        return BodyErrorRule(code: code, success: success, message: message, retryable: codes("retryable"))
    }

    func readRetry(_ node: Node, reader: inout YAMLReader) -> RetryPolicy {
        var policy = RetryPolicy()
        guard let keys = reader.entries(node, what: "retry", allowed: Self.retryKeys) else { return policy }
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
        _ keys: [YAMLReader.Entry], retry: inout RetryPolicy, transport: inout TransportSettings, password: inout SecretSource?,
        reader: inout YAMLReader, resolve: (String) -> String
    ) {
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        if let r = value("retry") { retry = readRetry(r.value, reader: &reader) }
        if let t = value("timeout"), let d = readDuration(t.value, what: "timeout", reader: &reader) { transport.timeout = d }
        if let t = value("connect_timeout"), let d = readDuration(t.value, what: "connect_timeout", reader: &reader) {
            transport.connectTimeout = d
        }
        if let m = value("max_response_bytes"), let n = reader.int(m.value, what: "max_response_bytes", range: 1024...(64 << 30)) {
            transport.maxResponseBytes = n
        }
        if let t = value("tls") { readTLS(t.value, into: &transport, password: &password, reader: &reader, resolve: resolve) }
    }

    func readTLS(_ node: Node, into transport: inout TransportSettings, password: inout SecretSource?, reader: inout YAMLReader, resolve: (String) -> String) {
        guard let keys = reader.entries(node, what: "tls", allowed: Self.tlsKeys) else { return }
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
            func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
            reader.require(["auth"], in: keys, of: entry.value, what: what)
            guard let a = value("auth"), let auth = readAuth(a.value, what: what, reader: &reader, resolve: resolve) else { continue }
            var settings = CredentialSettings(
                name: entry.key, auth: auth, rate: nil, dailyQuota: nil, quotaZone: TimeZone(identifier: "UTC")!, location: reader.location(entry.keyNode))
            if let r = value("rate_limit"), let rk = reader.entries(r.value, what: "rate_limit", allowed: ["per_second", "burst"]) {
                reader.require(["per_second"], in: rk, of: r.value, what: "rate_limit")
                let perSecond = rk.first { $0.key == "per_second" }.flatMap { reader.number($0.value, what: "per_second") }
                let burst = rk.first { $0.key == "burst" }.flatMap { reader.int($0.value, what: "burst", range: 1...10_000) } ?? 1
                if let perSecond {
                    if perSecond > 0 { settings.rate = (perSecond, burst) } else { reader.error("104", "per_second must be positive", at: r.value) }
                }
            }
            if let q = value("daily_quota") { settings.dailyQuota = reader.int(q.value, what: "daily_quota", range: 1...100_000_000) }
            if let z = value("quota_timezone"), let id = reader.nonEmptyString(z.value, what: "quota_timezone") {
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
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        func string(_ key: String) -> String? { value(key).flatMap { reader.nonEmptyString($0.value, what: key) } }
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
        guard let k = value("kind"), let kind = reader.choice(k.value, what: "auth kind", allowed: ["oauth2", "api_key", "basic", "ws_security", "none"]) else { return nil }
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
            let allowHTTP = value("allow_http").flatMap { reader.bool($0.value, what: "allow_http") } ?? false
            let url = value("token_url").flatMap { readURL($0.value, what: "token_url", allowHTTP: allowHTTP, reader: &reader) }
            let clientAuth = value("client_auth").flatMap { reader.choice($0.value, what: "client_auth", allowed: ["basic", "form"]) } ?? "basic"
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
            let type = value("password_type").flatMap { reader.choice($0.value, what: "password_type", allowed: ["digest", "text"]) } ?? "digest"
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
