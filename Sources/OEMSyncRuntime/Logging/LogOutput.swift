#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import OEMSyncCore

/// Where and how the daemon and `sync` write their logs and errors on stderr.
///
/// - `logfmt` (the default): one `key=value` line per event.
/// - `json`: every line on stderr is one JSON object, diagnostics and error messages included,
///   numbers as numbers.
///
/// When stderr is the systemd journal (`$JOURNAL_STREAM` names stderr's device and inode, which
/// systemd sets for `StandardError=journal`), each line starts with its syslog priority in the
/// sd-daemon form (`<4>` warning, `<3>` error, …), so `journalctl -p warning` finds oemsync's
/// warnings and errors; the time stamp is left to the journal.
public struct LogOutput: Sendable {
    public enum Format: String, Sendable {
        case logfmt
        case json
    }

    public var format: Format
    public var level: Logger.Level
    /// Whether stderr is the journal (lines get `<N>` priority prefixes).
    public var journal: Bool
    /// Where lines go (stderr; tests capture them).
    public var stream: @Sendable (String) -> Void

    public init(
        format: Format = .logfmt, level: Logger.Level = .info, journal: Bool = Journal.isStderr(),
        stream: @escaping @Sendable (String) -> Void = LogfmtLogHandler.stderr
    ) {
        self.format = format
        self.level = level
        self.journal = journal
        self.stream = stream
    }

    public func handler(label: String) -> any LogHandler {
        switch format {
        case .logfmt: return LogfmtLogHandler(label: label, level: level, journal: journal, stream: stream)
        case .json: return JSONLogHandler(label: label, level: level, journal: journal, stream: stream)
        }
    }

    /// A console whose error side follows the format: in `json`, each line of an error message
    /// becomes `{"ts":…,"level":"error","msg":…}` and each diagnostic an object of its own with its
    /// code, file, line and column; in the journal, each line carries its priority.
    public func console(out: @escaping @Sendable (String) -> Void = Console.standard.out) -> Console {
        let format = self.format
        let journal = self.journal
        let stream = self.stream
        var console = Console(
            out: out,
            err: { text in
                for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                    switch format {
                    case .json:
                        stream(LogOutput.prefix(.error, journal) + JSONLogHandler.line(level: .error, message: String(line), fields: []) + "\n")
                    case .logfmt:
                        stream(LogOutput.prefix(.error, journal) + line + "\n")
                    }
                }
            })
        console.diagnostics = { diagnostics, renderer in
            for d in diagnostics {
                let level: Logger.Level = d.severity == .error ? .error : .warning
                switch format {
                case .json:
                    var fields: [(String, JSONLogHandler.Field)] = [
                        ("code", .string(d.code)), ("severity", .string(d.severity.rawValue)), ("message", .string(d.message)),
                    ]
                    if let l = d.location {
                        fields += [("file", .string(l.file)), ("line", .number(String(l.line))), ("column", .number(String(l.column)))]
                    }
                    if !d.notes.isEmpty { fields.append(("notes", .raw("[" + d.notes.map(JSONText.quoted).joined(separator: ",") + "]"))) }
                    if let help = d.help { fields.append(("help", .string(help))) }
                    stream(LogOutput.prefix(level, journal) + JSONLogHandler.line(level: level, message: "diagnostic", fields: fields) + "\n")
                case .logfmt:
                    for line in renderer.render(d).split(separator: "\n", omittingEmptySubsequences: true) {
                        stream(LogOutput.prefix(level, journal) + line + "\n")
                    }
                }
            }
        }
        return console
    }

    /// `<N>`: the sd-daemon priority prefix of a level (empty outside the journal).
    static func prefix(_ level: Logger.Level, _ journal: Bool) -> String {
        journal ? "<\(Journal.priority(level))>" : ""
    }
}

/// The systemd journal as seen from a service.
public enum Journal {
    /// Whether stderr is connected to the journal: `$JOURNAL_STREAM` is `DEVICE:INODE` of the
    /// stream systemd connected, and it must be stderr's (a child with redirected stderr inherits
    /// the variable but not the stream).
    public static func isStderr(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }

    /// syslog(3) priority of a log level: error 3, warning 4, notice 5, info 6, debug and trace 7.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}
