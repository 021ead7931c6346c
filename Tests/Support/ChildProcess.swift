#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process started with posix_spawn, which a test can SIGKILL at a moment of its choosing
/// and reap with waitpid: nothing of Foundation's Process (whose waits need a run loop).
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var status: Int32?

    /// Starts `path` with `arguments`; stdout and stderr go to `log` (appended).
    public init(_ path: String, _ arguments: [String], environment: [String: String], log: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        pid = child
    }

    /// Whether it has exited (reaping it if so).
    public var hasExited: Bool {
        if status != nil { return true }
        var s: Int32 = 0
        if waitpid(pid, &s, WNOHANG) == pid {
            status = s
            return true
        }
        return false
    }

    public func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// Sends a signal (SIGTERM, SIGHUP).
    public func signal(_ number: Int32) { _ = Glibc.kill(pid, number) }

    /// Waits up to `timeout` for the exit; nil if it is still running then.
    public func wait(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if hasExited { return wait() }
            usleep(10_000)
        }
        return hasExited ? wait() : nil
    }

    /// Waits for the exit; the exit code, or 128 + signal for a killed process.
    @discardableResult
    public func wait() -> Int32 {
        if status == nil {
            var s: Int32 = 0
            while waitpid(pid, &s, 0) < 0 && errno == EINTR {}
            status = s
        }
        let s = status!
        return s & 0x7f == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f)
    }
}
