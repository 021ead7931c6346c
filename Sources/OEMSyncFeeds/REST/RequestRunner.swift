import Foundation
import OEMSyncCore

/// What the caller makes of a 2xx response: the parsed page, or why it cannot be used.
public enum Acceptance<Value: Sendable>: Sendable {
    case accept(Value)
    /// Worth another attempt (invalid or truncated JSON, a "busy" error code in the body).
    case retry(String)
    /// Will not get better by asking again (an error code in the body that says so).
    case reject(String)
}

/// One failed attempt, as the ledger and the logs tell it.
public struct AttemptNote: Sendable, Hashable, CustomStringConvertible {
    /// `HTTP 503`, `timeout`, `invalid JSON`, ...
    public var problem: String
    /// How long the runner waited before the next attempt (nil after the last one).
    public var waited: Duration?
    /// Whether the wait came from the server's `Retry-After`.
    public var fromRetryAfter: Bool
    /// Whether the OEM could not be reached at all (refused, unresolvable): worth a warning in the
    /// log even while it is retried.
    public var unreachable = false

    public var description: String {
        guard let waited else { return problem }
        return "\(problem), waited \(waited.short)\(fromRetryAfter ? " (Retry-After)" : "")"
    }
}

/// How a request ended after all its attempts.
public enum FetchOutcome<Value: Sendable>: Sendable {
    case success(Value, HTTPResponse)
    /// Every attempt failed, or one failed for good. `response` is the last one received, if any.
    case failure(message: String, response: HTTPResponse?)
    /// The credentials' daily quota is spent; it renews at `renews`.
    case quotaSpent(renews: Timestamp)
    /// The OEM asked to come back after `wait` (a `Retry-After` past the policy's limit).
    case comeBackLater(reason: String, wait: Duration)
    /// The host's circuit breaker is open: nothing was sent. It lets a request through again after `wait`.
    case circuitOpen(host: String, wait: Duration)
}

public struct FetchResult<Value: Sendable>: Sendable {
    public var outcome: FetchOutcome<Value>
    /// Requests sent (the quota counts every one), token requests not included.
    public var requests: Int
    /// The failed attempts before the outcome, in order.
    public var attempts: [AttemptNote]

    /// How the outcomes that stop a pull without a page stop it: a spent quota or a far
    /// `Retry-After` parks it until then; an open circuit breaker fails it (the OEM is failing,
    /// though nothing was sent now); a failure fails it with its message. Not for a success.
    public func pullEnd(now: Timestamp) -> PullEnd {
        switch outcome {
        case .quotaSpent(let renews):
            return .parked(reason: "the daily request quota of these credentials is spent; it renews at \(renews)", until: renews, quota: true)
        case .comeBackLater(let reason, let wait):
            let micros = Int64(min(wait.seconds, 10 * 365 * 86_400) * 1_000_000)
            return .parked(reason: reason, until: Timestamp(microseconds: now.microseconds + micros), quota: false)
        case .circuitOpen(let host, let wait):
            var message = "the circuit breaker for \(host) is open after repeated failures; it lets a request through in \(wait.short)"
            if let last = attempts.last { message = "\(last.problem); " + message }
            return .failed(message)
        case .failure(let message, _):
            return .failed(message)
        case .success:
            preconditionFailure("a successful fetch does not end a pull")
        }
    }
}

/// How a pull ends after a request that brought no page.
public enum PullEnd: Sendable {
    case parked(reason: String, until: Timestamp?, quota: Bool)
    case failed(String)
}

/// Sends one request until it succeeds, fails for good, or the policy gives up: retries with
/// backoff and jitter, honours `Retry-After`, refreshes an OAuth2 token once on 401, waits for the
/// credentials' rate limit, stops at their daily quota, and respects the host's circuit breaker.
///
/// Classification of a response: 2xx goes to the caller's `accept`; 429 and 503 are retried after
/// their `Retry-After` (or the backoff); 408 and other 5xx are retried after the backoff; 401 gets
/// one new token; 3xx (never followed) and other 4xx fail at once. Transport errors are retried
/// unless they are TLS problems, an oversized response or an invalid request.
public struct RequestRunner: Sendable {
    public var transport: any HTTPTransport
    public var authenticator: Authenticator
    public var limiter: RequestLimiter?
    public var breakers: CircuitBreakers
    public var policy: RetryPolicy
    public var clock: any SyncClock
    /// Jitter: a number in [0, 1) per wait. Injected so tests know the waits.
    public var random: @Sendable () -> Double
    /// Called after each failed attempt (for logs), before the wait.
    public var onAttempt: @Sendable (AttemptNote) -> Void

