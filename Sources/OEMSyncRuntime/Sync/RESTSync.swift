import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// One pass of a REST feed: resume the pull its checkpoint names (or start one), and commit page
/// after page, each page one batch: rows, rejects, ledger entry and checkpoint in one transaction.
///
/// Pages are fetched while the previous one is written (``BatchWriter``). A page whose request
/// fails after its retries becomes a `failed` ledger entry with the request and the last response
/// kept in `oemsync_payloads`; the feed then stops there (`on_failure: stop`, the next run asks for
/// the same page) or records it and goes on (`continue`). A spent quota, a far `Retry-After` or an
/// open circuit breaker end the run early, checkpointed, and are not failures.
public struct RESTSync: Sendable {
    public var feed: FeedSettings
    public var settings: RESTFeedSettings
    public var plan: MappingPlan
    public var database: any DealerDatabase
    public var services: SourceServices
    public var logger: Logger
    /// Asked before each page whether to go on (the daemon's windows and shutdown).
    public var control: RunControl

    public init(
        feed: FeedSettings, settings: RESTFeedSettings, plan: MappingPlan, database: any DealerDatabase, services: SourceServices,
        logger: Logger, control: RunControl = .none
    ) {
        self.control = control
        self.feed = feed
        self.settings = settings
        self.plan = plan
        self.database = database
        self.services = services
        var logger = logger
        logger[metadataKey: LogKey.feed] = .string(feed.name)
        self.logger = logger
    }

