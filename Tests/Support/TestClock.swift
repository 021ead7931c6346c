import Foundation
import OEMSyncCore

/// A clock for tests: its time moves only when something sleeps on it (by the time slept) or the
/// test advances it, and it records every sleep, so waits are asserted exactly and nothing waits.
public final class TestClock: SyncClock, @unchecked Sendable {
    private let lock = NSLock()
    private var wall: Timestamp
    private var mono = Duration.seconds(1000)
    private var slept: [Duration] = []
    /// Tasks waiting for the clock to reach a time (``wait(until:)``), by id.
    private var waiters: [Int: (deadline: Duration, resume: CheckedContinuation<Void, Never>)] = [:]
    private var nextWaiter = 0

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

    /// Returns once the clock reaches `deadline` (a sleep or ``advance(_:)`` moves it), or the task
    /// is cancelled: nothing waits for the wall clock.
    public func wait(until deadline: Duration) async {
        let id = lock.withLock {
            defer { nextWaiter += 1 }
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock { () -> Bool in
                    if mono >= deadline || Task.isCancelled { return true }
                    waiters[id] = (deadline, c)
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume.resume()
        }
    }

    /// Every sleep so far, in order; zero-length ones (a free rate-limit token) left out.
    public var sleeps: [Duration] { lock.withLock { slept.filter { $0 > .zero } } }

    /// Called with the lock held.
    private func move(_ d: Duration) {
        mono += d
        wall = Timestamp(microseconds: wall.microseconds + Int64(d.seconds * 1_000_000))
        for (id, waiter) in waiters where waiter.deadline <= mono {
            waiters.removeValue(forKey: id)
            waiter.resume.resume()
        }
    }
}
