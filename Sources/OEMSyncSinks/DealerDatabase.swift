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
    /// Requests the batches of these credentials cost since `since` (the start of the quota day):
    /// what earlier runs already spent of a daily quota.
    func requestsUsed(credentials: String, since: Timestamp) throws(SinkError) -> Int

    /// Writes one batch in ONE transaction: the rows of every chunk (upsert by natural key,
    /// unchanged rows left untouched), their rejects and warnings, the batch's ledger entry and the
    /// advanced checkpoint. Either all of it commits or none of it does.
    ///
    /// The chunks are pulled one at a time while the transaction is open, so a batch can be far
    /// larger than what is held in memory. When `chunks` ends without an ``BatchChunks/end`` (the
    /// source gave up), everything is rolled back and ``SinkError/Code/abandoned`` is thrown.
    ///
    /// The checkpoint is compare-and-set: it only moves from `context.checkpointBefore`, so a
    /// checkpoint that changed underneath (another process) fails the batch instead of being lost.
    func commit(_ chunks: any BatchChunks, to table: TargetTable, context: BatchContext) throws(SinkError) -> BatchReceipt

    /// A query with `?` placeholders, values bound (never spliced into the SQL): what ``Ledger``
    /// reads oemsync's own tables with.
    func select(_ sql: String, _ values: [Value]) throws(SinkError) -> [[String?]]
    /// Statements with `?` placeholders run in one transaction; returns the rows each changed.
    func transaction(_ statements: [(sql: String, values: [Value])]) throws(SinkError) -> [Int]

    /// Work on a chunk that needs no database and can run while the previous one is being written
    /// (encoding rows for COPY). Called on the producer's thread; optional.
    func prepare(_ batch: inout MappedBatch)
}

extension DealerDatabase {
    public func prepare(_ batch: inout MappedBatch) {}

    /// Writes a batch held whole in memory (one chunk).
    public func commit(_ batch: MappedBatch, to table: TargetTable, context: BatchContext, end: BatchEnd) throws(SinkError)
        -> BatchReceipt
    {
        var one = batch
        prepare(&one)
        return try commit(SingleChunk(one, end: end), to: table, context: context)
    }
}

/// The chunks of one batch, handed to the sink one by one inside its transaction.
public protocol BatchChunks: AnyObject {
    /// The next chunk, or nil when the batch is complete (see ``end``) or abandoned.
    func next() -> MappedBatch?
    /// Where the batch ends, known once ``next()`` returned nil; nil when the producer abandoned it.
    var end: BatchEnd? { get }
}

/// Where a batch ends: the position reached, the checkpoint to store, and what the source has to
/// say about it.
public struct BatchEnd: Sendable {
    public var positionEnd: String
    /// The checkpoint after the batch; nil leaves the stored one as it is (a failed page that the
    /// next run must ask for again, a replay).
    public var checkpointAfter: String?
    /// HTTP requests the batch cost, retries included (0 for files).
    public var requests: Int
    /// Records the source dropped before mapping because it had delivered them already.
    public var duplicates: Int
    /// What happened on the way (retries, waits), for people.
    public var notes: String?
    /// Set when the batch could not be read at all: the ledger entry is `failed`.
    public var failure: BatchFailure?
    /// What the source delivered, loaded only when the ledger keeps it: always for `failed` and
    /// `partial` batches, for `ok` ones when the feed's retention says so.
    public var payload: (any BatchPayloadSource)?
    /// Set on the last batch of a dropped file: the file's outcome, recorded in `oemsync_files` in
    /// the same transaction, so the file counts as loaded exactly when its last rows are committed.
    public var file: FileRecord?

    public init(
        positionEnd: String, checkpointAfter: String?, requests: Int = 0, duplicates: Int = 0, notes: String? = nil,
        failure: BatchFailure? = nil, payload: (any BatchPayloadSource)? = nil, file: FileRecord? = nil
    ) {
        self.positionEnd = positionEnd
        self.checkpointAfter = checkpointAfter
        self.requests = requests
        self.duplicates = duplicates
        self.notes = notes
        self.failure = failure
        self.payload = payload
        self.file = file
    }
}

