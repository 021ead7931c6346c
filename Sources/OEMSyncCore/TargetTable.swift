/// What a sink needs to upsert rows: the table, its columns in row order, and the natural key.
///
/// Built from a compiled mapping whose identifiers were already checked against the schema; sinks
/// still quote every identifier.
public struct TargetTable: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public var name: String
        public var type: ColumnType
        public init(name: String, type: ColumnType) {
            self.name = name
            self.type = type
        }
    }

    public var name: String
    public var columns: [Column]
    /// Indexes into `columns` of the natural key, in key order.
    public var keyIndexes: [Int]

    public init(name: String, columns: [Column], keyIndexes: [Int]) {
        self.name = name
        self.columns = columns
        self.keyIndexes = keyIndexes
    }

    public var keyColumns: [Column] { keyIndexes.map { columns[$0] } }
    public var valueIndexes: [Int] { columns.indices.filter { !keyIndexes.contains($0) } }
}

/// The columns a table has in a database, used to check a mapping's identifiers.
public struct TableSchema: Sendable, Hashable {
    public var name: String
    public var columns: [String: ColumnType]
    /// Column sets that are unique (primary key and unique constraints); a natural key must be one.
    public var uniqueKeys: [[String]]

    public init(name: String, columns: [String: ColumnType], uniqueKeys: [[String]]) {
        self.name = name
        self.columns = columns
        self.uniqueKeys = uniqueKeys
    }

    public func hasUniqueKey(_ columns: [String]) -> Bool {
        uniqueKeys.contains { Set($0) == Set(columns) }
    }
}

/// The tables a mapping may write to: the reference dealer schema at `oemsync check` time, the live
/// database at sync time.
public struct SchemaCatalog: Sendable {
    public var tables: [String: TableSchema]
    /// Where the catalog came from, for messages: "the reference dealer schema", "the database".
    public var origin: String

    public init(tables: [TableSchema], origin: String) {
        self.tables = Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0) })
        self.origin = origin
    }
}
