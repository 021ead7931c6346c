#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a drop directory (`flock` on `<directory>/.oemsync.lock`), held while a
/// process syncs the feed, so two processes on one machine never resume the same claimed file.
/// The kernel releases it when the process dies, so a crash never leaves a stale lock.
public final class DirectoryLock {
    private let fd: Int32

    public struct Busy: Error, CustomStringConvertible {
        public var description: String
    }

    /// Takes the lock without waiting; throws ``Busy`` if another process holds it.
    public init(directory: String) throws(Busy) {
        let path = directory + "/.oemsync.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Busy(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Busy(description: "another oemsync process is syncing '\(directory)'")
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
