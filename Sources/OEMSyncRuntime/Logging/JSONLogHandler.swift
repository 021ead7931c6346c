import Foundation
import Logging

/// Writes one JSON object per event to stderr, for log shippers that want JSON:
/// `{"ts":"2026-11-23T12:00:00.000Z","level":"info","msg":"run finished","oemsync.feed":"acme-stock",...}`.
///
/// Same rules as ``LogfmtLogHandler``: constant messages, data in metadata, free text scrubbed
/// (``LogScrub``).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let stream: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level = .info, stream: @escaping @Sendable (String) -> Void = LogfmtLogHandler.stderr) {
        self.label = label
        self.logLevel = level
        self.stream = stream
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{\"ts\":\(Self.quote(LogTime.iso(Date()))),\"level\":\(Self.quote(event.level.rawValue)),\"msg\":\(Self.quote(event.message.description))"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            line += ",\(Self.quote(key)):\(Self.quote(LogScrub.value(merged[key]!.description, key: key)))"
        }
        stream(line + "}\n")
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// The last guard against personal data in logs. Components log identifiers and counts, never
/// record values; but free text (an error a database or an OEM wrote, a reason) can quote one. In
/// those values, e-mail addresses and runs of 7 or more digits (phones, ID numbers, a leading `+`
/// included) are masked as ``Masking`` masks them for display.
public enum LogScrub {
    /// Keys whose values are free text.
    static let freeText: Set<String> = [LogKey.error, LogKey.reason]

    public static func value(_ s: String, key: String) -> String { freeText.contains(key) ? text(s) : s }

    public static func text(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            // A digit run, with a leading + (phones, ID numbers with a final X).
            if c.isASCII, c.isNumber || (c == "+" && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber) {
                var j = i + (c == "+" ? 1 : 0)
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                if j < chars.count, chars[j] == "X" || chars[j] == "x", j - i == 17 { j += 1 }
                let run = String(chars[i..<j])
                let digits = run.filter(\.isNumber).count
                out += digits >= 7 ? Masking.mask(run) : run
                i = j
                continue
            }
            // An e-mail address: the word around an @.
            if c == "@", let start = out.lastIndex(where: { !($0.isLetter || $0.isNumber || ".-_+".contains($0)) }).map({ out.index(after: $0) }) ?? Optional(out.startIndex),
                start < out.endIndex, i + 1 < chars.count, chars[i + 1].isLetter || chars[i + 1].isNumber
            {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || ".-".contains(chars[j]) { j += 1 }
                let local = String(out[start...])
                out.removeSubrange(start...)
                out += Masking.mask(local + String(chars[i..<j]))
                i = j
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }
}
