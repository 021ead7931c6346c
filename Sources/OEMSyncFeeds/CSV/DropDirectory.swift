#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import OEMSyncCore

/// A watched directory an OEM (or its file transfer) drops CSV files into.
///
/// ```
/// <directory>/               new files arrive here
/// <directory>/processing/    a file being loaded, claimed by rename (one process gets it)
/// <directory>/archive/       loaded files
/// <directory>/quarantine/    files that could not be loaded, each with a <name>.reason
/// ```
/// A file is taken only once it is complete, by the feed's ``Readiness`` rule.
public struct DropDirectory: Sendable {
    /// When a file in the directory counts as complete.
    public enum Readiness: Sendable, Hashable {
        /// The producer writes elsewhere (or under a dot-name or a `.tmp`, `.part`, `.partial` or
        /// `.filepart` suffix) and renames the finished file in: every visible matching file is complete.
        case rename
        /// The file is complete once `<name><suffix>` exists (e.g. `stock.csv.done`).
        case marker(suffix: String)
        /// The file is complete once it has not been modified for this long (its modification time is
        /// at least this old; every write moves it).
        case stable(seconds: Double)
    }

    public var path: String
    /// A glob (`*.csv`) for the files this feed takes.
    public var pattern: String
    public var readiness: Readiness

    public init(path: String, pattern: String = "*.csv", readiness: Readiness = .rename) {
        self.path = path
        self.pattern = pattern
        self.readiness = readiness
    }

    public var processingPath: String { (path as NSString).appendingPathComponent("processing") }
    public var archivePath: String { (path as NSString).appendingPathComponent("archive") }
    public var quarantinePath: String { (path as NSString).appendingPathComponent("quarantine") }

    public struct DropError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A file claimed by this process, now in `processing/` under a unique name.
    public struct ClaimedFile: Sendable, Hashable {
        /// The name the file arrived with.
        public var originalName: String
        /// Its name in `processing/` (and later in `archive/` or `quarantine/`): a UTC claim time and
        /// a random tag in front of the original name, so names never collide and sort by claim time.
        public var claimedName: String
        public var path: String
        /// Set when the entry is no regular file (see ``Waiting/refusal``): it is quarantined unopened.
        public var refusal: String? = nil
    }

    /// Creates the directory and its three sub-folders if missing.
    public func prepare() throws(DropError) {
        for p in [path, processingPath, archivePath, quarantinePath] {
            do {
                try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
            } catch {
                throw DropError(description: "cannot create '\(p)': \(error.localizedDescription)")
            }
        }
    }

    /// An entry of the directory that matches the feed's pattern and is ready to be taken.
    public struct Waiting: Sendable, Hashable {
        /// The name as shown and stored (``FileName/display(_:)-(Array<UInt8>)``: control characters and
        /// bytes that are not UTF-8 escaped).
        public var name: String
        /// The name's bytes as the filesystem holds them.
        public var bytes: [UInt8]
        /// Modification time, seconds since 1970.
        public var modified: Double
        /// Why it cannot be loaded although it matches: a symbolic link, a directory, a FIFO, a
        /// socket or a device is refused (never followed nor opened) and quarantined with this reason.
        public var refusal: String?
    }

