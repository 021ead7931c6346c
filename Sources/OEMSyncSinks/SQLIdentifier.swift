import Foundation
/// Quoting for identifiers that reach SQL text. They were checked against the schema when the
/// mapping was compiled and are plain lowercase names; quoting is the second guard.
enum SQLIdentifier {
    static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Columns every reference table carries for provenance; never mapped.
    static let batchColumn = "oemsync_batch_id"
    static let syncedColumn = "oemsync_synced_at"

    /// Whether a table carries both provenance columns (every reference table does; a dealer's own
    /// table may have neither, and then none is written).
    static func hasProvenance(_ schema: TableSchema?) -> Bool {
        schema?.columns[batchColumn] != nil && schema?.columns[syncedColumn] != nil
    }
}

/// The column type a database's declared type stands for.
enum DeclaredType {
    static func columnType(sqlite declared: String) -> ColumnType {
        let t = declared.uppercased()
        if t.contains("INT") { return .int }
        if t.contains("BOOL") { return .bool }
        if t.contains("NUMERIC") || t.contains("DECIMAL") { return .decimal }
        if t.contains("TIMESTAMP") || t.contains("DATETIME") { return .datetime }
        if t.contains("DATE") { return .date }
        return .string
    }

    static func columnType(postgres dataType: String) -> ColumnType {
        switch dataType {
        case "bigint", "integer", "smallint": return .int
        case "numeric": return .decimal
        case "boolean": return .bool
        case "date": return .date
        case "timestamp with time zone", "timestamp without time zone": return .datetime
        default: return .string
        }
    }
}

import OEMSyncCore
