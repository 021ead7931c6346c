import Foundation
import OEMSyncCore

/// A REST JSON source: one pull of a feed, page by page, each page a batch with the checkpoint
/// that follows it.
///
/// A run resumes the pull its checkpoint names, or starts a new one: from the high-water mark
/// minus the overlap for an incremental feed, from the start otherwise. Each ``next()`` fetches
/// one page (with the ``RequestRunner``'s retries and limits), reads its records, drops the
/// duplicates (records the last pull or this run already delivered with the same change time),
/// and returns them with the checkpoint to commit with them.
///
/// Page numbers and offsets are positions: when a record changes while the client pages, it
/// moves to the end of the list and the records behind it shift one place towards the start, so
/// one of them is never served. A record served twice in one pass shows that this happened; the
/// pull is then repeated from the same lower bound (up to twice), its known records dropped as
/// duplicates, so what the shift hid is fetched. Still shifting after that, the next pull starts
/// no later than this one did.
public final class RESTSource: @unchecked Sendable {
    public struct Page: Sendable {
        public var records: [RawRecord]
        /// The page as read (for the records' exact JSON text).
        public var read: JSONRecordReader.Page
        public var payload: [UInt8]
        /// `GET https://host/path?query`, without credentials: what the ledger records.
        public var request: String
        public var position: String
        public var positionAfter: String
        public var checkpoint: RESTCheckpoint
        public var requests: Int
        public var attempts: [AttemptNote]
        /// Records dropped as already delivered.
        public var duplicates: Int
        /// Whether this page finished the pull.
        public var endsPull: Bool
    }

    public struct Failure: Sendable {
        public var message: String
        public var request: String
        public var position: String
        /// The last response received, if any (its body is kept for replay).
        public var response: HTTPResponse?
        public var requests: Int
        public var attempts: [AttemptNote]
        /// The checkpoint that skips this page, for `on_failure: continue` (nil when the pagination
        /// cannot go on without it: a cursor or next link is in the page that failed).
        public var skipping: RESTCheckpoint?
    }

    public enum Step: Sendable {
        case page(Page)
        /// The pull is finished (or there was nothing to do).
        case done
        /// Stopped early and checkpointed: the quota is spent, the OEM asked to come back later,
        /// or the run reached `max_pages`. `until`: when it is worth trying again.
        case parked(reason: String, until: Timestamp?, quota: Bool = false)
        case failed(Failure)
    }

    let settings: RESTSourceSettings
    let reader: JSONRecordReader
    let runner: RequestRunner
    let clock: any SyncClock
    /// Indexes of the record id and change time among the reader's fields.
    let idField: Int?
    let timeField: Int?
    let errorCapture: [JSONPath]
    /// Query parameters that carry a secret (an API key in the query): masked wherever a URL is
    /// shown, and taken out of next links before they are stored (the key is added to every request).
    let secretParameters: Set<String>

    public private(set) var checkpoint: RESTCheckpoint
    private var pull: RESTCheckpoint.Pull
    private let previouslySeen: [String: Int64]
    /// Records delivered in this run, by id and by (id, change time), hashed; and the ids of the
    /// current pass, to see one served twice. Capped at ``maxTracked`` each, so memory stays
    /// bounded: past it a run no longer finds duplicates of its own or pages that shifted.
    private var runIDs: Set<Int> = []
    private var runVersions: Set<Int> = []
    private var passSeen: Set<Int> = []
    /// Delivered with a change time inside the overlap window of the newest one, for `seen`.
    private var recent: [String: Int64] = [:]
    private var shifted = false
    private var pagesThisRun = 0
    private var failedInARow = 0
    private var finished = false
    static let maxRepairs = 2
    static let maxFailedInARow = 3
    static let maxSeen = 10_000
    static let maxTracked = 1_000_000

