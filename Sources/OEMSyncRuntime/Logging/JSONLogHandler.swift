import Foundation
import Logging
import OEMSyncCore

/// Writes one JSON object per event to stderr, for log shippers that want JSON:
/// `{"ts":"2026-11-23T12:00:00.000Z","level":"info","msg":"run finished","oemsync.feed":"acme-stock","oemsync.records":120}`.
///
/// Same rules as ``LogfmtLogHandler``: constant messages, data in metadata, free text scrubbed
/// (``LogScrub``). Counts are JSON numbers.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
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

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = merged.keys.sorted().map { key -> (String, Field) in
            let value = merged[key]!
            if case .stringConvertible(let v) = value, v is any BinaryInteger || v is any BinaryFloatingPoint {
                let text = v.description
                if Double(text)?.isFinite == true { return (key, .number(text)) }
            }
            return (key, .string(LogScrub.value(value.description, key: key)))
        }
        stream(LogOutput.prefix(event.level, journal) + Self.line(level: event.level, message: event.message.description, fields: fields) + "\n")
    }

    /// A field's JSON value.
    enum Field {
        case string(String)
        /// A JSON number, written as is.
        case number(String)
        /// JSON written as is (an array).
        case raw(String)
    }

    /// `{"ts":…,"level":…,"msg":…,fields…}` without the line break.
    static func line(level: Logger.Level, message: String, fields: [(String, Field)]) -> String {
        var line = "{\"ts\":\(quote(LogTime.iso(Date()))),\"level\":\(quote(level.rawValue)),\"msg\":\(quote(message))"
        for (key, value) in fields {
            switch value {
            case .string(let s): line += ",\(quote(key)):\(quote(s))"
            case .number(let n), .raw(let n): line += ",\(quote(key)):\(n)"
            }
        }
        return line + "}"
    }

    static func quote(_ s: String) -> String { JSONText.quoted(s) }
}
