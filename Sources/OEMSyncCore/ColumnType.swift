/// The type of a target column, as a mapping declares it and a sink stores it.
///
/// | type       | SQLite storage          | PostgreSQL      |
/// |------------|-------------------------|-----------------|
/// | `string`   | TEXT                    | text            |
/// | `int`      | INTEGER                 | bigint          |
/// | `decimal`  | NUMERIC: bound as exact text, stored by SQLite as an integer when whole, else a double | numeric (exact) |
/// | `bool`     | INTEGER 0/1             | boolean         |
/// | `date`     | TEXT `YYYY-MM-DD`       | date            |
/// | `datetime` | TEXT `YYYY-MM-DDTHH:MM:SSZ` (UTC) | timestamptz |
public enum ColumnType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case string
    case int
    case decimal
    case bool
    case date
    case datetime

    public var description: String { rawValue }
}
