import OEMSyncCore

/// What a REST feed asks for and how it walks through the answers.
public struct RESTSourceSettings: Sendable {
    /// The endpoint (without paging or change parameters).
    public var url: String
    /// Constant query parameters, in order.
    public var query: [(name: String, value: String)]
    /// Constant header fields (`Accept-Language: zh-CN`).
    public var headers: [(name: String, value: String)]
    public var pagination: Pagination
    /// The record's own id in the payload: the tie-breaker of the change cursor, and what finds
    /// duplicates and records that moved while paging. Required with `incremental`.
    public var recordID: JSONPath?
    public var incremental: Incremental?
    /// An error reported inside a 200 body.
    public var bodyErrors: BodyErrorRule?
    /// Pages fetched in one run at most; the run then ends checkpointed. Default 10000.
    public var maxPages: Int
    /// Whether pages are positions that shift when records change while paging (then a pull that
    /// sees a record twice is repeated); nil: decided by the pagination (``Pagination/countsPositions``).
    public var positional: Bool?

    var shifts: Bool { positional ?? pagination.countsPositions }

    public init(
        url: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
        pagination: Pagination = .none, recordID: JSONPath? = nil, incremental: Incremental? = nil, bodyErrors: BodyErrorRule? = nil,
        maxPages: Int = 10_000
    ) {
        self.url = url
        self.query = query
        self.headers = headers
        self.pagination = pagination
        self.recordID = recordID
        self.incremental = incremental
        self.bodyErrors = bodyErrors
        self.maxPages = maxPages
    }
}

/// How an API pages its results.
public enum Pagination: Sendable, Hashable {
    /// One request.
    case none
    /// `?page=N` from `first`; the last page is the one with fewer records than `size` (or none).
    case page(param: String, first: Int, sizeParam: String?, size: Int?)
    /// `?offset=N&limit=L`; the last page has fewer than `limit` records.
    case offset(param: String, limitParam: String, limit: Int)
    /// A cursor from the body (`path`), sent back as `param`; no cursor ends the listing.
    case cursor(param: String, path: JSONPath, sizeParam: String?, size: Int?)
    /// The next page's URL: from the body (`path`) and/or the `Link: <...>; rel="next"` header.
    case nextLink(path: JSONPath?, header: Bool, sizeParam: String?, size: Int?)

    /// Whether pages are positions in a list (page numbers, offsets, next links built on them),
    /// which shift when a record moves while the client pages; a cursor is assumed to be a keyset
    /// that does not. `stable:` in the config overrides this.
    public var countsPositions: Bool {
        switch self {
        case .page, .offset, .nextLink: return true
        case .none, .cursor: return false
        }
    }

    /// The paths read from each page's body.
    var bodyPaths: [JSONPath] {
        switch self {
        case .cursor(_, let path, _, _): return [path]
        case .nextLink(let path?, _, _, _): return [path]
        default: return []
        }
    }
}

/// An incremental pull: only what changed since the last one, by a request parameter.
///
/// The checkpoint keeps a high-water mark `(change time, record id)` of what is committed. A pull
/// asks for changes since the mark minus `overlap` (late commits and clock skew at the OEM), and
/// drops again-served records it already has: equal change times are never skipped.
public struct Incremental: Sendable {
    /// The request parameter (`updatedSince`).
    public var param: String
    /// The record's change time in the payload (`updateTime`).
    public var field: JSONPath
    /// Reads the change times and writes the parameter, in the API's format and zone.
    public var codec: any TimeCodec
    /// How far before the mark a pull starts. Default 5 minutes; at least 1 second.
    public var overlap: Duration
    /// The first pull's lower bound; nil for everything.
    public var start: Timestamp?

    public init(param: String, field: JSONPath, codec: any TimeCodec, overlap: Duration = .seconds(300), start: Timestamp? = nil) {
        self.param = param
        self.field = field
        self.codec = codec
        self.overlap = overlap
        self.start = start
    }
}

/// Reads and writes an API's timestamps (`2025-12-01 10:15:00` in Asia/Shanghai, ISO 8601, epoch ms).
public protocol TimeCodec: Sendable {
    func parse(_ text: String) -> Timestamp?
    func format(_ instant: Timestamp) -> String
}

/// An error code inside a 200 body (`{"code": 50001, "msg": "系统繁忙", "data": null}`).
public struct BodyErrorRule: Sendable, Hashable {
    /// Where the code is.
    public var code: JSONPath
    /// The codes that mean success (`0`, `"0"`, `200`: compared as text).
    public var success: Set<String>
    /// Where the message is, shown with the code.
    public var message: JSONPath?
    /// Codes worth retrying (busy, throttled); any other code fails the page at once.
    public var retryable: Set<String>

    public init(code: JSONPath, success: Set<String>, message: JSONPath? = nil, retryable: Set<String> = []) {
        self.code = code
        self.success = success
        self.message = message
        self.retryable = retryable
    }

    var paths: [JSONPath] { [code] + (message.map { [$0] } ?? []) }
}
