/// Log metadata keys: dotted, lowercase, defined once. Values are identifiers and counts, never
/// record contents.
public enum LogKey {
    public static let feed = "oemsync.feed"
    public static let file = "oemsync.file"
    /// The name a dropped file was claimed under (in processing/, archive/, quarantine/).
    public static let claimed = "oemsync.file.claimed"
    public static let batch = "oemsync.batch.id"
    public static let records = "oemsync.records"
    public static let written = "oemsync.written"
    public static let rejected = "oemsync.rejected"
    public static let position = "oemsync.position"
    public static let reason = "oemsync.reason"
    public static let error = "oemsync.error"
    public static let database = "oemsync.database"
    public static let requests = "oemsync.requests"
}

extension LogKey {
    public static let address = "oemsync.address"
    public static let state = "oemsync.state"
    public static let next = "oemsync.next_run"
    public static let feeds = "oemsync.feeds"
}
