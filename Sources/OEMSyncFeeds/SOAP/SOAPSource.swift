import Foundation
import OEMSyncCore

/// A SOAP source: one pull of a feed, message by message (a message is one request's answer),
/// each message one or more batches.
///
/// Each ``next()`` builds the request from the checkpoint (the envelope, a fresh WS-Security
/// UsernameToken per attempt), sends it with the ``RequestRunner``'s retries and limits, and writes
/// the answer to a spool file, never into memory. The file is then read through once to check it:
/// well-formed and complete, no SOAP Fault, no application error by the feed's rule, the business
/// document the mapping reads; and to take its message id (the BODID), its continuation and its
/// record count. Only a message that passed is read a second time, into records
/// (``records(of:skipping:_:)``), so nothing of a cut or failed answer is ever committed.
///
/// Classification: a server Fault (`soap:Server`, `env:Receiver`), a cut or malformed answer and a
/// retryable application error are asked again; a client Fault (`soap:Client`, `env:Sender`), a DTD,
/// another document or namespace than the mapping's, an answer over `max_response_bytes` and any
/// other application error fail the page at once.
public final class SOAPSource: @unchecked Sendable {
    public struct Message: Sendable {
        /// The spooled answer.
        public var file: String
        public var bytes: Int
        public var records: Int
        /// The business document's id (BODID), when the feed names where it is.
        public var messageID: String?
        /// `POST https://host/path GetVehicleInventory`: what the ledger records (no credentials).
        public var request: String
        public var position: String
        public var positionAfter: String
        /// The checkpoint once the whole message is committed.
        public var checkpoint: SOAPCheckpoint
        /// The checkpoint while only part of the message is committed: the same request again,
        /// with the message's id; ``SOAPCheckpoint/InMessage/done`` is filled in per batch.
        public var inside: SOAPCheckpoint
        public var requests: Int
        public var attempts: [AttemptNote]
        /// Records of this very message (same id) an earlier run committed: skipped.
        public var alreadyDone: Int
        public var endsPull: Bool
        /// The checkpoint the request was made from.
        public var asked: SOAPCheckpoint
        /// Whether the message names, as the next continuation, the one it was asked with: an
        /// answer sent again (a provider that missed our receipt) rather than the next one.
        public var repeatsRequest: Bool
    }

    public struct Failure: Sendable {
        public var message: String
        public var request: String
        public var position: String
        /// The last answer received, if any: its status and the first megabyte of its body.
        public var status: Int?
        public var contentType: String?
        public var body: [UInt8]
        public var requests: Int
        public var attempts: [AttemptNote]

        public init(
            message: String, request: String, position: String, status: Int? = nil, contentType: String? = nil, body: [UInt8] = [],
            requests: Int = 0, attempts: [AttemptNote] = []
        ) {
            self.message = message
            self.request = request
            self.position = position
            self.status = status
            self.contentType = contentType
            self.body = body
            self.requests = requests
            self.attempts = attempts
        }
    }

    public enum Step: Sendable {
        case message(Message)
        case done
        case parked(reason: String, until: Timestamp?, quota: Bool = false)
        case failed(Failure)
    }

    /// What the checking read found in a message.
    struct Checked: Sendable {
        var records: Int
        var bytes: Int
        var captures: [XMLPath: String]
    }

    let settings: SOAPSourceSettings
    let runner: RequestRunner
    let clock: any SyncClock
    let builder: SOAPRequestBuilder
    let checker: XMLRecordReader
    let reader: XMLRecordReader
    let spoolFile: String
    public private(set) var checkpoint: SOAPCheckpoint
    private let stored: SOAPCheckpoint
    private var pagesThisRun = 0
    private var finished = false
    /// Bytes of a failed answer kept for the ledger.
    static let keptBytes = 1 << 20

