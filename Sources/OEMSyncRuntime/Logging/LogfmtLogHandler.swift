import Foundation
import Logging

/// Writes one logfmt line per event to stderr, the form journald and log shippers read well:
/// `ts=2026-11-23T12:00:00.000Z level=info msg="file loaded" oemsync.feed=acme-stock ...`.
///
/// Messages are constant strings and data goes in metadata; components never put record values
/// (phones, names) in either, and free-text values are scrubbed besides (``LogScrub``).
public struct LogfmtLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    /// Writing to the journal: each line starts with its priority (`<4>`) and has no time stamp.
    let journal: Bool
    let stream: @Sendable (String) -> Void

    public init(
        label: String, level: Logger.Level = .info, journal: Bool = false, stream: @escaping @Sendable (String) -> Void = LogfmtLogHandler.stderr
    ) {
        self.label = label
        self.logLevel = level
        self.journal = journal
        self.stream = stream
    }

    public static let stderr: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line =
            journal
            ? "\(LogOutput.prefix(event.level, true))level=\(event.level) msg=\(Self.quote(event.message.description))"
            : "ts=\(LogTime.iso(Date())) level=\(event.level) msg=\(Self.quote(event.message.description))"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.quote(LogScrub.value(merged[key]!.description, key: key)))"
        }
        stream(line + "\n")
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty, s.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != "\"" && $0 != "=" }) { return s }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // Other control characters (an escape sequence in an OEM's text) never reach a terminal raw.
                if u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) {
                    out += "\\u{" + String(u.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

enum LogTime {
    static func iso(_ date: Date) -> String {
        let f = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return date.formatted(f)
    }
}
