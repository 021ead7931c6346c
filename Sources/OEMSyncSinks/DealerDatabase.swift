import OEMSyncCore

/// The dealer's database as the pipeline sees it: schema, checkpoints, and the one operation that
/// matters, ``commit(_:to:context:)``.
///
/// Implementations: ``SQLiteDealerDatabase`` (the embedded default) and ``PostgresDealerDatabase``.
/// The same behaviour suite runs against both.
public protocol DealerDatabase: AnyObject, Sendable {
    var dialect: SQLDialect { get }
    /// Where the data goes, for messages: a file path, or host/database (never a password).
    var displayName: String { get }

    /// Applies pending migrations; returns the names applied now (empty when up to date).
    func migrate() throws(SinkError) -> [String]
    /// Names of migrations not yet applied.
    func pendingMigrations() throws(SinkError) -> [String]
    /// The tables and columns that exist, to check a mapping's identifiers against.
    func catalog() throws(SinkError) -> SchemaCatalog
    /// The stored position of a feed, or nil if it never committed a batch.
    func checkpoint(feed: String) throws(SinkError) -> String?

    /// Writes one batch in ONE transaction: the rows (upsert by natural key, unchanged rows left
    /// untouched), its rejects and warnings, its ledger entry and the advanced checkpoint. Either all
    /// of it commits or none of it does.
    ///
    /// The checkpoint is compare-and-set: it only moves from `context.checkpointBefore`, so a
    /// checkpoint that changed underneath (another process) fails the batch instead of being lost.
    func commit(_ batch: MappedBatch, to table: TargetTable, context: BatchContext) throws(SinkError) -> BatchReceipt

    /// Work on a batch that needs no database and can run while the previous batch is being
    /// written (encoding rows for COPY). Called on the producer's thread; optional.
    func prepare(_ batch: inout MappedBatch)
}

extension DealerDatabase {
    public func prepare(_ batch: inout MappedBatch) {}
}

/// Everything about a batch besides its rows: where it came from and what produced it.
public struct BatchContext: Sendable {
    public var feed: String
    /// The file name (or request) the records came from, as the OEM named it.
    public var source: String
    /// A unique reference to that source (the claimed file name in the drop directory).
    public var sourceRef: String
    public var positionStart: String
    public var positionEnd: String
    /// The checkpoint this batch continues from; nil for the feed's first batch.
    public var checkpointBefore: String?
    public var checkpointAfter: String
    public var mapping: String
    public var mappingVersion: String
    public var dictionaryVersion: String
    public var startedAt: Timestamp

    public init(
        feed: String, source: String, sourceRef: String, positionStart: String, positionEnd: String,
        checkpointBefore: String?, checkpointAfter: String, mapping: String, mappingVersion: String,
        dictionaryVersion: String, startedAt: Timestamp
    ) {
        self.feed = feed
        self.source = source
        self.sourceRef = sourceRef
        self.positionStart = positionStart
        self.positionEnd = positionEnd
        self.checkpointBefore = checkpointBefore
        self.checkpointAfter = checkpointAfter
        self.mapping = mapping
        self.mappingVersion = mappingVersion
        self.dictionaryVersion = dictionaryVersion
        self.startedAt = startedAt
    }
}

/// What a committed batch did to the target table.
public struct BatchReceipt: Sendable, Hashable {
    public var batchID: Int64
    public var inserted: Int
    public var updated: Int
    /// Rows whose stored values already equalled the new ones: not rewritten.
    public var unchanged: Int

    public init(batchID: Int64, inserted: Int, updated: Int, unchanged: Int) {
        self.batchID = batchID
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
    }
}

extension MappedBatch {
    /// `ok` without rejects, `partial` with some.
    public var status: String { rejects.isEmpty ? "ok" : "partial" }

    func checkConserved(feed: String) throws(SinkError) {
        guard isConserved else {
            var error = SinkError(
                .write,
                "batch is not conserved: \(recordsIn) records in, \(written) written, \(rejects.count) rejected; nothing written")
            error.feed = feed
            throw error
        }
    }
}

extension Timestamp {
    /// Now, from the system clock.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), microseconds: Int64(ts.tv_nsec / 1000))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