    /// - Parameters:
    ///   - records: the mapping's records path; `fields` its field paths.
    ///   - security: the UsernameToken from the feed's credentials, if they are `ws_security`.
    ///   - checkpoint: the feed's stored checkpoint, nil for its first run.
    public init(
        settings: SOAPSourceSettings, records: XMLPath, fields: [XMLRecordReader.Field], runner: RequestRunner, security: UsernameToken?,
        checkpoint: SOAPCheckpoint?, clock: any SyncClock, feed: String
    ) {
        self.settings = settings
        self.runner = runner
        self.clock = clock
        builder = SOAPRequestBuilder(version: settings.version, action: settings.action, body: settings.body, security: security)
        var captures: [XMLPath] = []
        if let id = settings.messageID { captures.append(id) }
        if case .continuation(let path, _) = settings.pagination { captures.append(path) }
        if let rule = settings.applicationError {
            captures.append(rule.code)
            if let m = rule.message { captures.append(m) }
        }
        checker = XMLRecordReader(records: records, fields: [], captures: captures)
        reader = XMLRecordReader(records: records, fields: fields)
        let safe = String(feed.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "_" })
        spoolFile = (settings.spoolDirectory as NSString).appendingPathComponent(
            "oemsync-\(safe)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased()).xml")
        // The spool directory is the feed's own (a private one under systemd's StateDirectory, say).
        try? FileManager.default.createDirectory(atPath: settings.spoolDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        Self.removeLeftovers(in: settings.spoolDirectory, feed: safe)
        stored = checkpoint ?? SOAPCheckpoint()
        self.checkpoint = stored
    }

    deinit { try? FileManager.default.removeItem(atPath: spoolFile) }