    public init(
        transport: any HTTPTransport, authenticator: Authenticator, limiter: RequestLimiter?, breakers: CircuitBreakers,
        policy: RetryPolicy, clock: any SyncClock, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        onAttempt: @escaping @Sendable (AttemptNote) -> Void = { _ in }
    ) {
        self.transport = transport
        self.authenticator = authenticator
        self.limiter = limiter
        self.breakers = breakers
        self.policy = policy
        self.clock = clock
        self.random = random
        self.onAttempt = onAttempt
    }

    /// - Parameter inspectError: reads the body of a non-2xx answer that has one worth reading (a
    ///   SOAP Fault comes with HTTP 500 whether it is the server's or the client's): its verdict
    ///   replaces the status's. Nil: the status decides.
    /// - Parameter prepare: makes each attempt's request anew (a WS-Security header's nonce and
    ///   creation time must not be sent twice).
    public func fetch<Value: Sendable>(
        _ request: HTTPRequest, prepare: ((inout HTTPRequest) -> Void)? = nil, accept: (HTTPResponse) -> Acceptance<Value>,
        inspectError: ((HTTPResponse) -> Acceptance<Value>?)? = nil
    ) -> FetchResult<Value> {
        let host = Self.host(of: request.url)
        var attempts: [AttemptNote] = []
        var requests = 0
        var failures = 0
        var refreshedToken = false
        var lastResponse: HTTPResponse?
        func result(_ outcome: FetchOutcome<Value>) -> FetchResult<Value> {
            FetchResult(outcome: outcome, requests: requests, attempts: attempts)
        }
        while true {
            // A look first (nothing is spent on a host that is known to be down); the breaker's
            // permission itself is taken just before the request goes out.
            if case .rejected(let retryAt) = breakers.check(host: host, at: clock.uptime()) {
                return result(.circuitOpen(host: host, wait: max(.zero, retryAt - clock.uptime())))
            }
            if let limiter {
                switch limiter.acquire(clock: clock) {
                case .quotaSpent(let renews): return result(.quotaSpent(renews: renews))
                case .wait(let d): clock.sleep(for: d)
                }
            }
            var authorized = request
            prepare?(&authorized)
            var problem: String
            var retryAfter: Duration?
            var retryable = true
            var unreachable = false
            do throws(AuthFailure) {
                try authenticator.authorize(&authorized, transport: transport, clock: clock)
            } catch {
                // The token endpoint is part of the OEM: its failures are retried the same way.
                guard error.isRetryable else { return result(.failure(message: error.message, response: nil)) }
                problem = error.message
                retryAfter = error.retryAfter
                failures += 1
                let decision: Next<Value> = next(afterFailures: failures, problem: problem, retryAfter: retryAfter, attempts: &attempts)
                switch decision {
                case .retry: continue
                case .stop(let outcome): return result(outcome(lastResponse))
                }
            }
            if case .rejected(let retryAt) = breakers.permit(host: host, at: clock.uptime()) {
                return result(.circuitOpen(host: host, wait: max(.zero, retryAt - clock.uptime())))
            }
            requests += 1
            // Every request that went out tells the breaker how the host is: down (5xx, timeouts,
            // broken connections) or up (anything it answered, 4xx and 429 included).
            do throws(TransportError) {
                let response = try transport.send(authorized)
                lastResponse = response
                if response.status >= 500 { breakers.failure(host: host, at: clock.uptime()) } else { breakers.success(host: host) }
                let verdict = (200..<300).contains(response.status) ? nil : inspectError?(response)
                if let verdict {
                    switch verdict {
                    case .accept(let value): return result(.success(value, response))
                    case .retry(let why):
                        problem = why
                        if response.status == 429 || response.status == 503 {
                            retryAfter = response.header("retry-after").flatMap { RetryAfter.parse($0, now: clock.now()) }
                        }
                    case .reject(let why):
                        attempts.append(AttemptNote(problem: why, waited: nil, fromRetryAfter: false))
                        return result(.failure(message: why, response: response))
                    }
                } else {
                switch response.status {
                case 200..<300:
                    switch accept(response) {
                    case .accept(let value):
                        return result(.success(value, response))
                    case .retry(let why):
                        problem = why
                    case .reject(let why):
                        return result(.failure(message: why, response: response))
                    }
                case 401 where !refreshedToken && isOAuth2:
                    // The token expired or was revoked early: one new token, at once.
                    refreshedToken = true
                    authenticator.invalidate()
                    attempts.append(AttemptNote(problem: "HTTP 401, new token", waited: nil, fromRetryAfter: false))
                    onAttempt(attempts.last!)
                    continue
                case 429, 503:
                    problem = "HTTP \(response.status)"
                    retryAfter = response.header("retry-after").flatMap { RetryAfter.parse($0, now: clock.now()) }
                case 408, 500..<600:
                    problem = "HTTP \(response.status)"
                case 300..<400:
                    problem = "HTTP \(response.status) redirect to \(Self.host(of: response.header("location") ?? "?")), not followed"
                    retryable = false
                default:
                    problem = "HTTP \(response.status)"
                    if let code = (try? JSONParser.parse(response.body))?[key: "error"]?.fieldText, code.count < 80 { problem += " (\(Redact.code(code)))" }
                    retryable = false
                }
                }
            } catch {
                unreachable = error.kind == .connect || error.kind == .resolve
                problem = error.kind == .timeout ? "timeout: \(error.message)" : error.message
                retryable = error.isRetryable
                lastResponse = nil
                // A TLS failure or an oversized answer is the host answering: it is up.
                if retryable { breakers.failure(host: host, at: clock.uptime()) } else { breakers.success(host: host) }
            }
            guard retryable else {
                attempts.append(AttemptNote(problem: problem, waited: nil, fromRetryAfter: false))
                return result(.failure(message: problem, response: lastResponse))
            }
            failures += 1
            let decision: Next<Value> = next(afterFailures: failures, problem: problem, retryAfter: retryAfter, unreachable: unreachable, attempts: &attempts)
            switch decision {
            case .retry: continue
            case .stop(let outcome): return result(outcome(lastResponse))
            }
        }
    }