    /// Entries waiting in the directory, oldest first (by modification time, then name): complete
    /// regular files, and entries that match but are no regular file (refused at once, whatever the
    /// readiness rule, so they never wait in front of the files behind them).
    public func readyFiles(now: Date = Date()) throws(DropError) -> [Waiting] {
        let entries = try Self.list(path)
        let present = Set(entries.map(\.bytes))
        var ready: [Waiting] = []
        for entry in entries where matches(entry.bytes) {
            if entry.refusal == nil {
                switch readiness {
                case .rename:
                    break
                case .marker(let suffix):
                    guard present.contains(entry.bytes + Array(suffix.utf8)) else { continue }
                case .stable(let seconds):
                    guard now.timeIntervalSince1970 - entry.modified >= seconds else { continue }
                }
            }
            ready.append(entry)
        }
        return ready.sorted { $0.modified != $1.modified ? $0.modified < $1.modified : $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }

    /// Whether a name is one of this feed's data files (not a marker, temp file or hidden file).
    func matches(_ name: [UInt8]) -> Bool {
        if name.first == UInt8(ascii: ".") { return false }
        for suffix in [".tmp", ".part", ".partial", ".filepart"] where name.ends(with: Array(suffix.utf8)) { return false }
        if case .marker(let suffix) = readiness, name.ends(with: Array(suffix.utf8)) { return false }
        return (name + [0]).withUnsafeBufferPointer { n in
            n.withMemoryRebound(to: CChar.self) { fnmatch(pattern, $0.baseAddress!, 0) == 0 }
        }
    }

    /// Moves a waiting entry into `processing/`, the rename made durable (the file's data, then
    /// both directories). Returns nil if another process took it first.
    public func claim(_ waiting: Waiting, now: Date = Date()) throws(DropError) -> ClaimedFile? {
        let claimedName = Self.claimPrefix(now) + "-" + Self.shortened(waiting.name, bytes: waiting.bytes)
        let from = Array(path.utf8) + [UInt8(ascii: "/")] + waiting.bytes
        let to = (processingPath as NSString).appendingPathComponent(claimedName)
        let moved = (from + [0]).withUnsafeBufferPointer { f in f.withMemoryRebound(to: CChar.self) { rename($0.baseAddress!, to) } }
        if moved != 0 {
            if errno == ENOENT { return nil }
            throw DropError(description: "cannot claim '\(waiting.name)': \(String(cString: strerror(errno)))")
        }
        if waiting.refusal == nil { try Durable.syncFile(to) }
        try Durable.syncDirectory(processingPath)
        try Durable.syncDirectory(path)
        if case .marker(let suffix) = readiness {
            let marker = from + Array(suffix.utf8) + [0]
            marker.withUnsafeBufferPointer { m in m.withMemoryRebound(to: CChar.self) { _ = unlink($0.baseAddress!) } }
        }
        return ClaimedFile(originalName: waiting.name, claimedName: claimedName, path: to, refusal: waiting.refusal)
    }

    /// Claims a plain name (tests, tools): the entry is looked up in the directory first.
    public func claim(_ name: String, now: Date = Date()) throws(DropError) -> ClaimedFile? {
        guard let entry = try Self.list(path).first(where: { $0.bytes == Array(name.utf8) }) else { return nil }
        return try claim(entry, now: now)
    }

    /// Entries left in `processing/` by a run that stopped (a crash, a database outage): they are
    /// resumed from their checkpoint before new files are claimed. Oldest claim first.
    public func claimedFiles() throws(DropError) -> [ClaimedFile] {
        try Self.list(processingPath).filter { $0.bytes.first != UInt8(ascii: ".") }.sorted { $0.name < $1.name }.map { entry in
            ClaimedFile(
                originalName: Self.originalName(of: entry.name), claimedName: entry.name,
                path: (processingPath as NSString).appendingPathComponent(entry.name), refusal: entry.refusal)
        }
    }

    /// Claimed names in `archive/`, newest claim first. Names only: an archive of years holds many
    /// files, and a run looks at the newest few.
    public func archivedFiles() throws(DropError) -> [String] {
        guard let dir = opendir(archivePath) else {
            throw DropError(description: "cannot list '\(archivePath)': \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard bytes.first != UInt8(ascii: "."), entry.pointee.d_type == DT_REG || entry.pointee.d_type == DT_UNKNOWN else { continue }
            names.append(FileName.display(bytes))
        }
        return names.sorted(by: >)
    }

    /// Moves a loaded file to `archive/`, durably; returns its new path.
    @discardableResult
    public func archive(_ file: ClaimedFile) throws(DropError) -> String {
        try move(file.path, named: file.claimedName, from: processingPath, to: archivePath)
    }

    /// Moves an archived file back into `processing/` (its load is not in the database: it is
    /// loaded again from its checkpoint, or from its start).
    public func unarchive(_ claimedName: String) throws(DropError) -> ClaimedFile {
        let from = (archivePath as NSString).appendingPathComponent(claimedName)
        let to = try move(from, named: claimedName, from: archivePath, to: processingPath)
        return ClaimedFile(originalName: Self.originalName(of: claimedName), claimedName: claimedName, path: to)
    }

    /// Moves a file that cannot be loaded to `quarantine/` with `<name>.reason` beside it, durably.
    @discardableResult
    public func quarantine(_ file: ClaimedFile, reason: String) throws(DropError) -> String {
        let reasonPath = (quarantinePath as NSString).appendingPathComponent(file.claimedName + ".reason")
        guard FileManager.default.createFile(atPath: reasonPath, contents: Data((reason + "\n").utf8)) else {
            throw DropError(description: "cannot write '\(reasonPath)'")
        }
        try Durable.syncFile(reasonPath)
        return try move(file.path, named: file.claimedName, from: processingPath, to: quarantinePath)
    }

    private func move(_ path: String, named name: String, from source: String, to folder: String) throws(DropError) -> String {
        let target = (folder as NSString).appendingPathComponent(name)
        guard rename(path, target) == 0 else {
            throw DropError(description: "cannot move '\(path)' to '\(folder)': \(String(cString: strerror(errno)))")
        }
        try Durable.syncDirectory(folder)
        try Durable.syncDirectory(source)
        return target
    }

    static func claimPrefix(_ now: Date) -> String {
        let ms = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        let stamp = String(
            format: "%04d%02d%02dT%02d%02d%02d.%03dZ", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
            Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int(ms % 1000))
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return stamp + "-" + String(repeating: "0", count: max(0, 7 - tag.count)) + tag
    }

    /// The longest shown name a claim keeps whole: a name is at most 255 bytes (NAME_MAX), the claim
    /// adds 29 (`20251202T140500.123Z-0abc123-`) and quarantine's reason file 7 (`.reason`).
    static let longestKeptName = 255 - 29 - 7

    /// The name a claim gives the file after its prefix: the shown name, or for a longer one its
    /// head, `~`, 8 hex digits of the SHA-256 of the real name (so two long names never collide) and
    /// its extension.
    static func shortened(_ name: String, bytes: [UInt8]) -> String {
        guard name.utf8.count > longestKeptName else { return name }
        let hash = String(SHA256.hex(bytes).prefix(8))
        var ext = ""
        if let dot = name.lastIndex(of: "."), name[dot...].utf8.count <= 12 { ext = String(name[dot...]) }
        let room = longestKeptName - 1 - hash.utf8.count - ext.utf8.count
        var head = ""
        for c in name {
            guard head.utf8.count + String(c).utf8.count <= room else { break }
            head.append(c)
        }
        return head + "~" + hash + ext
    }

    /// `20251202T140500.123Z-0abc123-stock.csv` -> `stock.csv`.
    public static func originalName(of claimed: String) -> String {
        let parts = claimed.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].hasSuffix("Z") ? String(parts[2]) : claimed
    }

    /// The entries of a directory, read with their names' bytes and `lstat` (symbolic links are
    /// seen as links, never followed).
    static func list(_ directory: String) throws(DropError) -> [Waiting] {
        guard let dir = opendir(directory) else {
            throw DropError(description: "cannot list '\(directory)': \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var out: [Waiting] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            var st = stat()
            let found = (bytes + [0]).withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { fstatat(fd, $0.baseAddress!, &st, AT_SYMLINK_NOFOLLOW) }
            }
            guard found == 0 else { continue }  // gone since it was listed
            let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            out.append(Waiting(name: FileName.display(bytes), bytes: bytes, modified: modified, refusal: refusal(st.st_mode)))
        }
        return out
    }

    /// Why an entry of this type is not loaded, or nil for a regular file.
    static func refusal(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return "a symbolic link, not a regular file: not followed"
        case S_IFDIR: return "a directory, not a regular file"
        case S_IFIFO: return "a FIFO (named pipe), not a regular file"
        case S_IFSOCK: return "a socket, not a regular file"
        case S_IFCHR, S_IFBLK: return "a device, not a regular file"
        default: return "not a regular file"
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
