import Foundation
import OEMSyncCore

/// A clock for tests: its time moves only when something sleeps on it (by the time slept) or the
/// test advances it, and it records every sleep, so waits are asserted exactly and nothing waits.
public final class TestClock: SyncClock, @unchecked Sendable {
    private let lock = NSLock()
    private var wall: Timestamp
    private var mono = Duration.seconds(1000)
    private var slept: [Duration] = []

    public init(now: Timestamp = Timestamp(seconds: 1_764_576_000)) {  // 2025-12-01T08:00:00Z
        wall = now
    }

    public func now() -> Timestamp { lock.withLock { wall } }
    public func uptime() -> Duration { lock.withLock { mono } }

    public func sleep(for duration: Duration) {
        lock.withLock {
            slept.append(duration)
            move(duration)
        }
    }

    /// Moves time on without a sleep (the next day, the end of a cool-down).
    public func advance(_ duration: Duration) { lock.withLock { move(duration) } }

    /// Every sleep so far, in order; zero-length ones (a free rate-limit token) left out.
    public var sleeps: [Duration] { lock.withLock { slept.filter { $0 > .zero } } }

    private func move(_ d: Duration) {
        mono += d
        wall = Timestamp(microseconds: wall.microseconds + Int64(d.seconds * 1_000_000))
    }
}
