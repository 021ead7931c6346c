import Foundation
import OEMSyncCore

/// A secret (client secret, API key, password, token): its value is only ever handed to the
/// transport; printed, it is `***`.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "***" }
    public var debugDescription: String { "***" }
}

/// How requests to an OEM are authenticated.
public enum AuthMethod: Sendable, Hashable {
    case none
    /// OAuth2 client credentials (RFC 6749 §4.4): a bearer token from the token endpoint.
    case oauth2(OAuth2Settings)
    /// An API key in a header (`X-Api-Key`) or a query parameter (`api_key`).
    case apiKey(name: String, inQuery: Bool, value: Secret)
    /// HTTP basic authentication.
    case basic(user: String, password: Secret)
    /// WS-Security UsernameToken, in the SOAP envelope's header (the SOAP source writes it; nothing
    /// goes into the HTTP headers). `digest`: PasswordDigest rather than PasswordText.
    case wsSecurity(user: String, password: Secret, digest: Bool)
}

public struct OAuth2Settings: Sendable, Hashable {
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: Secret
    public var scope: String?
    /// Send the client's id and secret as HTTP basic authentication (the default, RFC 6749
    /// §2.3.1), or as form fields (`client_id`, `client_secret`), which some OEMs require.
    public var secretInForm: Bool

    public init(tokenURL: String, clientID: String, clientSecret: Secret, scope: String? = nil, secretInForm: Bool = false) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scope = scope
        self.secretInForm = secretInForm
    }
}

/// Why credentials could not be added to a request. Never carries a secret.
public struct AuthFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// Whether trying again later may help (the token endpoint is down), or not (the client is refused).
    public var isRetryable: Bool
    public var retryAfter: Duration?
    public var description: String { message }
}

/// Adds a feed's credentials to its requests. For OAuth2 it caches the token, shared by every feed
/// using the same credentials, and fetches a new one shortly before it expires (a tenth of its
/// lifetime, at most a minute, early) or when the OEM answers 401.
public final class Authenticator: @unchecked Sendable {
    public let method: AuthMethod
    private let lock = NSLock()
    private var token: (value: String, refreshAt: Timestamp)?
    private var fetched = 0

    public init(method: AuthMethod) { self.method = method }

    /// Tokens fetched so far.
    public var tokensFetched: Int { lock.withLock { fetched } }

    /// Adds the credentials to `request`; fetches a token through `transport` when needed.
    public func authorize(_ request: inout HTTPRequest, transport: any HTTPTransport, clock: any SyncClock) throws(AuthFailure) {
        switch method {
        case .none, .wsSecurity: return
        case .basic(let user, let password):
            request.headers.append(("Authorization", "Basic " + Data("\(user):\(password.value)".utf8).base64EncodedString()))
        case .apiKey(let name, let inQuery, let value):
            if inQuery {
                request.url += (request.url.contains("?") ? "&" : "?") + URLQuery.encode(name) + "=" + URLQuery.encode(value.value)
            } else {
                request.headers.append((name, value.value))
            }
        case .oauth2(let settings):
            let value = try bearer(settings, transport: transport, clock: clock)
            request.headers.append(("Authorization", "Bearer " + value))
        }
    }

    /// Forgets the cached token after the OEM refused it, so the next request fetches a new one.
    public func invalidate() {
        lock.withLock { token = nil }
    }

    private func bearer(_ s: OAuth2Settings, transport: any HTTPTransport, clock: any SyncClock) throws(AuthFailure) -> String {
        let now = clock.now()
        if let t = lock.withLock({ token }), now < t.refreshAt { return t.value }
        var form = "grant_type=client_credentials"
        if let scope = s.scope { form += "&scope=" + URLQuery.encode(scope) }
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ]
        if s.secretInForm {
            form += "&client_id=" + URLQuery.encode(s.clientID) + "&client_secret=" + URLQuery.encode(s.clientSecret.value)
        } else {
            let pair = URLQuery.encode(s.clientID) + ":" + URLQuery.encode(s.clientSecret.value)
            headers.append(("Authorization", "Basic " + Data(pair.utf8).base64EncodedString()))
        }
        let response: HTTPResponse
        do {
            response = try transport.send(HTTPRequest(method: "POST", url: s.tokenURL, headers: headers, body: Array(form.utf8)))
        } catch {
            throw AuthFailure(message: "the OAuth2 token request failed: \(error.message)", isRetryable: error.isRetryable)
        }
        guard response.status == 200 else {
            // The OAuth2 error code (`invalid_client`) says why; nothing else of the body is shown.
            let code = (try? JSONParser.parse(response.body))?[key: "error"]?.fieldText.map { " (\(Redact.code($0)))" } ?? ""
            let retryable = response.status >= 500 || response.status == 429
            let after = response.header("retry-after").flatMap { RetryAfter.parse($0, now: now) }
            throw AuthFailure(
                message: "the OAuth2 token endpoint answered HTTP \(response.status)\(code)", isRetryable: retryable, retryAfter: after)
        }
        guard let body = try? JSONParser.parse(response.body), case .string(let value)? = body[key: "access_token"], !value.isEmpty else {
            throw AuthFailure(message: "the OAuth2 token response has no access_token", isRetryable: true)
        }
        if let type = body[key: "token_type"]?.fieldText, type.lowercased() != "bearer" {
            throw AuthFailure(message: "the OAuth2 token type is '\(type)', not Bearer", isRetryable: false)
        }
        // An absent, unreadable or absurd lifetime (NaN, 1e400, negative) is taken as an hour.
        var lifetime = body[key: "expires_in"]?.fieldText.flatMap(Double.init) ?? 3600
        if !lifetime.isFinite || lifetime <= 0 || lifetime > 366 * 86_400 { lifetime = 3600 }
        let early = min(60, lifetime / 10)
        let refreshAt = Timestamp(microseconds: now.microseconds + Int64((lifetime - early) * 1_000_000))
        lock.withLock {
            token = (value, refreshAt)
            fetched += 1
        }
        return value
    }
}

/// Percent-encoding for query strings and forms (RFC 3986 unreserved characters stay).
public enum URLQuery {
    public static func encode(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0xF)]))
            }
        }
        return out
    }

    /// `base` with `parameters` added to its query (after any it has).
    public static func url(_ base: String, adding parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return base }
        let query = parameters.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
        return base + (base.contains("?") ? "&" : "?") + query
    }
}
