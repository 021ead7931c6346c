import Foundation

/// Runs blocking work (a sync over libcurl, a database commit) on a thread of its own, so async
/// tests never hold one of the few threads of the cooperative pool that the OEM simulator answers on.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
