import Foundation
import OEMSyncCore

/// Runs blocking work (a sync over libcurl, a database commit, a child process) on a thread of its
/// own, so async tests never hold one of the few threads of the cooperative pool that the OEM
/// simulator answers on.
///
/// The work runs in the calling task, on a task executor that owns the thread: task-locals come
/// along, so an `#expect` inside is recorded against the test that runs it.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let executor = BlockingExecutor(name: "oemsync-test")
    defer { executor.stop() }
    return try await withTaskExecutorPreference(executor) { try await run(body) }
}

/// Nonisolated and async: it runs on the preferred task executor, the dedicated thread.
private func run<T: Sendable>(_ body: @Sendable () throws -> T) async throws -> T { try body() }

/// Runs async work whose tasks must not wait for the cooperative pool (the daemon's main loop
/// under test), on a task executor with a thread of its own: other tests that block pool threads
/// then cannot stall it.
public func onOwnExecutor<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    let executor = BlockingExecutor(name: "oemsync-test")
    defer { executor.stop() }
    return await withTaskExecutorPreference(executor) { await body() }
}