/// A dropped file as `oemsync_files` keeps it: the name it was claimed under, its content's
/// SHA-256, and what became of it.
public struct FileRecord: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Read to its end and committed.
        case loaded
        /// The same content was loaded before (``sameAs`` names that batch): not loaded again.
        case skipped
        /// Moved to `quarantine/` (``reason`` says why).
        case quarantined
    }

    public var claimedName: String
    public var originalName: String
    public var size: Int64
    /// Nil when the file was quarantined before its content was read (not a regular file).
    public var sha256: String?
    public var outcome: Outcome
    public var sameAs: Int64?
    public var reason: String?

    public init(
        claimedName: String, originalName: String, size: Int64, sha256: String?, outcome: Outcome, sameAs: Int64? = nil, reason: String? = nil
    ) {
        self.claimedName = claimedName
        self.originalName = originalName
        self.size = size
        self.sha256 = sha256
        self.outcome = outcome
        self.sameAs = sameAs
        self.reason = reason
    }

    /// The statement that records it (`?` placeholders), and its values.
    func statement(feed: String, batchID: Int64?) -> (sql: String, values: [Value]) {
        (
            """
            INSERT INTO oemsync_files (feed, claimed_name, original_name, size, sha256, outcome, batch_id, same_as, reason, finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (feed, claimed_name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, outcome = excluded.outcome,
            batch_id = excluded.batch_id, same_as = excluded.same_as, reason = excluded.reason, finished_at = excluded.finished_at
            """,
            [
                .string(feed), .string(claimedName), .string(originalName), .int(size), sha256.map(Value.string) ?? .null,
                .string(outcome.rawValue), batchID.map(Value.int) ?? .null, sameAs.map(Value.int) ?? .null,
                reason.map { .string(Redact.scrub($0)) } ?? .null,
                .datetime(.now()),
            ]
        )
    }
}

/// Why a batch could not be read at all (the request failed after its retries, the body was not
/// JSON); what was received travels in ``BatchEnd/payload``.
public struct BatchFailure: Sendable, Hashable {
    public var message: String

    public init(message: String) { self.message = message }
}

/// The raw input of one batch, exactly as the source delivered it, kept in `oemsync_payloads`
/// (deflated) so that `oemsync replay` can map it again.
public struct BatchPayload: Sendable, Hashable {
    /// What was asked for, without credentials: `GET https://oem/api/orders?page=3`, or for a
    /// file `orders.csv bytes 1200-98000`.
    public var request: String
    /// The HTTP status of the response, when there was one.
    public var status: Int?
    /// `application/json`, or `text/csv` for file records (the header line first, then the
    /// records' own bytes, in the file's encoding).
    public var contentType: String?
    public var body: [UInt8]
    /// The source line (CSV) or record number (JSON) of the payload's first record, so replayed
    /// records keep the line numbers the ledger knows them by.
    public var firstLine: Int
    /// The line of each record, when the body holds some records of the batch only (a partial CSV
    /// batch keeps its rejected records); nil when they follow each other from ``firstLine``.
    public var lines: [Int]?

    public init(request: String, status: Int? = nil, contentType: String? = nil, body: [UInt8], firstLine: Int = 1, lines: [Int]? = nil) {
        self.request = request
        self.status = status
        self.contentType = contentType
        self.body = body
        self.firstLine = firstLine
        self.lines = lines
    }
}

/// Delivers a batch's payload when the sink decides to keep it: a page already in memory, or a
/// file's bytes read again only then.
public protocol BatchPayloadSource: Sendable {
    /// The payload; with `records`, a source that can may deliver only the records at those lines
    /// (a file's rejected records, where the rest of the batch is in the database already).
    func load(records: Set<Int>?) -> BatchPayload?
}

extension BatchPayload: BatchPayloadSource {
    /// A page is kept whole: it is small, and a replay of it re-applies its accepted records unchanged.
    public func load(records: Set<Int>?) -> BatchPayload? { self }
}

/// Which payloads the ledger keeps.
///
/// - `failed`: always, whole (what was received).
/// - `partial`: always; by default only the rejected records (those a replay is for: the rest of the
///   batch is in the database), the whole batch when `ok` payloads are kept too.
/// - `ok`: whole, for `okSeconds` (`keep_ok_payloads`), then deleted; by default not at all.
public struct PayloadRetention: Sendable, Hashable {
    /// How long payloads of `ok` batches are kept; zero keeps none.
    public var okSeconds: Int64

    public init(okSeconds: Int64 = 0) { self.okSeconds = okSeconds }

    public static let problemsOnly = PayloadRetention()

    public func keeps(status: String) -> Bool { status != "ok" || okSeconds > 0 }

