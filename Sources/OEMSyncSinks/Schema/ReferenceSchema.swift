import OEMSyncCore

/// The reference dealer schema as a catalog, for `oemsync check` (which must not touch the dealer
/// database): the migrations applied to a private in-memory SQLite database and read back, so the
/// migration SQL is the single source of truth.
public enum ReferenceSchema {
    public static func catalog() throws(SinkError) -> SchemaCatalog {
        let db = try SQLiteDealerDatabase(path: ":memory:")
        _ = try db.migrate()
        var catalog = try db.catalog()
        catalog.origin = "the reference dealer schema"
        return catalog
    }
}
