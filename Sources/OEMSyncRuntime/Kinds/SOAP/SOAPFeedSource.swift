import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// A SOAP feed's pass: resume the pull its checkpoint names (or start one), and deliver message
/// after message, each message one or more batches of `batch_rows` records, each batch's ledger
/// entry carrying the message's BODID as its message id.
///
/// A message whose BODID the ledger already holds is not loaded again: its ledger entry says it was
/// skipped, with its records as duplicates. A message cut short by a crash or a hold is asked for
/// again, and when the OEM answers with the same BODID the records already committed are skipped.
/// A message that fails after its retries is a failed batch with its request and the first
/// megabyte of the answer; the feed stops there, and the next run asks for it again.
final class SOAPFeedSource: FeedSource {
    /// Message ids looked up in the ledger at the start of a run, newest first.
    static let knownMessages = 100_000

    /// What the reading thread hands over.
    enum Piece: Sendable {
        /// Records of a message; `done`: the message's records committed once this chunk is.
        case chunk([RawRecord], SOAPSource.Message, last: Bool, done: Int)
        /// A message committed before (its id is in the ledger), and the checkpoint that follows it.
        case skipped(SOAPSource.Message, SOAPCheckpoint)
        case parked(reason: String, until: Timestamp?, quota: Bool)
        case failed(SOAPSource.Failure)
        case held(RunControl.Hold)
    }

    private let settings: SOAPFeedSettings
    private let logger: Logger
    private var pending: [SourceStep] = []
    private var pieces: Prefetcher<Piece>?
    private var mapper: BatchMapper?
    private var paths: [String] = []
    private let pullRef: String
    private var batchNumber = 0
    private var firstOfMessage = true