    /// Whether a batch of this status keeps its whole payload, or only its rejected records.
    public func keepsWhole(status: String) -> Bool { status == "failed" || okSeconds > 0 }
}

final class SingleChunk: BatchChunks {
    private var chunk: MappedBatch?
    let end: BatchEnd?

    init(_ chunk: MappedBatch, end: BatchEnd) {
        self.chunk = chunk
        self.end = end
    }

    func next() -> MappedBatch? {
        defer { chunk = nil }
        return chunk
    }
}

/// The figures of a batch summed over its chunks, as the ledger records them.
public struct BatchTotals: Sendable, Hashable {
    public var recordsIn = 0
    public var written = 0
    public var superseded = 0
    public var rejected = 0
    public var warnings = 0

    public init() {}

    public mutating func add(_ chunk: MappedBatch) {
        recordsIn += chunk.recordsIn
        written += chunk.written
        superseded += chunk.superseded
        rejected += chunk.rejects.count
        warnings += chunk.warnings.count
    }

    /// `ok` without rejects, `partial` with some.
    public var status: String { rejected == 0 ? "ok" : "partial" }

    /// The ledger status of a batch that ended with `end`.
    public func status(_ end: BatchEnd) -> String { end.failure != nil ? "failed" : status }
}

/// Everything about a batch besides its rows: where it came from and what produced it.
public struct BatchContext: Sendable {
    public var feed: String
    /// The file name (or request) the records came from, as the OEM named it.
    public var source: String
    /// A unique reference to that source (the claimed file name in the drop directory).
    public var sourceRef: String
    public var positionStart: String
    /// The checkpoint this batch continues from; nil for the feed's first batch.
    public var checkpointBefore: String?
    public var mapping: String
    public var mappingVersion: String
    public var dictionaryVersion: String
    public var startedAt: Timestamp
    /// The OEM credentials the batch was fetched with (REST, SOAP): its requests count against their quota.
    public var credentials: String?
    /// The OEM's own id of the message (a STAR BODID), when the payload has one.
    public var messageID: String?
    /// Which payloads of this feed the ledger keeps.
    public var retention: PayloadRetention
    /// Set for `oemsync replay`: the batch whose payload is mapped again. Rows a later batch wrote
    /// are then left alone (a replay never puts older data over newer), and the open rejects named
    /// in ``resolves`` are marked resolved by the new entry.
    public var replayOf: Int64?
    /// The rejects this batch replays (their ids), resolved by it whatever the outcome: a record
    /// rejected again gets a new reject with one more attempt.
    public var resolves: [Int64]
    /// For a replay: how many replays rejected each replayed line before, so a row the database
    /// refuses again counts one more attempt like any other reject.
    public var attemptsBefore: [Int: Int] = [:]
    /// Do everything, then roll back: the receipt tells exactly what the batch would do (the
    /// database's own refusals included) and nothing is written.
    public var dryRun = false

    public init(
        feed: String, source: String, sourceRef: String, positionStart: String, checkpointBefore: String?, mapping: String,
        mappingVersion: String, dictionaryVersion: String, startedAt: Timestamp, credentials: String? = nil, messageID: String? = nil,
        retention: PayloadRetention = .problemsOnly, replayOf: Int64? = nil, resolves: [Int64] = []
    ) {
        self.feed = feed
        self.source = source
        self.sourceRef = sourceRef
        self.positionStart = positionStart
        self.checkpointBefore = checkpointBefore
        self.mapping = mapping
        self.mappingVersion = mappingVersion
        self.dictionaryVersion = dictionaryVersion
        self.startedAt = startedAt
        self.credentials = credentials
        self.messageID = messageID
        self.retention = retention
        self.replayOf = replayOf
        self.resolves = resolves
    }
}

/// What a committed batch did to the target table.
public struct BatchReceipt: Sendable, Hashable {
    public var batchID: Int64
    public var inserted: Int
    public var updated: Int
    /// Rows whose stored values already equalled the new ones: not rewritten.
    public var unchanged: Int
    /// Rows the database itself refused (a constraint, a value out of range): isolated by
    /// bisection and stored as rejects with the database's message; the rest of the batch committed.
    public var refused: [Reject]
    /// Rows a replay left alone because a later batch had written them.
    public var newer: Int

    public init(batchID: Int64, inserted: Int, updated: Int, unchanged: Int, refused: [Reject] = [], newer: Int = 0) {
        self.batchID = batchID
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.refused = refused
        self.newer = newer
    }
}

extension MappedBatch {
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
