import Foundation
import OEMSyncCore

/// A failure of the dealer database: connecting, migrating, writing a batch, the checkpoint.
///
/// `description` names the operation, the table and the database's own message (with quoted values
/// masked: a database message like `invalid input syntax for type date: "..."` can carry personal
/// data). Connection strings and passwords never appear.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let description: String
        public static let connect = Code(description: "connect")
        public static let migrate = Code(description: "migrate")
        public static let schema = Code(description: "schema")
        public static let write = Code(description: "write")
        public static let checkpoint = Code(description: "checkpoint")
        public static let query = Code(description: "query")
        /// The source stopped before the batch ended; nothing of it was written.
        public static let abandoned = Code(description: "abandoned")
    }

    public var code: Code
    public var message: String
    /// SQLSTATE (PostgreSQL) or the SQLite result code, when the database gave one.
    public var databaseCode: String?
    /// Added as the error travels up: the feed and batch it happened in.
    public var feed: String?

    public init(_ code: Code, _ message: String, databaseCode: String? = nil) {
        self.code = code
        self.message = message
        self.databaseCode = databaseCode
    }

    public var description: String {
        var s = "database \(code): \(message)"
        if let databaseCode { s += " [\(databaseCode)]" }
        if let feed { s = "feed '\(feed)': " + s }
        return s
    }

    /// Masks values the database quotes in its messages (`: "2025-13-01"` -> `: "…"`), keeping
    /// identifiers (`relation "stock"`), so personal data never leaves through an error message.
    public static func maskValues(_ message: String) -> String {
        var out = ""
        var rest = Substring(message)
        while let r = rest.range(of: ": \"") {
            out += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            if let close = rest.firstIndex(of: "\"") {
                out += "…"
                rest = rest[close...]
            }
        }
        out += rest
        // Key values in constraint messages: Key (vin)=(LSV...) -> Key (vin)=(…)
        while let r = out.range(of: ")=("), let close = out[r.upperBound...].firstIndex(of: ")") {
            out.replaceSubrange(r.upperBound..<close, with: "…")
            if out[r.upperBound...].hasPrefix("…)") { break }
        }
        return out
    }
}