    public func run() -> FeedReport {
        var report = FeedReport(feed: feed.name)
        var pull = FileReport(name: Self.endpoint(settings.source.url), claimedName: "", outcome: .completed)
        func stop(_ code: FeedError.Code, _ message: String) -> FeedReport {
            logger.error("feed stopped", metadata: [LogKey.error: .string(message)])
            pull.outcome = .failed(message: message)
            report.files = [pull]
            report.error = FeedError(code, feed: feed.name, message)
            return report
        }
        guard plan.source.format == .json, let recordsPath = plan.source.records else {
            return stop(.mapping, "mapping '\(plan.file)' does not read JSON (source: format: json, records: ...)")
        }

        // Where the feed stands, and what it may spend.
        let stored: String?
        let checkpoint: RESTCheckpoint?
        let runner: RequestRunner
        do {
            stored = try database.checkpoint(feed: feed.name)
            checkpoint = try stored.map { s throws(RESTCheckpoint.Unreadable) in try RESTCheckpoint.parse(s) }
            runner = try HTTPPull.runner(
                credentials: settings.credentials, retry: settings.retry, transport: settings.transport,
                clientKeyPassword: settings.clientKeyPassword, services: services, database: database, logger: logger, control: control)
        } catch let e as SinkError {
            return stop(.database, e.description)
        } catch {
            return stop(.source, "\(error)")
        }

        feed.purgeExpiredPayloads(database, logger: logger, now: services.clock.now())
        let bound = BoundMapping(json: plan)
        let source = RESTSource(
            settings: settings.source, fields: bound.paths.map { JSONRecordReader.Field(path: $0.path, join: $0.join) }, records: recordsPath,
            runner: runner, checkpoint: checkpoint, clock: services.clock)
        if source.resumes {
            pull.resumedFrom = source.position
            logger.info("pull resumed", metadata: [LogKey.position: .string(source.position)])
        }
        let mapper = BatchMapper(bound)
        let writer = BatchWriter(database: database, table: plan.targetTable, logger: logger, control: control)
        let pullRef = "pull \(services.clock.now())"
        var before = stored
        var batchNumber = 0
        func context(request: String, position: String, startedAt: Timestamp? = nil) -> BatchContext {
            batchNumber += 1
            return BatchContext(
                feed: feed.name, source: request, sourceRef: "\(pullRef) page \(batchNumber)", positionStart: position, checkpointBefore: before,
                mapping: plan.name, mappingVersion: plan.version, dictionaryVersion: plan.dictionaryVersion, startedAt: startedAt ?? services.clock.now(),
                credentials: settings.credentials, retention: feed.retention)
        }
        // Pages are fetched and read one or two ahead, on a thread of their own, while this one maps
        // them and the writer commits. With `on_failure: continue` the fetcher moves past a failed page itself.
        let skipFailed = settings.onFailure == .continue
        let control = self.control
        let clock = services.clock
        let heldBeforeFetch = HoldBox()
        let pages = Prefetcher<RESTSource.Step>(name: "oemsync-fetch") { [source] in
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
        reading: while let step = pages.next() {
            switch step {
            case .page(let page):
                // Fetched ahead, but not written once the daemon holds the feed: asked again next run.
                let startedAt = services.clock.now()
                if let hold = control.hold(startedAt) {
                    logger.notice("feed held", metadata: [LogKey.reason: .string(hold.reason)])
                    pull.outcome = .parked(reason: hold.reason)
                    report.held = hold
                    pages.cancel()
                    break reading
                }
                writer.begin(context(request: page.request, position: page.position, startedAt: startedAt))
                var chunk = mapper.map(page.records)
                // A reject keeps the record's own JSON text, for replay.
                for i in chunk.rejects.indices { chunk.rejects[i].rawRecord = page.read.rawText(chunk.rejects[i].line - 1, in: page.payload) }
                database.prepare(&chunk)
                guard writer.submit(chunk) else {
                    writer.end(nil)
                    pages.cancel()
                    break reading
                }
                let after = page.checkpoint.json
                writer.end(
                    BatchEnd(
                        positionEnd: page.positionAfter, checkpointAfter: after, requests: page.requests, duplicates: page.duplicates,
                        notes: Self.notes(page.attempts),
                        // Records dropped as already delivered belong to earlier batches: the lines say which ones are this batch's.
                        payload: BatchPayload(
                            request: page.request, contentType: "application/json", body: page.payload,
                            lines: page.duplicates > 0 ? page.records.map(\.line) : nil)))
                before = after
                pull.retries += page.attempts.count
            case .done:
                break reading
            case .parked(let reason, let until, let quota):
                logger.notice("feed parked", metadata: [LogKey.reason: .string(reason)])
                pull.outcome = .parked(reason: reason)
                report.held = RunControl.Hold(reason: reason, until: until, kind: .source)
                report.quotaSpent = quota
                pages.cancel()
                break reading
            case .failed(let failure):
                logger.warning(
                    "batch failed", metadata: [LogKey.position: .string(failure.position), LogKey.error: .string(failure.message)])
                writer.begin(context(request: failure.request, position: failure.position))
                _ = writer.submit(MappedBatch())
                let skip = skipFailed ? failure.skipping : nil
                let payload = BatchPayload(
                    request: failure.request, status: failure.response?.status, contentType: failure.response?.header("content-type"),
                    body: failure.response?.body ?? [])
                writer.end(
                    BatchEnd(
                        positionEnd: failure.position, checkpointAfter: skip?.json, requests: failure.requests, notes: Self.notes(failure.attempts),
                        failure: BatchFailure(message: failure.message), payload: payload))
                pull.retries += max(0, failure.attempts.count - 1)
                if let skip {
                    before = skip.json
                    continue reading
                }
                pull.outcome = .failed(message: failure.message)
                report.error = FeedError(.source, feed: feed.name, failure.message)
                pages.cancel()
                break reading
            }
        }
        return HTTPPull.finish(
            writer, heldBefore: heldBeforeFetch.value, pull: pull, pullRef: pullRef, report: report, feed: feed.name, logger: logger)
    }

    /// `GET /api/v1/dealers/D001/orders`: how a REST feed is named in reports.
    static func endpoint(_ url: String) -> String {
        let host = RequestRunner.host(of: url)
        guard let r = url.range(of: host) else { return url }
        let path = url[r.upperBound...].prefix { $0 != "?" }
        return "GET " + (path.isEmpty ? "/" : String(path))
    }

    /// The retries of a page, for the ledger: `2 retries: HTTP 503, waited 412ms; ...`.
    static func notes(_ attempts: [AttemptNote]) -> String? {
        guard !attempts.isEmpty else { return nil }
        return "\(attempts.count) failed attempt\(attempts.count == 1 ? "" : "s"): " + attempts.map(\.description).joined(separator: "; ")
    }
}

/// The hold the fetcher met before a request, for the end of the run.
private final class HoldBox: @unchecked Sendable {
    private let lock = NSLock()
    private var hold: RunControl.Hold?

    var value: RunControl.Hold? { lock.withLock { hold } }
    func set(_ h: RunControl.Hold) { lock.withLock { hold = h } }
}
