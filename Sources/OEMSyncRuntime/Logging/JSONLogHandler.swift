import Foundation
import Logging
import OEMSyncCore

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

    static func quote(_ s: String) -> String { JSONText.quoted(s) }
}