    /// - Parameters:
    ///   - reader: reads the mapping's fields; the record id and change time are added to them.
    ///   - checkpoint: the feed's stored checkpoint, nil for its first run.
    public init(
        settings: RESTSourceSettings, fields: [JSONRecordReader.Field], records: JSONPath, runner: RequestRunner,
        checkpoint: RESTCheckpoint?, clock: any SyncClock
    ) {
        self.settings = settings
        if case .apiKey(let name, true, _) = runner.authenticator.method {
            secretParameters = [name]
        } else {
            secretParameters = []
        }
        self.runner = runner
        self.clock = clock
        var all = fields
        func add(_ path: JSONPath?) -> Int? {
            guard let path else { return nil }
            if let i = all.firstIndex(where: { $0.path == path && !path.hasWildcard }) { return i }
            all.append(.init(path: path))
            return all.count - 1
        }
        idField = add(settings.recordID)
        timeField = add(settings.incremental?.field)
        errorCapture = settings.bodyErrors?.paths ?? []
        // With an error-code rule, `"data": null` next to a success code is an empty result.
        reader = JSONRecordReader(
            records: records, fields: all, captures: settings.pagination.bodyPaths + errorCapture, nullContainers: settings.bodyErrors != nil)
        let stored = checkpoint ?? RESTCheckpoint()
        self.checkpoint = stored
        previouslySeen = stored.seen ?? [:]
        if let resume = stored.pull {
            pull = resume
        } else {
            pull = RESTCheckpoint.Pull(since: Self.lowerBound(stored, settings.incremental))
        }
    }

    /// Where a new pull starts: the mark minus the overlap, or the configured start.
    static func lowerBound(_ c: RESTCheckpoint, _ incremental: Incremental?) -> Int64? {
        guard let incremental else { return nil }
        var since = c.hwm.map { $0.t - Int64(incremental.overlap.seconds * 1_000_000) } ?? incremental.start?.microseconds
        // Int64.min: the shifting pull had no lower bound, so the next one has none either.
        if let repair = c.repairSince { since = repair == .min ? nil : min(since ?? repair, repair) }
        return since
    }

    /// Whether this run resumes a pull an earlier run left unfinished.
    public var resumes: Bool { pull.pages > 0 || pull.next != .first }

    /// The position of the next page, for reports and the ledger (a next link's secrets masked).
    public var position: String {
        if case .url(let link) = pull.next { return "next link " + redacted(link) }
        return pull.next.description
    }

    /// A URL as the ledger and logs may show it (see ``redacted(_:also:)``), this feed's secret
    /// query parameter included.
    func redacted(_ url: String) -> String { Self.redacted(url, also: secretParameters) }

    public func next() -> Step {
        guard !finished else { return .done }
        if pagesThisRun >= settings.maxPages {
            finished = true
            return .parked(reason: "max_pages (\(settings.maxPages)) reached in this run; the pull goes on next run", until: nil)
        }
        let request: HTTPRequest
        switch makeRequest() {
        case .success(let r): request = r
        case .failure(let problem):
            finished = true
            return .failed(Failure(message: problem.message, request: redacted(settings.url), position: position, response: nil, requests: 0, attempts: [], skipping: nil))
        }
        let line = "\(request.method) \(redacted(request.url))"
        let result = runner.fetch(request) { response -> Acceptance<JSONRecordReader.Page> in
            self.accept(response)
        }
        switch result.outcome {
        case .quotaSpent, .comeBackLater, .circuitOpen:
            finished = true
            switch result.pullEnd(now: clock.now()) {
            case .parked(let reason, let until, let quota): return .parked(reason: reason, until: until, quota: quota)
            case .failed(let message):
                return .failed(
                    Failure(
                        message: message, request: line, position: position, response: nil, requests: result.requests,
                        attempts: result.attempts, skipping: nil))
            }
        case .failure(let message, let response):
            finished = true
            pagesThisRun += 1
            failedInARow += 1
            // A feed that skips failed pages still stops after a few in a row: past the end of a
            // listing, or at an OEM that answers nothing useful, there is no next page to find.
            let skip = failedInARow < Self.maxFailedInARow ? skipping() : nil
            var text = message
            if failedInARow >= Self.maxFailedInARow { text += "; \(failedInARow) pages failed in a row, the pull stops" }
            return .failed(
                Failure(
                    message: text, request: line, position: position, response: response, requests: result.requests,
                    attempts: result.attempts, skipping: skip))
        case .success(let page, let response):
            pagesThisRun += 1
            failedInARow = 0
            return .page(deliver(page, response: response, request: line, requests: result.requests, attempts: result.attempts))
        }
    }

