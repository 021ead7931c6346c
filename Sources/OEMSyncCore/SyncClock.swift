#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the pipeline gets its time from: the wall clock (for change times, quota days and
/// `Retry-After` dates), a monotonic clock (for rate limits and timeouts) and the ability to wait.
///
/// ``SystemClock`` is the real one. Tests pass a clock whose `sleep` only records the wait and
/// moves its time on, so retry and rate-limit waits are asserted exactly and no test sleeps.
public protocol SyncClock: Sendable {
    /// The wall-clock time.
    func now() -> Timestamp
    /// A monotonic time: only differences mean anything.
    func uptime() -> Duration
    /// Blocks the calling thread for `duration`.
    func sleep(for duration: Duration)
    /// Suspends the calling task until ``uptime()`` reaches `deadline`, or the task is cancelled.
    /// On a test clock it returns when the test moves the clock that far: the daemon's timer.
    func wait(until deadline: Duration) async
}

extension SyncClock {
    public func wait(until deadline: Duration) async {
        let left = deadline - uptime()
        if left > .zero { try? await Task.sleep(for: left) }
    }
}

public struct SystemClock: SyncClock {
    public init() {}

    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), microseconds: Int64(ts.tv_nsec / 1000))
    }

    public func uptime() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }

    public func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        let (s, attos) = duration.components
        var request = timespec(tv_sec: Int(s), tv_nsec: Int(attos / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number (for messages and arithmetic).
    public var seconds: Double {
        let (s, attos) = components
        return Double(s) + Double(attos) / 1e18
    }

    /// Human form for messages: `250ms`, `1.5s`, `2m30s`, `1h`.
    public var short: String {
        let total = seconds
        if total < 1 { return "\(Int((total * 1000).rounded()))ms" }
        if total < 60 {
            let tenths = (total * 10).rounded() / 10
            return tenths == tenths.rounded() ? "\(Int(tenths))s" : "\(tenths)s"
        }
        let s = Int(total.rounded())
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        return s % 3600 == 0 ? "\(s / 3600)h" : "\(s / 3600)h\(s % 3600 / 60)m"
    }
}
