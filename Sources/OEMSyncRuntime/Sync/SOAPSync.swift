import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// One pass of a SOAP feed: resume the pull its checkpoint names (or start one), and commit
/// message after message, each message one or more batches of `batch_rows` records: rows, rejects,
/// ledger entry (with the message's BODID as its message id) and checkpoint in one transaction.
///
/// A message whose BODID the ledger already holds is not loaded again: its ledger entry says it was
/// skipped, with its records as duplicates. A message cut short by a crash or a hold is asked for
/// again, and when the OEM answers with the same BODID the records already committed are skipped.
/// A message that fails after its retries becomes a `failed` ledger entry with its request and the
/// first megabyte of the answer; the feed stops there, and the next run asks for it again.
public struct SOAPSync: Sendable {
    public var feed: FeedSettings
    public var settings: SOAPFeedSettings
    public var plan: MappingPlan
    public var database: any DealerDatabase
    public var services: SourceServices
    public var logger: Logger
    public var control: RunControl

    /// Message ids looked up in the ledger at the start of a run, newest first.
    static let knownMessages = 100_000

    public init(
        feed: FeedSettings, settings: SOAPFeedSettings, plan: MappingPlan, database: any DealerDatabase, services: SourceServices,
        logger: Logger, control: RunControl = .none
    ) {
        self.feed = feed
        self.settings = settings
        self.plan = plan
        self.database = database
        self.services = services
        self.control = control
        var logger = logger
        logger[metadataKey: LogKey.feed] = .string(feed.name)
        self.logger = logger
    }

    /// What the reading thread hands to the writing one.
    enum Piece: Sendable {
        /// Records of a message; `done`: the message's records committed once this chunk is.
        case chunk([RawRecord], SOAPSource.Message, last: Bool, done: Int)
        /// A message committed before (its id is in the ledger), and the checkpoint that follows it.
        case skipped(SOAPSource.Message, SOAPCheckpoint)
        case parked(reason: String, until: Timestamp?, quota: Bool)
        case failed(SOAPSource.Failure)
        case held(RunControl.Hold)
    }

