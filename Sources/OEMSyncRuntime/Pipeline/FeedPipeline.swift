import Logging
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// The one loop every feed kind runs through: take the source's next step, ask the run's control
/// whether the batch may start (a window near, the daemon stopping), map it, hand it to the writer
/// (which commits rows, rejects, ledger entry and checkpoint in one transaction while the next
/// batch is read), and stop where the source parks, fails or ends.
///
/// The source (``FeedSource``) knows where records come from and how a unit of work is finished
/// (a file archived); the pipeline knows nothing of kinds. What it guarantees for all of them:
/// - a batch starts only when the control lets it, and the writer asks again at its commit, so a
///   batch read ahead never commits into a window;
/// - batches commit in order, each carrying the checkpoint the one before it left;
/// - after a database failure nothing more is committed and the unit is reported failed;
/// - a unit is finished (``SourceStep/end(settle:)``) only once all its batches are committed.
struct FeedPipeline {
    var feed: FeedSettings
    var plan: MappingPlan
    var database: any DealerDatabase
    var logger: Logger
    var control: RunControl
    /// The time batches are stamped with and holds are asked at.
    var clock: any SyncClock

    /// The unit being loaded, with the writer its batches go through.
    private final class Unit {
        var report: FileReport
        let file: String?
        let writer: BatchWriter

        init(report: FileReport, file: String?, writer: BatchWriter) {
            self.report = report
            self.file = file
            self.writer = writer
        }
    }

