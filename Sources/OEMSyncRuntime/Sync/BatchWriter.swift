import Foundation
import OEMSyncCore
import OEMSyncSinks

/// Commits mapped batches on a thread of its own, so the next batch is read and mapped while the
/// database writes this one.
///
/// The queue holds at most `capacity` batches: memory stays bounded whatever the file size. Batches
/// commit strictly in order; after a failure nothing more is committed, and ``submit(_:_:)``
/// returns false so the producer stops.
final class BatchWriter: @unchecked Sendable {
    struct Job {
        var batch: MappedBatch
        var context: BatchContext
    }

    /// What is kept of a committed batch: its figures, not its rows (memory stays flat).
    struct Committed {
        var recordsIn: Int
        var written: Int
        var superseded: Int
        var rejected: Int
        var warnings: Int
        var rejectCodes: [String]
        var receipt: BatchReceipt
    }

    private let database: any DealerDatabase
    private let table: TargetTable
    private let capacity: Int
    private let onCommit: @Sendable (MappedBatch, BatchContext, BatchReceipt) -> Void
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var closed = false
    private var finished = false
    private var failure: SinkError?
    private var committed: [Committed] = []

    init(
        database: any DealerDatabase, table: TargetTable, capacity: Int = 1,
        onCommit: @escaping @Sendable (MappedBatch, BatchContext, BatchReceipt) -> Void
    ) {
        self.database = database
        self.table = table
        self.capacity = capacity
        self.onCommit = onCommit
        let thread = Thread { [self] in loop() }
        thread.name = "oemsync-writer"
        thread.start()
    }

    /// Queues a batch, waiting while the queue is full. False if an earlier batch failed.
    func submit(_ batch: MappedBatch, _ context: BatchContext) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && failure == nil { condition.wait() }
        guard failure == nil else { return false }
        queue.append(Job(batch: batch, context: context))
        condition.broadcast()
        return true
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

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            let stop = failure != nil
            condition.unlock()
            if stop { continue }
            do {
                let receipt = try database.commit(job.batch, to: table, context: job.context)
                onCommit(job.batch, job.context, receipt)
                condition.lock()
                let b = job.batch
                committed.append(
                    Committed(
                        recordsIn: b.recordsIn, written: b.written, superseded: b.superseded, rejected: b.rejects.count,
                        warnings: b.warnings.count, rejectCodes: b.rejects.map(\.primary.code), receipt: receipt))
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = error
                queue.removeAll()
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
