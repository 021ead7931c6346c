import Foundation
import OEMSyncCore
import OEMSyncFeeds

/// A REST feed: what to ask for (``RESTSourceSettings``), with which credentials, and how hard
/// to try.
///
/// ```yaml
/// source:
///   kind: rest
///   url: https://api.acme-motors.example/api/v1/dealers/D001/orders
///   credentials: acme-api            # a name under credentials:
///   record_id: orderNo               # the record's id in the payload
///   pagination: {style: page, param: pageNo, size_param: pageSize, size: 100}
///   incremental: {param: updatedSince, field: updateTime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai, overlap: 10m}
///   errors: {code: $.code, success: [0], message: $.msg, retryable: [50001]}
/// ```
/// Defaults: `retry` 5 attempts, base 500 ms, cap 30 s, `max_retry_after` 10 min; `timeout` 30 s;
/// `connect_timeout` 10 s; `max_response_bytes` 256 MiB; `on_failure: stop`; `max_pages` 10000.
public struct RESTFeedSettings: Sendable {
    public var source: RESTSourceSettings
    /// The name of the credentials under `credentials:`.
    public var credentials: String
    public var retry: RetryPolicy
    public var transport: TransportSettings
    /// Where the client key's passphrase comes from, if it has one.
    public var clientKeyPassword: SecretSource?
    public var onFailure: OnFailure

    public enum OnFailure: String, Sendable, CaseIterable {
        /// The feed stops at the failed page; the next run asks for it again. Nothing is skipped.
        case stop
        /// The failed page is recorded in the ledger (with its payload) and the feed goes on with
        /// the next one: page and offset paging only, since a cursor or next link is in the page.
        case `continue`
    }
}

/// OEM credentials shared by the feeds that name them: one token cache, one rate limit, one
/// daily quota.
///
/// ```yaml
/// credentials:
///   acme-api:
///     auth: {kind: oauth2, token_url: https://api.acme-motors.example/oauth/token, client_id: dealer-d001,
///            client_secret_file: /run/credentials/oemsync.service/acme-secret}
///     rate_limit: {per_second: 2, burst: 5}
///     daily_quota: 5000
///     quota_timezone: Asia/Shanghai
/// ```
public struct CredentialSettings: Sendable {
    public var name: String
    public var auth: AuthSettings
    public var rate: (perSecond: Double, burst: Int)?
    public var dailyQuota: Int?
    /// The zone the quota's day is counted in. Default UTC.
    public var quotaZone: TimeZone
    public var location: SourceLocation
}


extension CredentialSettings {
    /// Whether a reloaded config left these credentials as they were (their token cache and limiter
    /// can then be kept).
    public func same(as other: CredentialSettings) -> Bool {
        name == other.name && auth == other.auth && rate?.perSecond == other.rate?.perSecond && rate?.burst == other.rate?.burst
            && dailyQuota == other.dailyQuota && quotaZone == other.quotaZone
    }
}

/// How to authenticate; secrets are named (a file, a variable), read when a sync starts.
public enum AuthSettings: Sendable, Hashable {
    case none
    case oauth2(tokenURL: String, clientID: String, secret: SecretSource, scope: String?, secretInForm: Bool)
    case apiKey(name: String, inQuery: Bool, value: SecretSource)
    case basic(user: String, password: SecretSource)
    case wsSecurity(user: String, password: SecretSource, digest: Bool)

    /// Reads the secrets.
    public func method(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> AuthMethod {
        switch self {
        case .none: return .none
        case .oauth2(let url, let id, let secret, let scope, let inForm):
            return .oauth2(
                OAuth2Settings(tokenURL: url, clientID: id, clientSecret: try secret.read("client secret", environment), scope: scope, secretInForm: inForm))
        case .apiKey(let name, let inQuery, let value):
            return .apiKey(name: name, inQuery: inQuery, value: try value.read("API key", environment))
        case .basic(let user, let password):
            return .basic(user: user, password: try password.read("password", environment))
        case .wsSecurity(let user, let password, let digest):
            return .wsSecurity(user: user, password: try password.read("password", environment), digest: digest)
        }
    }
}

/// Where a secret is: a file (a systemd credential, `/run/credentials/<unit>/<name>`) or an
/// environment variable. Never the config itself.
public enum SecretSource: Sendable, Hashable {
    case file(String)
    case environment(String)

    public func read(_ what: String, _ environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError)
        -> Secret
    {
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path), let s = String(data: data, encoding: .utf8) else {
                throw ConfigurationError("cannot read the \(what) file '\(path)'")
            }
            let value = s.trimmingCharacters(in: .newlines)
            guard !value.isEmpty else { throw ConfigurationError("the \(what) file '\(path)' is empty") }
            return Secret(value)
        case .environment(let name):
            guard let s = environment[name], !s.isEmpty else {
                throw ConfigurationError("the environment variable \(name) (\(what)) is not set")
            }
            return Secret(s)
        }
    }
}
