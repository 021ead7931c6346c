#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

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

    /// Complete files waiting in the directory, oldest first (by modification time, then name).
    public func readyFiles(now: Date = Date()) throws(DropError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw DropError(description: "cannot list '\(path)': \(error.localizedDescription)")
        }
        let present = Set(names)
        var ready: [(String, Double)] = []
        for name in names where matches(name) {
            var st = stat()
            guard stat((path as NSString).appendingPathComponent(name), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            switch readiness {
            case .rename:
                break
            case .marker(let suffix):
                guard present.contains(name + suffix) else { continue }
            case .stable(let seconds):
                guard now.timeIntervalSince1970 - mtime >= seconds else { continue }
            }
            ready.append((name, mtime))
        }
        return ready.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
    }

    /// Whether `name` is one of this feed's data files (not a marker, temp file or hidden file).
    func matches(_ name: String) -> Bool {
        if name.hasPrefix(".") { return false }
        for suffix in [".tmp", ".part", ".partial", ".filepart"] where name.hasSuffix(suffix) { return false }
        if case .marker(let suffix) = readiness, name.hasSuffix(suffix) { return false }
        return fnmatch(pattern, name, 0) == 0
    }

    /// Moves `name` into `processing/`. Returns nil if another process took it first.
    public func claim(_ name: String, now: Date = Date()) throws(DropError) -> ClaimedFile? {
        let claimedName = Self.claimPrefix(now) + "-" + name
        let from = (path as NSString).appendingPathComponent(name)
        let to = (processingPath as NSString).appendingPathComponent(claimedName)
        if rename(from, to) != 0 {
            if errno == ENOENT { return nil }
            throw DropError(description: "cannot claim '\(name)': \(String(cString: strerror(errno)))")
        }
        if case .marker(let suffix) = readiness {
            unlink((path as NSString).appendingPathComponent(name + suffix))
        }
        return ClaimedFile(originalName: name, claimedName: claimedName, path: to)
    }

    /// Files left in `processing/` by a run that stopped (a crash, a database outage): they are
    /// resumed from their checkpoint before new files are claimed. Oldest claim first.
    public func claimedFiles() throws(DropError) -> [ClaimedFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: processingPath)
        } catch {
            throw DropError(description: "cannot list '\(processingPath)': \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            let original = Self.originalName(of: name)
            return ClaimedFile(originalName: original, claimedName: name, path: (processingPath as NSString).appendingPathComponent(name))
        }
    }

    /// Moves a loaded file to `archive/`; returns its new path.
    @discardableResult
    public func archive(_ file: ClaimedFile) throws(DropError) -> String {
        try move(file, to: archivePath)
    }

    /// Moves a file that cannot be loaded to `quarantine/` with `<name>.reason` beside it.
    @discardableResult
    public func quarantine(_ file: ClaimedFile, reason: String) throws(DropError) -> String {
        let reasonPath = (quarantinePath as NSString).appendingPathComponent(file.claimedName + ".reason")
        guard FileManager.default.createFile(atPath: reasonPath, contents: Data((reason + "\n").utf8)) else {
            throw DropError(description: "cannot write '\(reasonPath)'")
        }
        return try move(file, to: quarantinePath)
    }

    private func move(_ file: ClaimedFile, to folder: String) throws(DropError) -> String {
        let target = (folder as NSString).appendingPathComponent(file.claimedName)
        guard rename(file.path, target) == 0 else {
            throw DropError(description: "cannot move '\(file.path)' to '\(folder)': \(String(cString: strerror(errno)))")
        }
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

    /// `20251202T140500.123Z-0abc123-stock.csv` -> `stock.csv`.
    static func originalName(of claimed: String) -> String {
        let parts = claimed.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].hasSuffix("Z") ? String(parts[2]) : claimed
    }
}