    /// Moves past a failed page (`on_failure: continue`), when the pagination allows it.
    public func skip(_ failure: Failure) {
        guard let next = failure.skipping else { return }
        checkpoint = next
        if let p = next.pull {
            pull = p
            finished = false
        }
    }

    // MARK: Requests

    private func makeRequest() -> Result<HTTPRequest, RequestProblem> {
        var parameters = settings.query.map { ($0.name, $0.value) }
        if let inc = settings.incremental, let since = pull.since {
            parameters.append((inc.param, inc.codec.format(Timestamp(microseconds: since))))
        }
        var url = settings.url
        switch (settings.pagination, pull.next) {
        case (.none, _): break
        case (.page(let param, let first, let sizeParam, let size), let next):
            let n: Int
            if case .page(let p) = next { n = p } else { n = first }
            parameters.append((param, String(n)))
            if let sizeParam, let size { parameters.append((sizeParam, String(size))) }
        case (.offset(let param, let limitParam, let limit), let next):
            let o: Int
            if case .offset(let v) = next { o = v } else { o = 0 }
            parameters.append((param, String(o)))
            parameters.append((limitParam, String(limit)))
        case (.cursor(let param, _, let sizeParam, let size), let next):
            if case .cursor(let c) = next { parameters.append((param, c)) }
            if let sizeParam, let size { parameters.append((sizeParam, String(size))) }
        case (.nextLink(_, _, let sizeParam, let size), let next):
            if case .url(let link) = next {
                // The OEM's link carries every parameter: it is used as it is, on the same host only.
                guard let resolved = Self.resolve(link, against: settings.url) else {
                    return .failure(RequestProblem(message: "the next link '\(Self.redacted(link))' is not a URL"))
                }
                guard RequestRunner.host(of: resolved) == RequestRunner.host(of: settings.url), resolved.hasPrefix(Self.scheme(settings.url)) else {
                    return .failure(
                        RequestProblem(
                            message: "the next link points to \(RequestRunner.host(of: resolved)), not \(RequestRunner.host(of: settings.url)): not followed with the feed's credentials"))
                }
                return .success(HTTPRequest(url: resolved, headers: settings.headers.map { ($0.name, $0.value) } + [("Accept", "application/json")]))
            }
            if let sizeParam, let size { parameters.append((sizeParam, String(size))) }
        }
        url = URLQuery.url(url, adding: parameters)
        return .success(HTTPRequest(url: url, headers: settings.headers.map { ($0.name, $0.value) } + [("Accept", "application/json")]))
    }

    /// Reads a 2xx body: invalid JSON is worth a retry; an error code in the body is as its rule says.
    private func accept(_ response: HTTPResponse) -> Acceptance<JSONRecordReader.Page> {
        let page: JSONRecordReader.Page
        do throws(JSONPayloadError) {
            page = try reader.read(response.body, firstLine: 1)
        } catch {
            if let rule = settings.bodyErrors, let verdict = bodyError(rule, in: response.body) { return verdict }
            return .retry(error.isShape ? "unexpected payload: \(error.description)" : error.description)
        }
        if let rule = settings.bodyErrors {
            guard let code = page.captures[rule.code]?.fieldText else {
                // The envelope the rule describes is not there: an error page, a proxy's answer.
                return .retry("the response body has no error code at \(rule.code.text)")
            }
            if !rule.success.contains(code) {
                return verdict(rule, code: code, message: rule.message.flatMap { page.captures[$0]?.fieldText })
            }
        }
        return .accept(page)
    }

    /// The body-error verdict for a body whose records could not be read (an error envelope has no records).
    private func bodyError(_ rule: BodyErrorRule, in body: [UInt8]) -> Acceptance<JSONRecordReader.Page>? {
        guard let doc = try? JSONParser.parse(body) else { return nil }
        let code = doc.values(at: rule.code.segments[...]).first?.fieldText
        guard let code, !rule.success.contains(code) else { return nil }
        let message = rule.message.flatMap { doc.values(at: $0.segments[...]).first?.fieldText }
        return verdict(rule, code: code, message: message)
    }

