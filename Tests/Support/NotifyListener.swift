#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncCore

/// A `$NOTIFY_SOCKET` for a daemon under test: a Unix datagram socket that collects every message
/// (`READY=1`, `WATCHDOG=1`, ...) with the time it arrived, as systemd would receive them.
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    /// Guards the state below, and is signalled on each message and when the reader ends.
    private let condition = NSCondition()
    private var received: [(at: ContinuousClock.Instant, text: String)] = []
    private var closed = false
    private var reading = true

    public init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let thread = Thread { [self] in loop() }
        thread.start()
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 100)
            if condition.withLock({ closed }) {
                condition.withLock {
                    reading = false
                    condition.broadcast()
                }
                return
            }
            guard ready > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            condition.withLock {
                received.append((ContinuousClock.now, text))
                condition.broadcast()
            }
        }
    }

    /// Every message so far, in order.
    public var messages: [String] { condition.withLock { received.map(\.text) } }

    /// When each message containing `line` as one of its lines arrived.
    public func arrivals(of line: String) -> [ContinuousClock.Instant] {
        condition.withLock { matching(line) }
    }

    /// Called with the condition locked.
    private func matching(_ line: String) -> [ContinuousClock.Instant] {
        received.filter { $0.text.split(separator: "\n").contains(Substring(line)) }.map(\.at)
    }

    /// Waits until a message has `line` as one of its lines, `count` times (woken by each message);
    /// false on timeout.
    public func wait(for line: String, count: Int = 1, timeout: Duration = .seconds(60)) -> Bool {
        wait(timeout: timeout) { matching(line).count >= count }
    }

    /// Waits until a message contains `fragment` (`STATUS=waiting for the database`); false on timeout.
    public func wait(containing fragment: String, timeout: Duration = .seconds(60)) -> Bool {
        wait(timeout: timeout) { received.contains { $0.text.contains(fragment) } }
    }

    private func wait(timeout: Duration, until done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while !done() {
            guard condition.wait(until: deadline) else { return done() }
        }
        return true
    }

    /// Stops the reader (it sees the request within its 100 ms poll) and removes the socket.
    public func close() {
        condition.lock()
        closed = true
        while reading { condition.wait() }
        condition.unlock()
        Glibc.close(fd)
        unlink(path)
    }
}
