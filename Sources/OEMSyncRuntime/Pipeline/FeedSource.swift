import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// A feed's source as the one pipeline (``FeedPipeline``) drives it. Each kind (a CSV drop, a REST
/// API, a SOAP service) implements it; the pipeline does the rest the same way for all of them: the
/// hold check before each batch, mapping, the writer, the commit, parking, the report.
///
/// The pipeline asks for ``next()`` on its own thread, one step at a time, and maps and hands each
/// batch to the writer before asking again. A source that fetches ahead (the HTTP kinds) does so
/// on a thread of its own and hands over here what it fetched.
///
/// A run is made of units, each reported on its own (``FileReport``): a claimed file, one pull of
/// an API. A unit opens with ``SourceStep/begin(_:file:)``, brings its batches, and ends with
/// ``SourceStep/end(settle:)`` (its batches committed, the source finishes it: a file is archived),
/// ``SourceStep/finished(_:)`` (ended without batches: a quarantined file), or the end of the run.
public protocol FeedSource: AnyObject {
    func next() -> SourceStep
    /// The run stops early (a hold, a failure): stop fetching ahead, let go of what is open.
    func cancel()
}

/// What a source hands the pipeline.
public enum SourceStep {
    /// A unit starts; its report collects the batches that follow. `file` names it in errors.
    case begin(FileReport, file: String?)
    /// Records to map and commit as one batch (one transaction, one ledger entry, one checkpoint).
    case batch(SourceBatch)
    /// A batch the source could not deliver (a page that failed after its retries), recorded as a
    /// `failed` ledger entry. The run stops unless ``SourceFailure/skipTo`` says where it goes on.
    case failed(SourceFailure)
    /// The unit's batches are all handed over: once they are committed, `settle` finishes the unit
    /// (archives a file) and may change its outcome.
    case end(settle: (inout FileReport) -> Void)
    /// The unit ends here without (more) batches, with this outcome: a quarantined file.
    case finished(FileReport.Outcome)
    /// The source stops on purpose, checkpointed: the OEM's `Retry-After`, the daily quota,
    /// `max_pages`, or the daemon's hold met before a request.
    case parked(RunControl.Hold, quotaSpent: Bool)
    /// The run cannot go on (the directory unreadable, the database down); the unit open fails.
    case stop(FeedError)
    /// Nothing more: the open unit (a pull) is complete.
    case done
}

/// One batch as its source delivers it. Its records may come in several chunks (a CSV batch of a
/// million rows is read 5000 at a time), so memory holds a few chunks whatever the batch size.
public struct SourceBatch {
    /// Where the records came from, as the OEM names it: a file name, a request.
    var source: String
    /// A unique reference to that source: the claimed file name, `pull … page 3`.
    var sourceRef: String
    var positionStart: String
    /// The OEM credentials the batch was fetched with (HTTP kinds).
    var credentials: String?
    /// The OEM's own id of the message (a STAR BODID).
    var messageID: String?
    /// Maps the batch's records (a file binds its header, an API the mapping's paths); nil for a
    /// batch that never has records (a file skipped as a duplicate).
    var mapper: BatchMapper?
    /// The batch's records, a chunk at a time; nil when there are no more. A throw abandons the
    /// batch (nothing of it is written) and stops the run with the message.
    var chunks: () throws(SourceReadError) -> [RawRecord]?
    /// Called on each mapped chunk before it is written: rejects get the raw text replay needs.
    var prepare: (inout MappedBatch) -> Void = { _ in }
    /// How the batch ends (checkpoint after, payload, file record), asked once its chunks are read.
    var end: () -> BatchEnd
    /// Failed attempts retried on the way, for the unit's report.
    var retries = 0

    /// A batch of records read at once (a page, a message).
    public static func single(
        source: String, sourceRef: String, positionStart: String, credentials: String? = nil, messageID: String? = nil,
        mapper: BatchMapper?, records: [RawRecord], retries: Int = 0, prepare: @escaping (inout MappedBatch) -> Void = { _ in },
        end: @escaping () -> BatchEnd
    ) -> SourceBatch {
        // Handed over once, and not kept: the batch's records leave memory as soon as they are mapped.
        var left: [RawRecord]? = records
        return SourceBatch(
            source: source, sourceRef: sourceRef, positionStart: positionStart, credentials: credentials, messageID: messageID,
            mapper: mapper,
            chunks: { () throws(SourceReadError) -> [RawRecord]? in
                defer { left = nil }
                return left
            }, prepare: prepare, end: end, retries: retries)
    }
}

/// A source that cannot read on in the middle of a batch.
public struct SourceReadError: Error {
    public var message: String
}

/// A batch the source could not deliver: a `failed` ledger entry, with what the OEM answered.
public struct SourceFailure {
    var source: String
    var sourceRef: String
    var position: String
    var credentials: String?
    var message: String
    /// The ledger entry's end: requests, notes, the failure and its payload.
    var end: BatchEnd
    /// Set when the run goes on after the failed batch (`on_failure: continue`): the checkpoint
    /// past it, already in ``end``.
    var skipTo: String?
    var retries = 0
}