    private func verdict(_ rule: BodyErrorRule, code: String, message: String?) -> Acceptance<JSONRecordReader.Page> {
        // The OEM's message is its own text: it can quote a customer or a key. Masked here, where
        // it enters; the whole body stays in the ledger's payload (`batches show --show-values`).
        let text = "error code \(Redact.code(code)) in the response body" + (message.map { ": " + Redact.outside($0, limit: 160) } ?? "")
        return rule.retryable.contains(code) ? .retry(text) : .reject(text)
    }

    // MARK: Pages

    private func deliver(_ page: JSONRecordReader.Page, response: HTTPResponse, request: String, requests: Int, attempts: [AttemptNote]) -> Page {
        let position = self.position
        var kept: [RawRecord] = []
        kept.reserveCapacity(page.records.count)
        var duplicates = 0
        var newest = checkpoint.hwm
        let overlap = settings.incremental.map { Int64($0.overlap.seconds * 1_000_000) } ?? 0
        let repairing = pull.repairs > 0
        for record in page.records {
            let id = idField.map { record.fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            let time = timeField.flatMap { settings.incremental?.codec.parse(record.fields[$0]) }?.microseconds
            if let id {
                let key = id.hashValue
                var hasher = Hasher()
                hasher.combine(id)
                hasher.combine(time)
                let version = hasher.finalize()
                if passSeen.contains(key) { shifted = true } else if passSeen.count < Self.maxTracked { passSeen.insert(key) }
                let duplicate: Bool
                if let time {
                    duplicate = previouslySeen[id] == time || runVersions.contains(version)
                } else {
                    duplicate = repairing && runIDs.contains(key)
                }
                if duplicate {
                    // Still known for the next pull's overlap.
                    if let time { recent[id] = time }
                    duplicates += 1
                    continue
                }
                if runIDs.count < Self.maxTracked {
                    runIDs.insert(key)
                    runVersions.insert(version)
                }
                if let time {
                    let mark = RESTCheckpoint.Mark(t: time, id: id)
                    if newest.map({ $0 < mark }) ?? true { newest = mark }
                    recent[id] = time
                }
            }
            kept.append(record)
        }
        // The newest change time so far bounds the overlap window of what is worth remembering.
        if let newest, recent.count > Self.maxSeen * 2 { recent = recent.filter { $0.value >= newest.t - overlap } }

        let next = nextPage(after: page, response: response, count: page.records.count)
        var after = checkpoint
        after.hwm = newest
        var endsPull = false
        if let next {
            pull.next = next
            pull.pages += 1
            after.pull = pull
        } else if shifted && settings.shifts && pull.repairs < Self.maxRepairs {
            // Records moved while paging: the same pull again, known records dropped.
            pull = RESTCheckpoint.Pull(since: pull.since, next: .first, pages: 0, repairs: pull.repairs + 1)
            shifted = false
            passSeen.removeAll(keepingCapacity: true)
            after.pull = pull
        } else {
            endsPull = true
            finished = true
            after.pull = nil
            after.repairSince = shifted && settings.shifts ? (pull.since ?? Int64.min) : nil
            if let newest, settings.incremental != nil {
                var window = recent.merging(previouslySeen) { a, _ in a }.filter { $0.value >= newest.t - overlap }
                if window.count > Self.maxSeen {
                    window = Dictionary(uniqueKeysWithValues: window.sorted { $0.value > $1.value }.prefix(Self.maxSeen).map { ($0.key, $0.value) })
                }
                after.seen = window.isEmpty ? nil : window
            } else {
                after.seen = nil
            }
        }
        checkpoint = after
        return Page(
            records: kept, read: page, payload: response.body, request: request, position: position,
            positionAfter: endsPull ? "end" : self.position, checkpoint: after, requests: requests, attempts: attempts,
            duplicates: duplicates, endsPull: endsPull)
    }

    /// The next page, or nil at the end of the listing.
    private func nextPage(after page: JSONRecordReader.Page, response: HTTPResponse, count: Int) -> RESTCheckpoint.Next? {
        switch settings.pagination {
        case .none: return nil
        case .page(_, let first, _, let size):
            guard count > 0, size.map({ count >= $0 }) ?? true else { return nil }
            if case .page(let n) = pull.next { return .page(n + 1) }
            return .page(first + 1)
        case .offset(_, _, let limit):
            guard count > 0, count >= limit else { return nil }
            if case .offset(let o) = pull.next { return .offset(o + count) }
            return .offset(count)
        case .cursor(_, let path, _, _):
            guard count > 0, let c = page.captures[path]?.fieldText, !c.isEmpty else { return nil }
            if case .cursor(let previous) = pull.next, previous == c { return nil }  // the same cursor again: a loop
            return .cursor(c)
        case .nextLink(let path, let header, _, _):
            var found = path.flatMap { page.captures[$0]?.fieldText }.flatMap { $0.isEmpty ? nil : $0 }
            if found == nil, header { found = Self.linkNext(response.headerValues("link")) }
            guard let found, count > 0 else { return nil }
            let link = Self.removing(secretParameters, from: found)
            if case .url(let previous) = pull.next, previous == link { return nil }
            return .url(link)
        }
    }

    /// The checkpoint that skips the page that failed: only where the next page is known without it.
    private func skipping() -> RESTCheckpoint? {
        var next: RESTCheckpoint.Next
        switch (settings.pagination, pull.next) {
        case (.page(_, let first, _, _), let n):
            if case .page(let p) = n { next = .page(p + 1) } else { next = .page(first + 1) }
        case (.offset(_, _, let limit), let n):
            if case .offset(let o) = n { next = .offset(o + limit) } else { next = .offset(limit) }
        default:
            return nil
        }
        var c = checkpoint
        var p = pull
        p.next = next
        p.pages += 1
        c.pull = p
        return c
    }

    struct RequestProblem: Error {
        var message: String
    }

    // MARK: URLs

    /// The `rel="next"` target of `Link` header values.
    static func linkNext(_ values: [String]) -> String? {
        for value in values {
            for part in value.split(separator: ",") {
                let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
                let rels = pieces.dropFirst().filter { $0.lowercased().hasPrefix("rel=") }
                if rels.contains(where: { $0.dropFirst(4).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).split(separator: " ").contains("next") }) {
                    return String(target.dropFirst().dropLast())
                }
            }
        }
        return nil
    }

