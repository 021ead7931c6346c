#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes file moves survive a power loss. A `rename` is atomic but lives in the page cache until the
/// directory is written back: after a crash the file can be back where it was, or its data missing
/// behind its new name. A claim, an archive and a quarantine are therefore followed by `fsync` of
/// the file (once, at the claim) and of both directories, so that what the database committed
/// and where the file lies never disagree after a restart.
public enum Durable {
    public static func syncFile(_ path: String) throws(DropDirectory.DropError) {
        try sync(path, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, what: "file")
    }

    public static func syncDirectory(_ path: String) throws(DropDirectory.DropError) {
        try sync(path, flags: O_RDONLY | O_CLOEXEC | O_DIRECTORY, what: "directory")
    }

    private static func sync(_ path: String, flags: Int32, what: String) throws(DropDirectory.DropError) {
        let fd = open(path, flags)
        guard fd >= 0 else {
            throw DropDirectory.DropError(description: "cannot open \(what) '\(path)' to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            // A filesystem that cannot sync this kind of file (EINVAL) has nothing to make durable.
            if errno == EINVAL || errno == EROFS { return }
            throw DropDirectory.DropError(description: "cannot sync \(what) '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
