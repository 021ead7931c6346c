import Foundation
import OEMSyncCore

/// When to try a failed request again, and how long to wait first.
///
/// Exponential backoff with full jitter: before attempt `n + 1` (after `n` failures) the wait is
/// uniform in `[0, min(cap, base * 2^(n-1))]`. A server's `Retry-After` replaces the backoff (it is
/// the server's own answer), unless it asks for more than `maxRetryAfter`: then the feed stops for
/// this run, checkpointed, rather than hold a run open for hours.
///
/// With the defaults (base 500 ms, cap 30 s, 5 attempts) the upper bounds of the waits are:
///
/// | after failure | 1 | 2 | 3 | 4 |
/// | --- | --- | --- | --- | --- |
/// | wait up to | 0.5 s | 1 s | 2 s | 4 s |
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included. Default 5.
    public var maxAttempts: Int
    /// The first backoff's upper bound. Default 500 ms.
    public var base: Duration
    /// No backoff is longer. Default 30 s.
    public var cap: Duration
    /// The longest `Retry-After` waited for within a run. Default 10 minutes.
    public var maxRetryAfter: Duration

    public init(maxAttempts: Int = 5, base: Duration = .milliseconds(500), cap: Duration = .seconds(30), maxRetryAfter: Duration = .seconds(600)) {
        self.maxAttempts = maxAttempts
        self.base = base
        self.cap = cap
        self.maxRetryAfter = maxRetryAfter
    }

    public enum Decision: Sendable, Hashable {
        /// Wait this long, then try again.
        case retry(after: Duration)
        /// Every attempt is used.
        case giveUp
        /// The server asks to come back later than ``RetryPolicy/maxRetryAfter``.
        case comeBackLater(Duration)
    }

    /// The upper bound of the backoff after `failures` failed attempts (1 or more).
    public func ceiling(afterFailures failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 40)
        let bound = base.seconds * Double(1 << exponent)
        return min(cap, .milliseconds(Int64(min(bound, 1e9) * 1000)))
    }

    /// What to do after `failures` failed attempts.
    /// - Parameters:
    ///   - retryAfter: the server's `Retry-After`, when it sent one.
    ///   - random: a number in `[0, 1)` (injected, so tests know the jitter).
    public func decide(afterFailures failures: Int, retryAfter: Duration?, random: Double) -> Decision {
        if let retryAfter, retryAfter > maxRetryAfter { return .comeBackLater(retryAfter) }
        guard failures < maxAttempts else { return .giveUp }
        if let retryAfter { return .retry(after: max(retryAfter, .zero)) }
        let ceiling = ceiling(afterFailures: failures).seconds
        return .retry(after: .milliseconds(Int64((ceiling * min(max(random, 0), 0.999_999) * 1000).rounded(.down))))
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
public enum RetryAfter {
    /// The wait it asks for, from `now`; nil when the value is neither form. A date in the past is 0.
    public static func parse(_ value: String, now: Timestamp) -> Duration? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let s = Int64(v), s >= 0 { return .seconds(s) }
        guard let date = imfDate(v) else { return nil }
        let micros = date.microseconds - now.microseconds
        return micros <= 0 ? .zero : .microseconds(micros)
    }

    /// IMF-fixdate, the form HTTP requires senders to use.
    static func imfDate(_ s: String) -> Timestamp? {
        let parts = s.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let m = months.firstIndex(of: String(parts[2])), let date = CivilDate(year: year, month: m + 1, day: day) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, hms[0] < 24, hms[1] < 60, hms[2] < 61 else { return nil }
        return Timestamp(seconds: Int64(date.daysSinceEpoch) * 86_400 + Int64(hms[0] * 3600 + hms[1] * 60 + hms[2]))
    }
}
