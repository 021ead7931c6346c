import Foundation
import Logging
import OEMSyncCore
import OEMSyncSinks

/// Commits batches on a thread of its own, so the next chunk is read and mapped while the database
/// writes this one.
///
/// The producer calls ``begin(_:)``, then ``submit(_:)`` for each mapped chunk, then ``end(_:)``.
/// The writer opens the batch's transaction at `begin` and pulls chunks into it as they arrive; a
/// batch (one transaction, one ledger entry, one checkpoint) can therefore hold many chunks while at
/// most `capacity` chunks (default two: enough to keep the database busy, measured by `make bench`)
/// wait in memory. Batches commit strictly in order; after a failure nothing
/// more is committed, and `submit` returns false so the producer stops.
final class BatchWriter: @unchecked Sendable {
    enum Job {
        case begin(BatchContext)
        case chunk(MappedBatch)
        /// The end of the batch; nil when the producer abandons it (nothing of it is written).
        case end(BatchEnd?)
    }

    /// What is kept of a committed batch: its figures, not its rows (memory stays flat).
    struct Committed {
        var totals = BatchTotals()
        var rejectCodes: [String] = []
        var receipt = BatchReceipt(batchID: 0, inserted: 0, updated: 0, unchanged: 0)
        /// How the batch ended: its requests, duplicates, failure.
        var end: BatchEnd?
        /// From the writer taking the batch up to its commit.
        var duration = Duration.zero

        mutating func add(_ chunk: MappedBatch) {
            totals.add(chunk)
            rejectCodes += chunk.rejects.map(\.primary.code)
        }
    }

    private let database: any DealerDatabase
    private let table: TargetTable
    private let capacity: Int
    private let onCommit: @Sendable (BatchContext, Committed) -> Void
    private let control: RunControl
    private let condition = NSCondition()
    /// Set when the control held a batch at its commit: nothing more is committed.
    private var held: RunControl.Hold?
    private var queue: [Job] = []
    private var closed = false
    private var finished = false
    private var failure: SinkError?
    private var committed: [Committed] = []

    init(
        database: any DealerDatabase, table: TargetTable, capacity: Int = 2, control: RunControl = .none,
        onCommit: @escaping @Sendable (BatchContext, Committed) -> Void
    ) {
        self.database = database
        self.table = table
        self.capacity = capacity
        self.control = control
        self.onCommit = onCommit
        let thread = Thread { [self] in loop() }
        thread.name = "oemsync-writer"
        thread.start()
    }

    /// A writer that logs every committed batch at debug level (its id, source, position and
    /// counts) and tells the run's control about it.
    convenience init(database: any DealerDatabase, table: TargetTable, logger: Logger, control: RunControl = .none) {
        self.init(database: database, table: table, control: control) { context, summary in
            control.committed(
                RunControl.Batch(
                    duration: summary.duration, recordsIn: summary.totals.recordsIn, written: summary.totals.written,
                    rejected: summary.totals.rejected, failed: summary.end?.failure != nil))
            let metadata: Logger.Metadata = [
                LogKey.batch: .stringConvertible(summary.receipt.batchID), LogKey.file: .string(context.source),
                LogKey.position: .string(context.positionStart), LogKey.records: .stringConvertible(summary.totals.recordsIn),
                LogKey.rejected: .stringConvertible(summary.totals.rejected),
            ]
            logger.debug("batch committed", metadata: metadata)
            // Rejected records wait for someone to look (`oemsync batches show`, then a replay).
            if summary.totals.rejected > 0 {
                var reasons: [String: Int] = [:]
                for code in summary.rejectCodes { reasons[code, default: 0] += 1 }
                var m = metadata
                m[LogKey.reason] = .string(reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                logger.warning("records rejected", metadata: m)
            }
        }
    }

    func begin(_ context: BatchContext) { enqueue(.begin(context)) }

    /// Queues a chunk of the open batch, waiting while the queue is full. False if a batch failed.
    func submit(_ chunk: MappedBatch) -> Bool { enqueue(.chunk(chunk)) }

    func end(_ end: BatchEnd?) { enqueue(.end(end)) }

    @discardableResult
    private func enqueue(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .chunk = job {
            while queuedChunks >= capacity && failure == nil && held == nil { condition.wait() }
        }
        guard failure == nil, held == nil else { return false }
        queue.append(job)
        condition.broadcast()
        return true
    }

    private var queuedChunks: Int {
        queue.reduce(0) { n, job in if case .chunk = job { return n + 1 } else { return n } }
    }

    /// Waits until every queued batch is committed (or one failed) and stops the thread.
    func finish() -> (committed: [Committed], failure: SinkError?) {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        return (committed, failure)
    }

    /// The hold that stopped a batch at its commit, if one did (after ``finish()``).
    var heldAtCommit: RunControl.Hold? { condition.withLock { held } }

    /// The next job, waiting for one; nil once the producer finished and the queue is empty.
    fileprivate func take() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        guard !queue.isEmpty else { return nil }
        let job = queue.removeFirst()
        condition.broadcast()
        return job
    }

    private func loop() {
        while let job = take() {
            guard case .begin(let context) = job else { continue }  // leftovers of a failed batch
            let chunks = QueueChunks(writer: self)
            let stop: Bool = {
                condition.lock()
                defer { condition.unlock() }
                return failure != nil || held != nil
            }()
            if stop {
                chunks.drain()
                continue
            }
            // The batches before this one are committed: is there still time for this one?
            if let hold = control.hold(control.now()) {
                condition.withLock {
                    held = hold
                    condition.broadcast()
                }
                chunks.drain()
                continue
            }
            let started = ContinuousClock.now
            do {
                let receipt = try database.commit(chunks, to: table, context: context)
                var summary = chunks.summary
                summary.duration = ContinuousClock.now - started
                summary.receipt = receipt
                // Rows the database refused were counted as written while mapping.
                summary.totals.written -= receipt.refused.count
                summary.totals.rejected += receipt.refused.count
                summary.rejectCodes += receipt.refused.map(\.primary.code)
                summary.end = chunks.end
                summary.end?.payload = nil  // kept in the ledger if at all; never in memory for the whole run
                onCommit(context, summary)
                condition.lock()
                committed.append(summary)
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                // A batch the producer abandoned is not a database failure. A failure is set before
                // draining, so the producer stops at once instead of mapping the rest of the batch.
                if error.code != .abandoned { failure = error }
                condition.broadcast()
                condition.unlock()
                chunks.drain()
            }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The chunks of the batch being committed, taken from the writer's queue as the database asks.
private final class QueueChunks: BatchChunks {
    let writer: BatchWriter
    private(set) var end: BatchEnd?
    private var done = false
    var summary = BatchWriter.Committed()

    init(writer: BatchWriter) { self.writer = writer }

    func next() -> MappedBatch? {
        guard !done else { return nil }
        switch writer.take() {
        case .chunk(let chunk)?:
            summary.add(chunk)
            return chunk
        case .end(let e)?:
            end = e
            done = true
            return nil
        case .begin?, nil:
            done = true  // cannot happen with a well-behaved producer; treat as abandoned
            return nil
        }
    }

    /// Discards what is left of this batch in the queue.
    func drain() {
        while next() != nil {}
    }
}