    public func run() -> FeedReport {
        var report = FeedReport(feed: feed.name)
        var pull = FileReport(name: "POST " + Self.path(settings.source.url), claimedName: "", outcome: .completed)
        func stop(_ code: FeedError.Code, _ message: String) -> FeedReport {
            logger.error("feed stopped", metadata: [LogKey.error: .string(message)])
            pull.outcome = .failed(message: message)
            report.files = [pull]
            report.error = FeedError(code, feed: feed.name, message)
            return report
        }
        guard plan.source.format == .xml, let recordsPath = plan.source.xmlRecords else {
            return stop(.mapping, "mapping '\(plan.file)' does not read XML (source: format: xml, records: ...)")
        }

        let stored: String?
        let checkpoint: SOAPCheckpoint?
        let runner: RequestRunner
        var security: UsernameToken?
        var known: Set<String> = []
        do {
            stored = try database.checkpoint(feed: feed.name)
            checkpoint = try stored.map { s throws(SOAPCheckpoint.Unreadable) in try SOAPCheckpoint.parse(s) }
            runner = try HTTPPull.runner(
                credentials: settings.credentials, retry: settings.retry, transport: settings.transport,
                clientKeyPassword: settings.clientKeyPassword, services: services, database: database, logger: logger, control: control)
            if case .wsSecurity(let user, let password, let digest) = runner.authenticator.method {
                security = UsernameToken(username: user, password: password.value, digest: digest)
            }
            let rows = try database.select(
                "SELECT message_id FROM oemsync_batches WHERE feed = ? AND message_id IS NOT NULL AND status IN ('ok', 'partial') GROUP BY message_id ORDER BY max(id) DESC LIMIT \(Self.knownMessages)",
                [.string(feed.name)])
            known = Set(rows.compactMap { $0.first ?? nil })
        } catch let e as SinkError {
            return stop(.database, e.description)
        } catch {
            return stop(.source, "\(error)")
        }
        // A message partly committed is not "known": its remaining records are still to come.
        if let partial = checkpoint?.message?.id { known.remove(partial) }

        feed.purgeExpiredPayloads(database, logger: logger, now: services.clock.now())
        let bound = BoundMapping(xml: plan)
        var sourceSettings = settings.source
        if sourceSettings.messageID == nil, settings.defaultMessageID { sourceSettings.messageID = Self.starMessageID(under: recordsPath) }
        let source = SOAPSource(
            settings: sourceSettings, records: recordsPath, fields: bound.xmlPaths.map { XMLRecordReader.Field(path: $0.path, join: $0.join) },
            runner: runner, security: security, checkpoint: checkpoint, clock: services.clock, feed: feed.name)
        if source.resumes {
            pull.resumedFrom = source.position
            logger.info("pull resumed", metadata: [LogKey.position: .string(source.position)])
        }
        let mapper = BatchMapper(bound)
        let writer = BatchWriter(database: database, table: plan.targetTable, logger: logger, control: control)
        let pullRef = "pull \(services.clock.now())"
        let control = self.control
        let clock = services.clock
        let batchRecords = settings.source.batchRecords
        let knownAtStart = known
        let pieces = Prefetcher<Piece>(name: "oemsync-fetch") { emit in
            var known = knownAtStart
            while true {
                if let hold = control.hold(clock.now()) {
                    _ = emit(.held(hold))
                    return
                }
                switch source.next() {
                case .done: return
                case .parked(let reason, let until, let quota):
                    _ = emit(.parked(reason: reason, until: until, quota: quota))
                    return
                case .failed(let failure):
                    _ = emit(.failed(failure))
                    return
                case .message(let message):
                    defer { source.discard() }
                    if let id = message.messageID, known.contains(id) {
                        source.skipped(message)
                        guard emit(.skipped(message, source.checkpoint)) else { return }
                        continue
                    }
                    var done = message.alreadyDone
                    var going = true
                    do throws(XMLPayloadError) {
                        try source.records(of: message, skipping: message.alreadyDone, batch: batchRecords) { records, last in
                            done += records.count
                            going = emit(.chunk(records, message, last: last, done: done))
                            return going
                        }
                    } catch {
                        // The checking read passed: the spool file changed under the reader.
                        _ = emit(.failed(SOAPSource.Failure(message: "the spooled answer could not be read again: \(error.description)", request: message.request, position: message.position)))
                        return
                    }
                    guard going else { return }
                    if let id = message.messageID { known.insert(id) }
                }
            }
        }

        var before = stored
        var batchNumber = 0
        func context(request: String, position: String, messageID: String?, startedAt: Timestamp? = nil) -> BatchContext {
            batchNumber += 1
            return BatchContext(
                feed: feed.name, source: request, sourceRef: "\(pullRef) batch \(batchNumber)", positionStart: position,
                checkpointBefore: before, mapping: plan.name, mappingVersion: plan.version, dictionaryVersion: plan.dictionaryVersion,
                startedAt: startedAt ?? services.clock.now(), credentials: settings.credentials, messageID: messageID, retention: feed.retention)
        }
        let paths = bound.xmlPaths.map(\.path.text)
        var firstOfMessage = true
        reading: while let piece = pieces.next() {
            switch piece {
            case .chunk(let records, let message, let last, let done):
                let startedAt = services.clock.now()
                if let hold = control.hold(startedAt) {
                    logger.notice("feed held", metadata: [LogKey.reason: .string(hold.reason)])
                    pull.outcome = .parked(reason: hold.reason)
                    report.held = hold
                    pieces.cancel()
                    break reading
                }
                let start = done - records.count
                let position = message.position + (message.records > records.count ? ", records \(start + 1)-\(done) of \(message.records)" : "")
                writer.begin(context(request: message.request, position: position, messageID: message.messageID, startedAt: startedAt))
                var chunk = mapper.map(records)
                for i in chunk.rejects.indices { chunk.rejects[i].rawRecord = SOAPSource.fieldsObject(chunk.rejects[i].rawRecord, paths: paths) }
                database.prepare(&chunk)
                guard writer.submit(chunk) else {
                    writer.end(nil)
                    pieces.cancel()
                    break reading
                }
                var after = message.checkpoint
                if !last {
                    after = message.inside
                    after.message?.done = done
                }
                var notes: [String] = []
                if firstOfMessage, let n = RESTSync.notes(message.attempts) { notes.append(n) }
                if firstOfMessage, message.alreadyDone > 0 {
                    notes.append("the first \(message.alreadyDone) records of message \(message.messageID ?? "") were committed by an earlier run: skipped")
                }
                // Rejected records are kept as the fields the mapping read (the answer itself may be 500 MB).
                let payload = chunk.rejects.isEmpty ? nil : BatchPayload(
                    request: message.request, status: 200, contentType: Self.fieldsContentType, body: Self.fieldsPayload(chunk.rejects))
                writer.end(
                    BatchEnd(
                        positionEnd: last ? message.positionAfter : position, checkpointAfter: after.json, requests: firstOfMessage ? message.requests : 0,
                        duplicates: firstOfMessage ? message.alreadyDone : 0, notes: notes.isEmpty ? nil : notes.joined(separator: "; "), payload: payload))
                if firstOfMessage { pull.retries += message.attempts.count }
                firstOfMessage = last
                before = after.json
            case .skipped(let message, let after):
                logger.notice("message skipped", metadata: [LogKey.reason: .string("message \(message.messageID ?? "") is in the ledger already")])
                writer.begin(context(request: message.request, position: message.position, messageID: message.messageID))
                _ = writer.submit(MappedBatch())
                var notes = ["message \(message.messageID ?? "") was committed before: its \(Plural.count(message.records, "record")) skipped"]
                if let n = RESTSync.notes(message.attempts) { notes.insert(n, at: 0) }
                writer.end(
                    BatchEnd(
                        positionEnd: SOAPSource.position(of: after), checkpointAfter: after.json, requests: message.requests,
                        duplicates: message.records, notes: notes.joined(separator: "; ")))
                pull.retries += message.attempts.count
                before = after.json
            case .parked(let reason, let until, let quota):
                logger.notice("feed parked", metadata: [LogKey.reason: .string(reason)])
                pull.outcome = .parked(reason: reason)
                report.held = RunControl.Hold(reason: reason, until: until, kind: .source)
                report.quotaSpent = quota
                break reading
            case .held(let hold):
                logger.notice("feed held", metadata: [LogKey.reason: .string(hold.reason)])
                pull.outcome = .parked(reason: hold.reason)
                report.held = hold
                break reading
            case .failed(let failure):
                logger.warning("batch failed", metadata: [LogKey.position: .string(failure.position), LogKey.error: .string(failure.message)])
                writer.begin(context(request: failure.request, position: failure.position, messageID: nil))
                _ = writer.submit(MappedBatch())
                writer.end(
                    BatchEnd(
                        positionEnd: failure.position, checkpointAfter: nil, requests: failure.requests, notes: RESTSync.notes(failure.attempts),
                        failure: BatchFailure(message: failure.message),
                        payload: BatchPayload(request: failure.request, status: failure.status, contentType: failure.contentType, body: failure.body)))
                pull.retries += max(0, failure.attempts.count - 1)
                pull.outcome = .failed(message: failure.message)
                report.error = FeedError(.source, feed: feed.name, failure.message)
                break reading
            }
        }
        pieces.cancel()
        return HTTPPull.finish(writer, heldBefore: nil, pull: pull, pullRef: pullRef, report: report, feed: feed.name, logger: logger)
    }

