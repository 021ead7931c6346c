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
        pid = try Self.spawn(path, arguments, environment: environment) { actions in
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
    }

    /// posix_spawn with the file actions `setUp` adds; the child's pid.
    static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String], _ setUp: (inout posix_spawn_file_actions_t) -> Void
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        setUp(&actions)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        return child
    }

    /// A child started elsewhere (``PipedChild``).
    init(adopting pid: pid_t) { self.pid = pid }

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

/// A child whose stderr comes back through a pipe, so a test can wait for a line it writes (the
/// event: a batch committed) instead of sleeping; stdout goes to a file.
public final class PipedChild: @unchecked Sendable {
    public let process: ChildProcess
    private let errFD: Int32
    private var buffer: [UInt8] = []
    public private(set) var stderr = ""

    public init(_ path: String, _ arguments: [String], environment: [String: String], stdout: String) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        let child: pid_t
        do {
            child = try ChildProcess.spawn(path, arguments, environment: environment) { actions in
                posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
                posix_spawn_file_actions_addclose(&actions, fds[0])
                posix_spawn_file_actions_addclose(&actions, fds[1])
            }
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        errFD = fds[0]
        process = ChildProcess(adopting: child)
    }

    deinit { close(errFD) }

    /// Reads stderr until a line containing `text` arrived (true), the stream ended, or `timeout` passed.
    public func waitForLine(containing text: String, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if stderr.contains(text) { return true }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var fds = pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)
            let ms = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            guard poll(&fds, 1, ms) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(errFD, &chunk, chunk.count)
            if n <= 0 { return stderr.contains(text) }
            stderr += String(decoding: chunk[0..<n], as: UTF8.self)
        }
    }

    /// Reads the rest of stderr (after the process ended).
    public func drain() -> String {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(errFD, &chunk, chunk.count)
            if n <= 0 { break }
            stderr += String(decoding: chunk[0..<n], as: UTF8.self)
        }
        return stderr
    }
}
