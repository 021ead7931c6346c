import Foundation
import OEMSyncCore

/// Stops hammering an OEM host that keeps failing.
///
/// Closed, it counts consecutive failures (5xx, timeouts, broken connections; not 4xx, not 429);
/// at `threshold` it opens for `cooldown`, and every request to the host fails at once. After the
/// cool-down one request goes through (half-open): its success closes the breaker, its failure
/// opens it again for another cool-down.
public struct CircuitBreaker: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case closed(failures: Int)
        case open(until: Duration)
        /// One probe is in flight.
        case halfOpen
    }

    public let threshold: Int
    public let cooldown: Duration
    public private(set) var state = State.closed(failures: 0)

    public init(threshold: Int = 5, cooldown: Duration = .seconds(60)) {
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
    }

    public enum Permission: Sendable, Hashable {
        case allowed
        /// Open: try again at this monotonic time.
        case rejected(retryAt: Duration)
    }

    /// Whether a request may go out at monotonic time `now`.
    public mutating func permit(at now: Duration) -> Permission {
        switch state {
        case .closed: return .allowed
        case .open(let until):
            guard now >= until else { return .rejected(retryAt: until) }
            state = .halfOpen
            return .allowed
        case .halfOpen:
            // The probe has not come back: others wait a little longer.
            return .rejected(retryAt: now + .seconds(1))
        }
    }

    /// What ``permit(at:)`` would say, without taking the probe.
    public func check(at now: Duration) -> Permission {
        switch state {
        case .closed: return .allowed
        case .open(let until): return now >= until ? .allowed : .rejected(retryAt: until)
        case .halfOpen: return .rejected(retryAt: now + .seconds(1))
        }
    }

    public mutating func success() { state = .closed(failures: 0) }

    public mutating func failure(at now: Duration) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= threshold ? .open(until: now + cooldown) : .closed(failures: failures + 1)
        case .halfOpen, .open:
            state = .open(until: now + cooldown)
        }
    }

    public var isOpen: Bool {
        if case .open = state { return true }
        return false
    }
}

/// The breakers of every OEM host this process talks to, shared by all feeds.
public final class CircuitBreakers: @unchecked Sendable {
    private let lock = NSLock()
    private var breakers: [String: CircuitBreaker] = [:]
    let threshold: Int
    let cooldown: Duration

    public init(threshold: Int = 5, cooldown: Duration = .seconds(60)) {
        self.threshold = threshold
        self.cooldown = cooldown
    }

    public func permit(host: String, at now: Duration) -> CircuitBreaker.Permission {
        lock.withLock { breakers[host, default: CircuitBreaker(threshold: threshold, cooldown: cooldown)].permit(at: now) }
    }

    public func check(host: String, at now: Duration) -> CircuitBreaker.Permission {
        lock.withLock { breakers[host]?.check(at: now) ?? .allowed }
    }

    public func success(host: String) {
        lock.withLock { breakers[host, default: CircuitBreaker(threshold: threshold, cooldown: cooldown)].success() }
    }

    public func failure(host: String, at now: Duration) {
        lock.withLock { breakers[host, default: CircuitBreaker(threshold: threshold, cooldown: cooldown)].failure(at: now) }
    }

    public func state(host: String) -> CircuitBreaker.State {
        lock.withLock { breakers[host]?.state ?? .closed(failures: 0) }
    }
}
