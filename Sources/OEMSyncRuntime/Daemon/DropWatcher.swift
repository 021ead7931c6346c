#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Watches the drop directories of the daemon's file feeds with inotify, so a file made ready (moved
/// in by rename, closed after writing, its marker created) runs its feed at once instead of at the
/// next scheduled look. The schedule's polling stays as the fallback: a directory that cannot be
/// watched (inotify exhausted, a filesystem without events such as NFS) is logged once and polled.
///
/// Which file is ready is still the drop's own decision (its readiness rule, hidden and partial
/// names never taken): an event only says "look now".
final class DropWatcher: @unchecked Sendable {
    private let fd: Int32
    private let logger: Logger
    private let ready: @Sendable (String) -> Void
    private let lock = NSLock()
    /// Watch descriptor -> the feeds whose drop it is, and directory -> watch descriptor.
    private var feeds: [Int32: [String]] = [:]
    private var watches: [String: Int32] = [:]
    /// Directories that could not be watched, told once.
    private var unwatchable: Set<String> = []
    private var stopped = false

    /// Events that may make a file ready: a rename into the directory, a write finished, a marker created.
    static let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)

    /// - Parameter ready: called with a feed's name when its directory changed, on the watcher's thread.
    init?(logger: Logger, ready: @escaping @Sendable (String) -> Void) {
        fd = inotify_init1(Int32(IN_CLOEXEC) | Int32(IN_NONBLOCK))
        guard fd >= 0 else {
            logger.notice("drop directories not watched: drops are found on schedule", metadata: [LogKey.reason: .string(String(cString: strerror(errno)))])
            return nil
        }
        self.logger = logger
        self.ready = ready
        let thread = Thread { [self] in loop() }
        thread.name = "oemsync-drops"
        thread.start()
    }

    /// Watches exactly these directories (directory -> its feeds): new ones are added, gone ones
    /// removed; one that cannot be watched yet is tried again at the next call.
    func watch(_ directories: [String: [String]]) {
        lock.lock()
        defer { lock.unlock() }
        for (directory, wd) in watches where directories[directory] == nil {
            inotify_rm_watch(fd, wd)
            watches[directory] = nil
            feeds[wd] = nil
        }
        for (directory, names) in directories {
            if let wd = watches[directory] {
                feeds[wd] = names
                continue
            }
            let wd = inotify_add_watch(fd, directory, Self.mask)
            guard wd >= 0 else {
                // Not there yet (a feed's first run creates it) or not watchable: tried again later.
                guard unwatchable.insert(directory).inserted else { continue }
                logger.notice(
                    "drop directory not watched: its files are found on schedule",
                    metadata: [LogKey.file: .string(directory), LogKey.reason: .string(String(cString: strerror(errno)))])
                continue
            }
            watches[directory] = wd
            feeds[wd] = names
            unwatchable.remove(directory)
        }
    }

    func stop() { lock.withLock { stopped = true } }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !lock.withLock({ stopped }) {
            // A bounded wait, so a stop is seen within half a second.
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 500) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { continue }
            // Several events may name one feed: it is told once per read.
            var touched: [String] = []
            var offset = 0
            while offset + 16 <= n {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw in
                    (
                        raw.loadUnaligned(fromByteOffset: offset, as: Int32.self), raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                        Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    )
                }
                let name = buffer[(offset + 16)..<min(offset + 16 + length, n)].prefix { $0 != 0 }
                offset += 16 + length
                // Sub-folders (processing/, archive/) and hidden names (the drop's own lock file,
                // a file being written under a hidden name) make no file ready.
                if mask & UInt32(IN_ISDIR) != 0 || name.first == UInt8(ascii: ".") { continue }
                for feed in lock.withLock({ feeds[wd] ?? [] }) where !touched.contains(feed) { touched.append(feed) }
            }
            for name in touched { ready(name) }
        }
        close(fd)
    }
}
