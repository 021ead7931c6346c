#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// The daemon's control socket: a Unix stream socket (mode 0660: the service's user and group)
/// that takes one request line per connection and answers one line. The one request is
/// `run FEED` (`oemsync trigger FEED`). Requests are bounded (512 bytes, 2 s); anything else is
/// answered `error: …` and closed.
final class ControlSocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let handle: @Sendable (String) -> String
    private let lock = NSLock()
    private var stopped = false

    static let maxRequest = 512

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Listens on `path` (a stale socket there is replaced; any other file is left alone).
    init(path: String, handle: @escaping @Sendable (String) -> String) throws(Unavailable) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Unavailable(description: "the path is longer than a socket's 107 bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else { throw Unavailable(description: "'\(path)' exists and is not a socket") }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: String(cString: strerror(errno))) }
        // Created 0660 from the start: umask 0117 for the bind.
        let old = umask(0o117)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        guard bound == 0, listen(fd, 8) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Unavailable(description: reason)
        }
        self.path = path
        self.fd = fd
        self.handle = handle
        let thread = Thread { [self] in loop() }
        thread.name = "oemsync-control"
        thread.start()
    }

    /// Stops answering and removes the socket.
    func stop() {
        lock.withLock { stopped = true }
        unlink(path)
    }

    private func loop() {
        while !lock.withLock({ stopped }) {
            // A bounded wait, so a stop is seen within half a second.
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 500) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            answer(client)
            close(client)
        }
        close(fd)
    }

    private func answer(_ client: Int32) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Self.maxRequest)
        let deadline = ContinuousClock.now + .seconds(2)
        while !request.contains(UInt8(ascii: "\n")), request.count <= Self.maxRequest {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var p = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))) > 0 else { break }
            let n = read(client, &chunk, chunk.count)
            guard n > 0 else { break }
            request += chunk[0..<n]
        }
        let reply: String
        if let end = request.firstIndex(of: UInt8(ascii: "\n")), end <= Self.maxRequest, let line = String(validating: request[..<end], as: UTF8.self) {
            reply = handle(line)
        } else {
            reply = "error: one request line of at most \(Self.maxRequest) bytes, such as 'run FEED'"
        }
        let bytes = Array((reply + "\n").utf8)
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
