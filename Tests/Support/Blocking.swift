import Foundation

/// Runs blocking work (a sync over libcurl, a database commit, a child process) on a thread of its
/// own, so async tests never hold one of the few threads of the cooperative pool that the OEM
/// simulator answers on.
///
/// The work runs in the calling task, on a task executor that owns the thread: task-locals come
/// along, so an `#expect` inside is recorded against the test that runs it.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let executor = DedicatedThreadExecutor()
    defer { executor.stop() }
    return try await withTaskExecutorPreference(executor) { try await run(body) }
}

/// Nonisolated and async: it runs on the preferred task executor, the dedicated thread.
private func run<T: Sendable>(_ body: @Sendable () throws -> T) async throws -> T { try body() }

/// A task executor with one thread of its own, which runs the jobs enqueued on it in order.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in loop() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs async work whose tasks must not wait for the cooperative pool (the daemon's main loop
/// under test), on a task executor with a thread of its own: other tests that block pool threads
/// then cannot stall it.
public func onOwnExecutor<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    let executor = DedicatedThreadExecutor()
    defer { executor.stop() }
    return await withTaskExecutorPreference(executor) { await body() }
}