    /// Runs `source` to its end, or until it parks, fails or is held.
    /// - Parameter stored: the feed's checkpoint when the run started (the first batch's `checkpointBefore`).
    func run(_ source: any FeedSource, checkpoint stored: String?) -> FeedReport {
        var report = FeedReport(feed: feed.name)
        var open: Unit?
        var before = stored

        /// Ends the open unit: waits for its commits, then settles it if nothing stopped the run.
        /// False when the run must stop here.
        func close(settle: ((inout FileReport) -> Void)? = nil) -> Bool {
            guard let unit = open else { return report.error == nil && report.held == nil }
            open = nil
            let (committed, failure) = unit.writer.finish()
            for c in committed { unit.report.add(c) }
            if let failure {
                unit.report.outcome = .failed(message: failure.description)
                report.error = FeedError(.database, feed: feed.name, file: unit.file, failure.description)
                logger.error("feed stopped", metadata: metadata(unit, [LogKey.error: .string(failure.description)]))
            } else if report.held == nil, report.error == nil, let h = unit.writer.heldAtCommit {
                // Held at its commit: the batch was read, not written; the checkpoint is still before it.
                hold(h, unit)
            } else if let settle, report.held == nil, report.error == nil {
                settle(&unit.report)
                if case .failed(let message) = unit.report.outcome {
                    report.error = FeedError(.database, feed: feed.name, file: unit.file, message)
                    logger.error("feed stopped", metadata: metadata(unit, [LogKey.error: .string(message)]))
                }
            }
            if unit.file == nil {
                let r = unit.report
                logger.info(
                    "pull finished",
                    metadata: [
                        LogKey.records: .stringConvertible(r.recordsIn), LogKey.written: .stringConvertible(r.written),
                        LogKey.rejected: .stringConvertible(r.rejected), LogKey.requests: .stringConvertible(r.requests),
                    ])
            }
            report.files.append(unit.report)
            return report.error == nil && report.held == nil
        }
        func hold(_ hold: RunControl.Hold, _ unit: Unit?, quotaSpent: Bool = false) {
            let message = hold.kind == .source ? "feed parked" : unit?.file != nil ? "file held" : "feed held"
            logger.notice(Logger.Message(stringLiteral: message), metadata: metadata(unit, [LogKey.reason: .string(hold.reason)]))
            unit?.report.outcome = .parked(reason: hold.reason)
            unit?.report.held = hold
            report.held = hold
            report.quotaSpent = quotaSpent
        }
        func stop(_ error: FeedError) {
            logger.error("feed stopped", metadata: metadata(open, [LogKey.error: .string(error.message)]))
            open?.report.outcome = .failed(message: error.message)
            report.error = error
        }
        func context(_ source: String, _ sourceRef: String, _ position: String, credentials: String?, messageID: String?, at startedAt: Timestamp)
            -> BatchContext
        {
            BatchContext(
                feed: feed.name, source: source, sourceRef: sourceRef, positionStart: position, checkpointBefore: before, mapping: plan.name,
                mappingVersion: plan.version, dictionaryVersion: plan.dictionaryVersion, startedAt: startedAt, credentials: credentials,
                messageID: messageID, retention: feed.retention)
        }

        feed.purgeExpiredPayloads(database, logger: logger, now: clock.now())
        running: while true {
            switch source.next() {
            case .begin(let unitReport, let file):
                guard close() else { break running }
                open = Unit(report: unitReport, file: file, writer: BatchWriter(database: database, table: plan.targetTable, logger: logger, control: control))
            case .batch(let batch):
                guard let unit = open else { preconditionFailure("a batch outside a unit") }
                // The batch in flight commits; the next one starts only if the control lets it.
                let startedAt = clock.now()
                if let h = control.hold(startedAt) {
                    hold(h, unit)
                    break running
                }
                unit.writer.begin(
                    context(batch.source, batch.sourceRef, batch.positionStart, credentials: batch.credentials, messageID: batch.messageID, at: startedAt))
                var written = true
                do {
                    while let records = try batch.chunks() {
                        var chunk = batch.mapper?.map(records) ?? MappedBatch(recordsIn: records.count)
                        precondition(batch.mapper != nil || records.isEmpty, "records without a mapper")
                        batch.prepare(&chunk)
                        database.prepare(&chunk)
                        guard unit.writer.submit(chunk) else {
                            written = false
                            break
                        }
                    }
                } catch {
                    // Nothing of the batch is written; the run stops, to resume from the checkpoint before it.
                    unit.writer.end(nil)
                    stop(FeedError(.database, feed: feed.name, file: unit.file, error.message))
                    break running
                }
                guard written else {
                    // The writer failed: `close` reports why.
                    unit.writer.end(nil)
                    break running
                }
                let end = batch.end()
                unit.writer.end(end)
                before = end.checkpointAfter ?? before
                unit.report.retries += batch.retries
            case .failed(let failure):
                guard let unit = open else { preconditionFailure("a failed batch outside a unit") }
                logger.warning(
                    "batch failed", metadata: metadata(unit, [LogKey.position: .string(failure.position), LogKey.error: .string(failure.message)]))
                unit.writer.begin(
                    context(failure.source, failure.sourceRef, failure.position, credentials: failure.credentials, messageID: nil, at: clock.now()))
                _ = unit.writer.submit(MappedBatch())
                unit.writer.end(failure.end)
                unit.report.retries += failure.retries
                if let skip = failure.skipTo {
                    before = skip
                    continue running
                }
                unit.report.outcome = .failed(message: failure.message)
                report.error = FeedError(.source, feed: feed.name, failure.message)
                break running
            case .end(let settle):
                guard close(settle: settle) else { break running }
            case .finished(let outcome):
                open?.report.outcome = outcome
                guard close() else { break running }
            case .parked(let h, let quotaSpent):
                hold(h, open, quotaSpent: quotaSpent)
                break running
            case .stop(let error):
                stop(error)
                break running
            case .done:
                break running
            }
        }
        source.cancel()
        _ = close()
        return report
    }

    private func metadata(_ unit: Unit?, _ more: Logger.Metadata) -> Logger.Metadata {
        guard let file = unit?.file else { return more }
        return more.merging([LogKey.file: .string(file)]) { a, _ in a }
    }
}