    private var isOAuth2: Bool {
        if case .oauth2 = authenticator.method { return true }
        return false
    }

    private enum Next<Value: Sendable> {
        case retry
        case stop((HTTPResponse?) -> FetchOutcome<Value>)
    }

    /// Records the failed attempt, then waits or stops as the policy says.
    private func next<Value>(
        afterFailures failures: Int, problem: String, retryAfter: Duration?, unreachable: Bool = false, attempts: inout [AttemptNote]
    ) -> Next<Value> {
        switch policy.decide(afterFailures: failures, retryAfter: retryAfter, random: random()) {
        case .retry(let wait):
            var note = AttemptNote(problem: problem, waited: wait, fromRetryAfter: retryAfter != nil)
            note.unreachable = unreachable
            attempts.append(note)
            onAttempt(note)
            clock.sleep(for: wait)
            return .retry
        case .giveUp:
            attempts.append(AttemptNote(problem: problem, waited: nil, fromRetryAfter: false))
            onAttempt(attempts.last!)
            let message = "\(problem) after \(failures) attempt\(failures == 1 ? "" : "s")"
            return .stop { .failure(message: message, response: $0) }
        case .comeBackLater(let wait):
            attempts.append(AttemptNote(problem: problem, waited: nil, fromRetryAfter: true))
            onAttempt(attempts.last!)
            return .stop { _ in .comeBackLater(reason: "\(problem) with Retry-After \(wait.short)", wait: wait) }
        }
    }

    /// `host[:port]` of a URL, for breakers and messages (never its path or query).
    public static func host(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url.split(separator: "/").first.map(String.init) ?? url }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(authority.split(separator: "@").last ?? authority)
    }
}
