#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncCore

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` (a path, or `@name` in the
/// abstract namespace) per state change. Without the variable (not under systemd) it does nothing.
///
/// The watchdog interval is systemd's `WATCHDOG_USEC`, honoured only when `WATCHDOG_PID` is unset or
/// this process.
public struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// How often systemd expects `WATCHDOG=1`; the daemon pings at half of it.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
            environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true
        {
            watchdogInterval = .microseconds(Int64(usec))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `state` (`READY=1`, `STATUS=...`, several lines at once); false if it could not be sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = socketPath else { return false }
        var bytes = Array(path.utf8)
        guard bytes.first == UInt8(ascii: "/") || bytes.first == UInt8(ascii: "@") else { return false }
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                // Never wait: a manager that does not read its socket must not stall the main loop.
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), sa, length) }
            }
        }
        return sent == message.count
    }

    /// `RELOADING=1` with the monotonic time systemd's `Type=notify-reload` wants beside it.
    public func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        notify("RELOADING=1\nMONOTONIC_USEC=\(Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec / 1000))")
    }

    /// Keeps systemd from timing out a start that waits (for the database) by design.
    public func extendTimeout(_ d: Duration) {
        notify("EXTEND_TIMEOUT_USEC=\(Int64(d.seconds * 1_000_000))")
    }
}
