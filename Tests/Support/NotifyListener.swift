#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A `$NOTIFY_SOCKET` for a daemon under test: a Unix datagram socket that collects every message
/// (`READY=1`, `WATCHDOG=1`, ...) with the time it arrived, as systemd would receive them.
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [(at: ContinuousClock.Instant, text: String)] = []
    private var closed = false

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
            if lock.withLock({ closed }) { return }
            guard ready > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            lock.withLock { received.append((ContinuousClock.now, text)) }
        }
    }

    /// Every message so far, in order.
    public var messages: [String] { lock.withLock { received.map(\.text) } }

    /// When each message containing `line` as one of its lines arrived.
    public func arrivals(of line: String) -> [ContinuousClock.Instant] {
        lock.withLock { received.filter { $0.text.split(separator: "\n").contains(Substring(line)) }.map(\.at) }
    }

    /// Waits (real time) until a message has `line` as one of its lines, `count` times; false on timeout.
    public func wait(for line: String, count: Int = 1, timeout: Duration = .seconds(60)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if arrivals(of: line).count >= count { return true }
            usleep(10_000)
        }
        return arrivals(of: line).count >= count
    }

    public func close() {
        lock.withLock { closed = true }
        usleep(150_000)
        Glibc.close(fd)
        unlink(path)
    }
}
