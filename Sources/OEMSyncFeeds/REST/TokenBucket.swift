import Foundation
import OEMSyncCore

/// A token bucket: `rate` requests per second on average, at most `burst` at once.
///
/// A request takes a token; the bucket refills continuously. ``reserve(at:)`` always takes one and
/// says how long to wait for it (the balance may go negative: later callers queue behind), so
/// concurrent feeds sharing a bucket are served in turn and never exceed the rate together.
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var last: Duration?

    public init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.tokens = Double(max(1, burst))
    }

    /// Takes a token at monotonic time `now`; returns how long to wait before using it.
    public mutating func reserve(at now: Duration) -> Duration {
        if let last { tokens = min(burst, tokens + (now - last).seconds * rate) }
        last = now
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .microseconds(Int64((-tokens / rate * 1_000_000).rounded(.up)))
    }
}

/// The request limits of one set of OEM credentials, shared by every feed that uses them: the
/// token bucket and the daily quota.
public final class RequestLimiter: @unchecked Sendable {
    /// A daily request quota, counted per calendar day in `zone` (the OEM's day).
    public struct Quota: Sendable, Hashable {
        public var perDay: Int
        public var zone: TimeZone

        public init(perDay: Int, zone: TimeZone) {
            self.perDay = perDay
            self.zone = zone
        }

        /// The start of the quota day holding `instant`, as an instant.
        public func dayStart(of instant: Timestamp) -> Timestamp {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let date = Date(timeIntervalSince1970: Double(instant.microseconds) / 1e6)
            let start = calendar.startOfDay(for: date)
            return Timestamp(seconds: Int64(start.timeIntervalSince1970.rounded(.down)))
        }

        /// The start of the next quota day after `instant`.
        public func nextDayStart(after instant: Timestamp) -> Timestamp {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let start = Date(timeIntervalSince1970: Double(dayStart(of: instant).microseconds) / 1e6)
            let next = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
            return Timestamp(seconds: Int64(next.timeIntervalSince1970.rounded(.down)))
        }
    }

    public let name: String
    public let quota: Quota?
    private let lock = NSLock()
    private var bucket: TokenBucket?
    private var day: Timestamp?
    private var used = 0
    private var loaded = false

    public init(name: String, rate: (perSecond: Double, burst: Int)?, quota: Quota?) {
        self.name = name
        self.bucket = rate.map { TokenBucket(rate: $0.perSecond, burst: $0.burst) }
        self.quota = quota
    }

    /// Sets what was already spent today (the ledger's record of earlier runs), once per process.
    public func load(usedToday: Int, dayStart: Timestamp) {
        lock.withLock {
            guard !loaded else { return }
            loaded = true
            used = max(used, usedToday)
            day = dayStart
        }
    }

    /// Whether the quota for today is known; until then ``load(usedToday:dayStart:)`` should be called.
    public var needsLoad: Bool { lock.withLock { quota != nil && !loaded } }

    public enum Grant: Sendable, Hashable {
        /// Send after waiting this long (the rate limit).
        case wait(Duration)
        /// Today's quota is spent; it renews at `renews`.
        case quotaSpent(renews: Timestamp)
    }

    /// Takes one request from the quota and a token from the bucket.
    public func acquire(clock: any SyncClock) -> Grant {
        lock.withLock {
            if let quota {
                let now = clock.now()
                let today = quota.dayStart(of: now)
                if day != today {
                    day = today
                    used = 0
                }
                guard used < quota.perDay else { return .quotaSpent(renews: quota.nextDayStart(after: now)) }
                used += 1
            }
            guard bucket != nil else { return .wait(.zero) }
            return .wait(bucket!.reserve(at: clock.uptime()))
        }
    }

    /// Requests left today (nil without a quota).
    public var remainingToday: Int? { lock.withLock { quota.map { max(0, $0.perDay - used) } } }
}