    /// The content type of a SOAP batch's stored records (see ``fieldsPayload(_:)``).
    static let fieldsContentType = "application/vnd.oemsync.xml-fields+json"

    /// The rejected records of a batch as `[{"line": N, "fields": {path: value}}]`, N being the
    /// record's number in its message: what a replay maps again.
    static func fieldsPayload(_ rejects: [Reject]) -> [UInt8] {
        var out = "["
        for (i, r) in rejects.enumerated() {
            if i > 0 { out += ",\n" }
            out += "{\"line\":\(r.line),\"fields\":\(r.rawRecord)}"
        }
        return Array((out + "]").utf8)
    }

    /// STAR's place for the message id: `ApplicationArea/BODID` of the business document the
    /// records path goes through (`/s:Envelope/s:Body/star:ShowVehicleInventory/...`).
    static func starMessageID(under records: XMLPath) -> XMLPath? {
        guard records.steps.count > 3, records.steps[1].local == "Body" else { return nil }
        let document = records.steps[2]
        return XMLPath(
            absolute: true, steps: Array(records.steps[...2]) + [XMLName(document.namespace, "ApplicationArea"), XMLName(document.namespace, "BODID")])
    }

    /// `/star/VehicleInventory` of a URL.
    static func path(_ url: String) -> String {
        let host = RequestRunner.host(of: url)
        guard let r = url.range(of: host) else { return url }
        let path = url[r.upperBound...].prefix { $0 != "?" }
        return path.isEmpty ? "/" : String(path)
    }
}
