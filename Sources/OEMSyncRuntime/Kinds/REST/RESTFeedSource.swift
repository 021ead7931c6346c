import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// A REST feed's pass: resume the pull its checkpoint names (or start one), and deliver page after
/// page, each page one batch.
///
/// Pages are fetched and read one or two ahead, on a thread of their own, while the pipeline maps
/// and writes. A page whose request fails after its retries is a failed batch with the request and
/// the last response kept in `oemsync_payloads`; the feed then stops there (`on_failure: stop`, the
/// next run asks for the same page) or records it and goes on (`continue`). A spent quota, a far
/// `Retry-After` or an open circuit breaker park the run, checkpointed: not failures.
final class RESTFeedSource: FeedSource {
    private let settings: RESTFeedSettings
    private var pending: [SourceStep] = []
    private var pages: Prefetcher<RESTSource.Step>?
    private var mapper: BatchMapper?
    private let heldBeforeFetch = HoldBox()
    private let pullRef: String
    private var batchNumber = 0

    init(_ run: SourceRun, settings: RESTFeedSettings) {
        let (feed, plan, database, services, logger, control, stored) = (
            run.feed, run.plan, run.database, run.services, run.logger, run.control, run.checkpoint)
        self.settings = settings
        pullRef = "pull \(services.clock.now())"
        var pull = FileReport(name: "GET " + HTTPPull.path(of: settings.source.url), claimedName: pullRef, outcome: .completed)
        guard plan.source.format == .json, let recordsPath = plan.source.records else {
            pending = HTTPPull.cannotStart(pull, FeedError(.mapping, feed: feed.name, "mapping '\(plan.file)' does not read JSON (source: format: json, records: ...)"), feed: feed.name)
            return
        }
        // Where the feed stands, and what it may spend.
        let checkpoint: RESTCheckpoint?
        let runner: RequestRunner
        do {
            checkpoint = try stored.map { s throws(RESTCheckpoint.Unreadable) in try RESTCheckpoint.parse(s) }
            runner = try HTTPPull.runner(
                credentials: settings.credentials, retry: settings.retry, transport: settings.transport,
                clientKeyPassword: settings.clientKeyPassword, services: services, database: database, logger: logger, control: control)
        } catch {
            pending = HTTPPull.cannotStart(pull, error, feed: feed.name)
            return
        }
        let bound = BoundMapping(json: plan)
        mapper = BatchMapper(bound)
        let source = RESTSource(
            settings: settings.source, fields: bound.paths.map { JSONRecordReader.Field(path: $0.path, join: $0.join) }, records: recordsPath,
            runner: runner, checkpoint: checkpoint, clock: services.clock)
        if source.resumes {
            pull.resumedFrom = source.position
            logger.info("pull resumed", metadata: [LogKey.position: .string(source.position)])
        }
        pending = [.begin(pull, file: nil)]
        // With `on_failure: continue` the fetcher moves past a failed page itself.
        let skipFailed = settings.onFailure == .continue
        let clock = services.clock
        let heldBeforeFetch = self.heldBeforeFetch
        pages = Prefetcher<RESTSource.Step>(name: "oemsync-fetch") { [source] in
            // No request once the daemon holds the feed: the pull goes on from here next run.
            if heldBeforeFetch.value != nil { return nil }
            if let hold = control.hold(clock.now()) {
                heldBeforeFetch.set(hold)
                return nil
            }
            // After its last step (parked, failed, done) the source answers `.done`: the end.
            let step = source.next()
            switch step {
            case .done: return nil
            case .failed(let f) where skipFailed && f.skipping != nil: source.skip(f)
            default: break
            }
            return step
        }
    }

    func next() -> SourceStep {
        if !pending.isEmpty { return pending.removeFirst() }
        guard let pages, let mapper else { return .done }
        guard let step = pages.next() else {
            if let hold = heldBeforeFetch.value { return .parked(hold, quotaSpent: false) }
            return .done
        }
        batchNumber += 1
        switch step {
        case .page(let page):
            return .batch(
                .single(
                    source: page.request, sourceRef: "\(pullRef) page \(batchNumber)", positionStart: page.position, credentials: settings.credentials,
                    mapper: mapper, records: page.records, retries: page.attempts.count,
                    prepare: { chunk in
                        // A reject keeps the record's own JSON text, for replay.
                        for i in chunk.rejects.indices { chunk.rejects[i].rawRecord = page.read.rawText(chunk.rejects[i].line - 1, in: page.payload) }
                    },
                    end: {
                        BatchEnd(
                            positionEnd: page.positionAfter, checkpointAfter: page.checkpoint.json, requests: page.requests,
                            duplicates: page.duplicates, notes: page.attempts.ledgerNote,
                            // Records dropped as already delivered belong to earlier batches: the lines say which ones are this batch's.
                            payload: BatchPayload(
                                request: page.request, contentType: "application/json", body: page.payload,
                                lines: page.duplicates > 0 ? page.records.map(\.line) : nil))
                    }))
        case .done:
            return .done
        case .parked(let reason, let until, let quota):
            return .parked(RunControl.Hold(reason: reason, until: until, kind: .source), quotaSpent: quota)
        case .failed(let failure):
            let skip = settings.onFailure == .continue ? failure.skipping : nil
            let payload = BatchPayload(
                request: failure.request, status: failure.response?.status, contentType: failure.response?.header("content-type"),
                body: failure.response?.body ?? [])
            return .failed(
                SourceFailure(
                    source: failure.request, sourceRef: "\(pullRef) page \(batchNumber)", position: failure.position,
                    credentials: settings.credentials, message: failure.message,
                    end: BatchEnd(
                        positionEnd: failure.position, checkpointAfter: skip?.json, requests: failure.requests, notes: failure.attempts.ledgerNote,
                        failure: BatchFailure(message: failure.message), payload: payload),
                    skipTo: skip?.json, retries: max(0, failure.attempts.count - 1)))
        }
    }

    func cancel() { pages?.cancel() }

}

extension [AttemptNote] {
    /// The retries of a request, for the ledger: `2 failed attempts: HTTP 503, waited 412ms; ...`.
    var ledgerNote: String? {
        guard !isEmpty else { return nil }
        return "\(count) failed attempt\(count == 1 ? "" : "s"): " + map(\.description).joined(separator: "; ")
    }
}

/// The hold the fetcher met before a request, for the end of the run.
final class HoldBox: @unchecked Sendable {
    private let lock = NSLock()
    private var hold: RunControl.Hold?

    var value: RunControl.Hold? { lock.withLock { hold } }
    func set(_ h: RunControl.Hold) { lock.withLock { hold = h } }
}