    /// Spool files of this feed that a killed pull left behind (whole OEM answers, personal data
    /// included): those whose process is gone. The feed's lock keeps any other live pull of it away.
    static func removeLeftovers(in directory: String, feed: String) {
        let prefix = "oemsync-\(feed)-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".xml") {
            // Exactly `<pid>-<8 hex>.xml` after the prefix: `orders-2`'s files are not `orders`'.
            let parts = name.dropFirst(prefix.count).dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].count == 8, let pid = pid_t(parts[0]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name)) }
        }
    }

    /// Whether this run resumes a pull an earlier run left unfinished.
    public var resumes: Bool { stored.page != nil || stored.continuation != nil || stored.message != nil }

    public var position: String {
        if let m = checkpoint.message, m.done > 0 {
            return Self.position(of: checkpoint) + ", after \(m.done) records" + (m.id.map { " of message \($0)" } ?? "")
        }
        return Self.position(of: checkpoint)
    }

    public static func position(of c: SOAPCheckpoint) -> String {
        if let p = c.page { return "page \(p)" }
        if let k = c.continuation { return "continuation " + (k.count > 40 ? k.prefix(40) + "…" : k) }
        return "first page"
    }

    var requestLine: String { "POST \(RESTSource.redacted(settings.url)) \(settings.action)" }

    public func next() -> Step {
        guard !finished else { return .done }
        if pagesThisRun >= settings.maxPages {
            finished = true
            return .parked(reason: "max_pages (\(settings.maxPages)) reached in this run; the pull goes on next run", until: nil)
        }
        if checkpoint.pullStarted == nil {
            // A new pull: from the last one's start, minus the overlap.
            checkpoint.pullStarted = clock.now().microseconds
            if let inc = settings.incremental {
                let overlap = Int64(inc.overlap.seconds * 1_000_000)
                checkpoint.since = checkpoint.lastPull.map { $0 - overlap } ?? inc.start?.microseconds
            }
        }
        let values = self.values()
        let position = self.position
        var request = HTTPRequest(
            method: "POST", url: settings.url, headers: builder.headers + [("Accept", "text/xml, application/soap+xml")], body: nil,
            responseFile: spoolFile)
        let builder = self.builder
        let clock = self.clock
        let result = runner.fetch(
            request,
            prepare: { attempt in
                var nonce = [UInt8](repeating: 0, count: 16)
                for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255) }
                attempt.body = Array(builder.envelope(values, nonce: nonce, created: clock.now()).utf8)
            },
            accept: { self.check($0) }, inspectError: { self.fault(in: $0) })
        request.body = nil
        pagesThisRun += 1
        switch result.outcome {
        case .quotaSpent, .comeBackLater, .circuitOpen, .failure:
            finished = true
            switch result.pullEnd(now: clock.now()) {
            case .parked(let reason, let until, let quota): return .parked(reason: reason, until: until, quota: quota)
            case .failed(let message):
                // The last answer received, if any, is kept for the ledger.
                var response: HTTPResponse?
                if case .failure(_, let last) = result.outcome { response = last }
                return .failed(
                    Failure(
                        message: message, request: requestLine, position: position, status: response?.status,
                        contentType: response?.header("content-type"), body: response?.bodyPrefix(Self.keptBytes) ?? [],
                        requests: result.requests, attempts: result.attempts))
            }
        case .success(let checked, let response):
            return .message(deliver(checked, response: response, position: position, requests: result.requests, attempts: result.attempts))
        }
    }

    /// The placeholders' values for the next request.
    private func values() -> [String: String] {
        var v: [String: String] = [:]
        if let inc = settings.incremental, let since = checkpoint.since { v["since"] = inc.codec.format(Timestamp(microseconds: since)) }
        switch settings.pagination {
        case .none: break
        case .page(let first, let size):
            v["page"] = String(checkpoint.page ?? first)
            v["page_size"] = String(size)
        case .continuation(_, let size):
            v["continuation"] = checkpoint.continuation ?? ""
            if let size { v["page_size"] = String(size) }
        }
        return v
    }

    private func deliver(_ checked: Checked, response: HTTPResponse, position: String, requests: Int, attempts: [AttemptNote]) -> Message {
        let id = settings.messageID.flatMap { checked.captures[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        // The same message as the one an earlier run committed part of: its first records are in.
        let alreadyDone = stored.message.flatMap { m in m.id != nil && m.id == id && pagesThisRun == 1 ? m.done : nil } ?? 0
        var inside = checkpoint
        inside.message = SOAPCheckpoint.InMessage(id: id, done: 0)
        var after = checkpoint
        after.message = nil
        var next: (page: Int?, continuation: String?)?
        var repeats = false
        switch settings.pagination {
        case .none: next = nil
        case .page(let first, let size):
            next = checked.records >= size && checked.records > 0 ? ((checkpoint.page ?? first) + 1, nil) : nil
        case .continuation(let path, _):
            let c = checked.captures[path] ?? ""
            repeats = !c.isEmpty && c == checkpoint.continuation
            next = c.isEmpty || repeats ? nil : (nil, c)
        }
        let asked = checkpoint
        if let next {
            after.page = next.page
            after.continuation = next.continuation
            after.pages += 1
        } else {
            // The pull is complete: the next one starts from this one's start.
            after.page = nil
            after.continuation = nil
            after.pages = 0
            after.lastPull = after.pullStarted
            after.pullStarted = nil
            after.since = nil
            finished = true
        }
        checkpoint = after
        return Message(
            file: spoolFile, bytes: checked.bytes, records: checked.records, messageID: id, request: requestLine, position: position,
            positionAfter: next == nil ? "end" : Self.position(of: after), checkpoint: after, inside: inside, requests: requests,
            attempts: attempts, alreadyDone: alreadyDone, endsPull: next == nil, asked: asked, repeatsRequest: repeats)
    }

    /// Goes on after a message skipped as committed before. A message sent again in place of the
    /// next one is asked for again (twice at most); otherwise its checkpoint is taken as it is.
    public func skipped(_ message: Message) {
        if message.repeatsRequest, resent < Self.maxResent {
            resent += 1
            checkpoint = message.asked
            finished = false
            return
        }
        resent = 0
        checkpoint = message.checkpoint
    }

    private var resent = 0
    static let maxResent = 2

    // MARK: Reading answers

    /// The checking read of a 2xx answer.
    func check(_ response: HTTPResponse) -> Acceptance<Checked> {
        guard let file = response.bodyFile else { return .reject("the answer was not spooled") }
        let result: XMLRecordReader.Result
        do throws(XMLPayloadError) {
            result = try checker.read(file: file) { _ in }
        } catch {
            return Self.verdict(error)
        }
        if let fault = result.fault { return Self.verdict(fault) }
        if let rule = settings.applicationError, let code = result.captures[rule.code], !code.isEmpty, !rule.success.contains(code) {
            let message = rule.message.flatMap { result.captures[$0] }.map { ": " + Redact.outside($0, limit: 160) } ?? ""
            let text = "application error \(Redact.code(code)) in the answer" + message
            return rule.retryable.contains(code) ? .retry(text) : .reject(text)
        }
        // A document the mapping does not read (another noun, another STAR release's namespace)
        // would give no records and look like an empty listing: it is an error.
        let steps = checker.records.steps
        if steps.count > 2, steps[1].local == "Body", let found = result.bodyElement, found != steps[2] {
            return .reject("the SOAP Body holds \(found), but the mapping's records path reads \(steps[2])")
        }
        return .accept(Checked(records: result.records, bytes: result.bytes, captures: result.captures))
    }

    /// The verdict on a non-2xx answer that carries a SOAP Fault (SOAP 1.1 sends every Fault with
    /// HTTP 500; SOAP 1.2 a Sender fault with 400); nil when it has none (a proxy's error page).
    func fault(in response: HTTPResponse) -> Acceptance<Checked>? {
        guard let file = response.bodyFile, response.bodySize > 0 else { return nil }
        let any = XMLRecordReader(records: checker.records, fields: [])
        guard let result = try? any.read(file: file, record: { _ in }), let fault = result.fault else { return nil }
        return Self.verdict(fault)
    }

    static func verdict(_ fault: XMLRecordReader.Fault) -> Acceptance<Checked> {
        // The fault string is the OEM's own text: masked where it enters (the answer is in the payload).
        let text = "SOAP Fault \(Redact.code(fault.code))" + (fault.reason.isEmpty ? "" : ": " + Redact.outside(fault.reason, limit: 160))
        // A STAR: code is a critical processing error the provider found in the request (STAR Web Services).
        let permanent = fault.isClientFault || fault.code.hasPrefix("STAR:")
        return permanent ? .reject(text + " (the request is at fault: not retried)") : .retry(text)
    }

    static func verdict(_ error: XMLPayloadError) -> Acceptance<Checked> {
        switch error.kind {
        case .truncated: return .retry("truncated XML: \(error.description)")
        case .malformed: return .retry("malformed XML: \(error.description)")
        case .unreadable, .stopped: return .retry(error.description)
        case .forbiddenDTD: return .reject("refused: \(error.description)")
        case .unexpectedRoot: return .reject(error.description)
        case .tooLarge: return .reject(error.description)
        }
    }

    /// Reads a checked message into records, `batch` at a time, the first `skipping` left out;
    /// `deliver` gets each chunk and whether it is the message's last, and answers false to stop.
    /// The last chunk is delivered even when empty (it carries the message's checkpoint).
    public func records(
        of message: Message, skipping: Int, batch: Int, _ deliver: ([RawRecord], _ last: Bool) -> Bool
    ) throws(XMLPayloadError) {
        var current: [RawRecord] = []
        var pending: [RawRecord]?
        var seen = 0
        var stopped = false
        current.reserveCapacity(min(batch, max(message.records, 1)))
        do throws(XMLPayloadError) {
            _ = try reader.readRecords(file: message.file) { record in
                seen += 1
                if seen <= skipping { return true }
                // Records are numbered in their message (a minified answer is one line).
                var record = record
                record.line = seen
                current.append(record)
                guard current.count >= batch else { return true }
                if let p = pending, !deliver(p, false) {
                    stopped = true
                    return false
                }
                pending = current
                current = []
                current.reserveCapacity(batch)
                return true
            }
        } catch {
            if stopped { return }
            throw error
        }
        if let p = pending {
            if current.isEmpty {
                _ = deliver(p, true)
            } else if deliver(p, false) {
                _ = deliver(current, true)
            }
        } else {
            _ = deliver(current, true)
        }
    }

    /// A reject's fields (the mapper keeps them as a JSON array) as an object by the mapping's
    /// paths, `{"star:Vehicle/star:VehicleID": "…"}`: what the ledger shows of a rejected XML record.
    public static func fieldsObject(_ array: String, paths: [String]) -> String {
        guard case .array(let items)? = try? JSONParser.parse(Array(array.utf8)), items.count == paths.count else { return array }
        var out = "{"
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            JSONText.appendQuoted(paths[i], to: &out)
            out += ":"
            JSONText.appendQuoted(item.fieldText ?? "", to: &out)
        }
        return out + "}"
    }

    /// Removes the spool file (the next answer writes a new one).
    public func discard() { try? FileManager.default.removeItem(atPath: spoolFile) }
}