    static func scheme(_ url: String) -> String {
        url.range(of: "://").map { String(url[..<$0.upperBound]) } ?? ""
    }

    /// An absolute URL for `link`: absolute as it is, `/path` on the base's origin, else relative to the base.
    static func resolve(_ link: String, against base: String) -> String? {
        if link.hasPrefix("https://") || link.hasPrefix("http://") { return link }
        let origin = scheme(base) + RequestRunner.host(of: base)
        if link.hasPrefix("/") { return origin + link }
        if link.hasPrefix("?") { return base.prefix { $0 != "?" } + link }  // the same resource, another query
        guard !link.contains("://") else { return nil }
        let path = base.dropFirst(origin.count).prefix { $0 != "?" }
        let dir = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + dir + link
    }

    /// A URL as the ledger and logs may show it: the values of parameters that look like
    /// credentials (`api_key`, `token`, `secret`, `password`, `signature`...), and of those named
    /// in `also`, masked.
    public static func redacted(_ url: String, also: Set<String> = []) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        let sensitive = ["key", "token", "secret", "password", "passwd", "sign", "signature", "auth", "credential"]
        let named = Set(also.map { $0.lowercased() })
        let parts = url[url.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<eq].lowercased()
            return named.contains(name) || sensitive.contains(where: { name.contains($0) }) ? String(pair[...eq]) + "***" : String(pair)
        }
        return String(url[...q]) + parts.joined(separator: "&")
    }

    /// `url` without the query parameters named in `names`.
    static func removing(_ names: Set<String>, from url: String) -> String {
        guard !names.isEmpty, let q = url.firstIndex(of: "?") else { return url }
        let kept = url[url.index(after: q)...].split(separator: "&").filter { pair in
            !names.contains(String(pair.prefix { $0 != "=" }))
        }
        return String(url[..<q]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }
}