    init(_ run: SourceRun, settings: SOAPFeedSettings) {
        let (feed, plan, database, services, logger, control, stored) = (
            run.feed, run.plan, run.database, run.services, run.logger, run.control, run.checkpoint)
        self.settings = settings
        self.logger = logger
        pullRef = "pull \(services.clock.now())"
        var pull = FileReport(name: "POST " + HTTPPull.path(of: settings.source.url), claimedName: pullRef, outcome: .completed)
        guard plan.source.format == .xml, let recordsPath = plan.source.xmlRecords else {
            pending = HTTPPull.cannotStart(pull, FeedError(.mapping, feed: feed.name, "mapping '\(plan.file)' does not read XML (source: format: xml, records: ...)"), feed: feed.name)
            return
        }
        let checkpoint: SOAPCheckpoint?
        let runner: RequestRunner
        var security: UsernameToken?
        var known: Set<String> = []
        do {
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
        } catch {
            pending = HTTPPull.cannotStart(pull, error, feed: feed.name)
            return
        }
        // A message partly committed is not "known": its remaining records are still to come.
        if let partial = checkpoint?.message?.id { known.remove(partial) }

        let bound = BoundMapping(xml: plan)
        mapper = BatchMapper(bound)
        paths = bound.xmlPaths.map(\.path.text)
        var sourceSettings = settings.source
        if sourceSettings.messageID == nil, settings.defaultMessageID { sourceSettings.messageID = Self.starMessageID(under: recordsPath) }
        let source = SOAPSource(
            settings: sourceSettings, records: recordsPath, fields: bound.xmlPaths.map { XMLRecordReader.Field(path: $0.path, join: $0.join) },
            runner: runner, security: security, checkpoint: checkpoint, clock: services.clock, feed: feed.name)
        if source.resumes {
            pull.resumedFrom = source.position
            logger.info("pull resumed", metadata: [LogKey.position: .string(source.position)])
        }
        pending = [.begin(pull, file: nil)]
        let clock = services.clock
        let batchRecords = settings.source.batchRecords
        let knownAtStart = known
        pieces = Prefetcher<Piece>(name: "oemsync-fetch") { emit in
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
                        _ = emit(
                            .failed(
                                SOAPSource.Failure(
                                    message: "the spooled answer could not be read again: \(error.description)", request: message.request,
                                    position: message.position)))
                        return
                    }
                    guard going else { return }
                    if let id = message.messageID { known.insert(id) }
                }
            }
        }
    }

    func next() -> SourceStep {
        if !pending.isEmpty { return pending.removeFirst() }
        guard let pieces, let mapper else { return .done }
        guard let piece = pieces.next() else { return .done }
        batchNumber += 1
        let sourceRef = "\(pullRef) batch \(batchNumber)"
        switch piece {
        case .chunk(let records, let message, let last, let done):
            let start = done - records.count
            let position = message.position + (message.records > records.count ? ", records \(start + 1)-\(done) of \(message.records)" : "")
            var after = message.checkpoint
            if !last {
                after = message.inside
                after.message?.done = done
            }
            var notes: [String] = []
            let first = firstOfMessage
            if first, let n = message.attempts.ledgerNote { notes.append(n) }
            if first, message.alreadyDone > 0 {
                notes.append("the first \(message.alreadyDone) records of message \(message.messageID ?? "") were committed by an earlier run: skipped")
            }
            firstOfMessage = last
            let paths = self.paths
            let rejects = RejectsBox()
            return .batch(
                .single(
                    source: message.request, sourceRef: sourceRef, positionStart: position, credentials: settings.credentials,
                    messageID: message.messageID, mapper: mapper, records: records, retries: first ? message.attempts.count : 0,
                    prepare: { chunk in
                        // Rejected records are kept as the fields the mapping read (the answer itself may be 500 MB).
                        for i in chunk.rejects.indices { chunk.rejects[i].rawRecord = SOAPSource.fieldsObject(chunk.rejects[i].rawRecord, paths: paths) }
                        rejects.all += chunk.rejects
                    },
                    end: { [after] in
                        let payload =
                            rejects.all.isEmpty
                            ? nil
                            : BatchPayload(request: message.request, status: 200, contentType: Self.fieldsContentType, body: Self.fieldsPayload(rejects.all))
                        return BatchEnd(
                            positionEnd: last ? message.positionAfter : position, checkpointAfter: after.json, requests: first ? message.requests : 0,
                            duplicates: first ? message.alreadyDone : 0, notes: notes.isEmpty ? nil : notes.joined(separator: "; "), payload: payload)
                    }))
        case .skipped(let message, let after):
            logger.notice("message skipped", metadata: [LogKey.reason: .string("message \(message.messageID ?? "") is in the ledger already")])
            var notes = ["message \(message.messageID ?? "") was committed before: its \(Plural.count(message.records, "record")) skipped"]
            if let n = message.attempts.ledgerNote { notes.insert(n, at: 0) }
            return .batch(
                .single(
                    source: message.request, sourceRef: sourceRef, positionStart: message.position, credentials: settings.credentials,
                    messageID: message.messageID, mapper: mapper, records: [], retries: message.attempts.count,
                    end: {
                        BatchEnd(
                            positionEnd: SOAPSource.position(of: after), checkpointAfter: after.json, requests: message.requests,
                            duplicates: message.records, notes: notes.joined(separator: "; "))
                    }))
        case .parked(let reason, let until, let quota):
            return .parked(RunControl.Hold(reason: reason, until: until, kind: .source), quotaSpent: quota)
        case .held(let hold):
            return .parked(hold, quotaSpent: false)
        case .failed(let failure):
            return .failed(
                SourceFailure(
                    source: failure.request, sourceRef: sourceRef, position: failure.position, credentials: settings.credentials,
                    message: failure.message,
                    end: BatchEnd(
                        positionEnd: failure.position, checkpointAfter: nil, requests: failure.requests, notes: failure.attempts.ledgerNote,
                        failure: BatchFailure(message: failure.message),
                        payload: BatchPayload(request: failure.request, status: failure.status, contentType: failure.contentType, body: failure.body)),
                    retries: max(0, failure.attempts.count - 1)))
        }
    }

    func cancel() { pieces?.cancel() }

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

}

/// The rejects of a batch, gathered while its chunks are mapped, for its payload.
private final class RejectsBox {
    var all: [Reject] = []
}
