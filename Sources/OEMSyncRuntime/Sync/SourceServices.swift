import Foundation
import OEMSyncCore
import OEMSyncFeeds

/// What the REST feeds of one process share: per credentials, the authenticator (its token cache)
/// and the request limiter (rate limit and daily quota); per OEM host, the circuit breaker; and the
/// clock everything waits on.
public final class SourceServices: @unchecked Sendable {
    public let clock: any SyncClock
    public let breakers: CircuitBreakers
    /// Jitter for retry waits, a number in [0, 1).
    public let random: @Sendable () -> Double
    let environment: [String: String]
    private let configured: [String: CredentialSettings]
    private let lock = NSLock()
    private var built: [String: (Authenticator, RequestLimiter)] = [:]

    public init(
        credentials: [String: CredentialSettings], clock: any SyncClock = SystemClock(), breakers: CircuitBreakers = CircuitBreakers(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        configured = credentials
        self.clock = clock
        self.breakers = breakers
        self.random = random
        self.environment = environment
    }

    func lockedBuilt() -> [String: (Authenticator, RequestLimiter)] { lock.withLock { built } }

    /// The services of a reloaded config: the same clock, breakers and jitter, and the token cache
    /// and limiter (today's requests, the rate's tokens) of every credentials left unchanged.
    public func reloaded(credentials: [String: CredentialSettings]) -> SourceServices {
        let next = SourceServices(credentials: credentials, clock: clock, breakers: breakers, random: random, environment: environment)
        let kept = lock.withLock { built.filter { name, _ in configured[name].flatMap { old in credentials[name].map { old.same(as: $0) } } ?? false } }
        next.lock.withLock { next.built = kept }
        return next
    }

    /// The authenticator and limiter of the named credentials, built (and their secrets read) on first use.
    public func credentials(_ name: String) throws(ConfigurationError) -> (authenticator: Authenticator, limiter: RequestLimiter) {
        lock.lock()
        defer { lock.unlock() }
        if let b = built[name] { return b }
        guard let settings = configured[name] else { throw ConfigurationError("no credentials named '\(name)'") }
        let method = try settings.auth.method(environment: environment)
        let limiter = RequestLimiter(
            name: name, rate: settings.rate, quota: settings.dailyQuota.map { RequestLimiter.Quota(perDay: $0, zone: settings.quotaZone) })
        let pair = (Authenticator(method: method), limiter)
        built[name] = pair
        return pair
    }
}
