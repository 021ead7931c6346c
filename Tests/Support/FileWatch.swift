#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Waits for text to appear in a file another process appends to (a child's log), woken by inotify
/// when the file changes: no polling of the file, no sleeping.
public enum FileWatch {
    /// Waits until `path` holds `fragment` `count` times; false after `timeout`.
    public static func wait(for fragment: String, count: Int = 1, in path: String, timeout: Duration = .seconds(60)) -> Bool {
        func found() -> Bool { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").components(separatedBy: fragment).count - 1 >= count }
        let fd = inotify_init1(Int32(IN_CLOEXEC) | Int32(IN_NONBLOCK))
        guard fd >= 0 else { return found() }
        defer { close(fd) }
        // The folder is watched, so a file not yet created is seen when it is.
        let folder = (path as NSString).deletingLastPathComponent
        guard inotify_add_watch(fd, folder, UInt32(IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 else { return found() }
        let deadline = ContinuousClock.now + timeout
        var events = [UInt8](repeating: 0, count: 4096)
        while true {
            if found() { return true }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            if poll(&p, 1, ms) > 0 { _ = read(fd, &events, events.count) }
        }
    }
}
