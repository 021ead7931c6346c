#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The user the service runs as, and what the filesystem lets it do: the permission bits of a file
/// and the search bits of every folder above it, judged for that user's uid and groups (the doctor
/// usually runs as root, which can read anything).
struct ServiceUser: Sendable {
    var name: String
    var uid: uid_t
    var groups: Set<gid_t>

    /// The user named, `oemsync` when it exists, or the current user.
    static func resolve(_ name: String?) -> ServiceUser? {
        if let name { return lookup(name) }
        if let service = lookup("oemsync") { return service }
        return lookup(uid: getuid())
    }

    static func lookup(_ name: String) -> ServiceUser? {
        guard let pw = getpwnam(name) else { return nil }
        return make(pw.pointee)
    }

    static func lookup(uid: uid_t) -> ServiceUser? {
        guard let pw = getpwuid(uid) else { return nil }
        return make(pw.pointee)
    }

    private static func make(_ pw: passwd) -> ServiceUser {
        var count: Int32 = 64
        var gids = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(pw.pw_name, pw.pw_gid, &gids, &count) < 0 {
            gids = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(pw.pw_name, pw.pw_gid, &gids, &count)
        }
        return ServiceUser(name: String(cString: pw.pw_name), uid: pw.pw_uid, groups: Set(gids.prefix(Int(max(count, 0)))).union([pw.pw_gid]))
    }

    enum Access {
        case read
        case write
    }

    /// Nil when the user may do it; otherwise why not (the path that stops it).
    func cannot(_ access: Access, _ path: String) -> String? {
        if uid == 0 { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return "'\(path)': \(String(cString: strerror(errno)))" }
        // Every folder above must be searchable.
        var dir = (path as NSString).deletingLastPathComponent
        while !dir.isEmpty {
            var ds = stat()
            if stat(dir, &ds) == 0, !allows(ds, execute: true) { return "'\(dir)' is not searchable by \(name)" }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir { break }
            dir = parent
        }
        let ok = access == .read ? allows(st, read: true) : allows(st, write: true) && ((st.st_mode & S_IFMT) != S_IFDIR || allows(st, execute: true))
        guard ok else {
            let mode = String(st.st_mode & 0o7777, radix: 8)
            return "'\(path)' (mode \(mode), owner uid \(st.st_uid), group \(st.st_gid)) is not \(access == .read ? "readable" : "writable") by \(name)"
        }
        return nil
    }

    private func allows(_ st: stat, read: Bool = false, write: Bool = false, execute: Bool = false) -> Bool {
        let mode = st.st_mode
        let shift: mode_t = st.st_uid == uid ? 6 : groups.contains(st.st_gid) ? 3 : 0
        let bits = (mode >> shift) & 0o7
        if read && bits & 0o4 == 0 { return false }
        if write && bits & 0o2 == 0 { return false }
        if execute && bits & 0o1 == 0 { return false }
        return true
    }
}

/// Where systemd finds a credential that the config reads from `/run/credentials/<unit>/<id>`
/// (which exists only inside the running service): the unit's `LoadCredential=<id>:<source>`, the
/// source a path, or a name looked up in systemd's credential stores.
enum SystemdCredential {
    static let unitFolders = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"]
    static let stores = ["/etc/credstore", "/run/credstore", "/usr/lib/credstore"]

    /// `(unit, id)` of a path under `/run/credentials/`, or nil.
    static func parse(_ path: String) -> (unit: String, id: String)? {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "run", parts[1] == "credentials" else { return nil }
        return (String(parts[2]), String(parts[3]))
    }

    enum Found {
        case file(String)
        /// The unit loads it from a store, where it is missing (a SQLite install needs none).
        case missing(String)
        /// The unit has no `LoadCredential=` for it.
        case notLoaded
        /// The unit is not installed here.
        case noUnit
    }

    static func find(unit: String, id: String, root: String = "") -> Found {
        var lines: [String] = []
        var found = false
        for folder in unitFolders {
            let file = root + folder + "/" + unit
            if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                lines += text.split(separator: "\n").map(String.init)
                found = true
                break  // the first unit file found wins, as systemd's search path says
            }
        }
        for folder in unitFolders {
            let dropins = root + folder + "/" + unit + ".d"
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: dropins)) ?? []).sorted() where name.hasSuffix(".conf") {
                if let text = try? String(contentsOfFile: dropins + "/" + name, encoding: .utf8) {
                    lines += text.split(separator: "\n").map(String.init)
                    found = true
                }
            }
        }
        guard found else { return .noUnit }
        var source: String?
        for line in lines {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("LoadCredential=") else { continue }
            let value = t.dropFirst("LoadCredential=".count)
            guard let colon = value.firstIndex(of: ":") else {
                if value == id { source = id }
                continue
            }
            if value[..<colon] == id { source = String(value[value.index(after: colon)...]) }
        }
        guard let source else { return .notLoaded }
        if source.hasPrefix("/") { return FileManager.default.fileExists(atPath: root + source) ? .file(source) : .missing(source) }
        for store in stores where FileManager.default.fileExists(atPath: root + store + "/" + source) { return .file(store + "/" + source) }
        return .missing(stores[0] + "/" + source)
    }
}
