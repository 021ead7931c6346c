import Foundation
import OEMSyncCore

/// What a SOAP feed asks for and how it reads the answers: the endpoint, the request, the paging,
/// the business document's message id, and the rule for application errors carried in the document.
public struct SOAPSourceSettings: Sendable {
    public var url: String
    public var version: SOAPRequestBuilder.Version
    /// The operation's action URI.
    public var action: String
    /// The body of the request, with `{{since}}`, `{{page}}`, `{{page_size}}`, `{{continuation}}`.
    public var body: SOAPTemplate
    public var pagination: SOAPPagination
    /// The element holding the message's unique id (STAR: `ApplicationArea/BODID`), recorded in the
    /// ledger and used to skip a message committed before. Nil: messages are not told apart.
    public var messageID: XMLPath?
    public var applicationError: ApplicationErrorRule?
    public var incremental: SOAPIncremental?
    /// Records per batch within one message (a 500 MB answer is many batches).
    public var batchRecords: Int
    /// Pages a run asks for at most.
    public var maxPages: Int
    /// Where answers are written while they are read (they are read twice and never held in memory).
    public var spoolDirectory: String

    public static let placeholders: Set<String> = ["since", "page", "page_size", "continuation"]

    public init(
        url: String, version: SOAPRequestBuilder.Version, action: String, body: SOAPTemplate, pagination: SOAPPagination = .none,
        messageID: XMLPath? = nil, applicationError: ApplicationErrorRule? = nil, incremental: SOAPIncremental? = nil,
        batchRecords: Int = 10_000, maxPages: Int = 10_000, spoolDirectory: String = NSTemporaryDirectory()
    ) {
        self.url = url
        self.version = version
        self.action = action
        self.body = body
        self.pagination = pagination
        self.messageID = messageID
        self.applicationError = applicationError
        self.incremental = incremental
        self.batchRecords = batchRecords
        self.maxPages = maxPages
        self.spoolDirectory = spoolDirectory
    }
}

public enum SOAPPagination: Sendable, Hashable {
    /// One request is the whole answer.
    case none
    /// `{{page}}` counts from `first`; the listing ends at a page with fewer than `size` records.
    case page(first: Int, size: Int)
    /// The answer names the next request's `{{continuation}}` at `path`; the listing ends when it
    /// is empty or absent (or repeats the one just used).
    case continuation(path: XMLPath, size: Int?)
}

/// `{{since}}`: the start of the last complete pull minus `overlap`, in the OEM's format and zone.
public struct SOAPIncremental: Sendable {
    public var codec: any TimeCodec
    public var overlap: Duration
    /// The first pull's lower bound; nil: the first pull sends an empty `{{since}}`.
    public var start: Timestamp?

    public init(codec: any TimeCodec, overlap: Duration, start: Timestamp?) {
        self.codec = codec
        self.overlap = overlap
        self.start = start
    }
}

/// An application error inside a well-formed answer (STAR: a `ConfirmBOD` with a
/// `BODFailureMessage`; application errors are not SOAP Faults): the element at `code` holds the
/// error code. Present and not in `success` (any value, when `success` is empty), the page fails;
/// a code in `retryable` is asked again.
public struct ApplicationErrorRule: Sendable, Hashable {
    public var code: XMLPath
    public var success: Set<String>
    public var message: XMLPath?
    public var retryable: Set<String>

    public init(code: XMLPath, success: Set<String> = [], message: XMLPath? = nil, retryable: Set<String> = []) {
        self.code = code
        self.success = success
        self.message = message
        self.retryable = retryable
    }
}

/// Where a SOAP feed stands, stored as JSON in the feed's checkpoint.
public struct SOAPCheckpoint: Codable, Sendable, Hashable {
    /// The next request's page or continuation; both nil: the first page.
    public var page: Int?
    public var continuation: String?
    /// Pages of the current pull done.
    public var pages = 0
    /// The lower bound of the current pull (µs since 1970), and when it started.
    public var since: Int64?
    public var pullStarted: Int64?
    /// When the last complete pull started: the next pull's `{{since}}` (minus the overlap).
    public var lastPull: Int64?
    /// A message partly committed: its id and how many of its records are in.
    public var message: InMessage?

    public struct InMessage: Codable, Sendable, Hashable {
        public var id: String?
        public var done: Int
    }

    public init() {}

    /// Whether a pull is under way (a later page, or a message partly committed).
    public var inPull: Bool { page != nil || continuation != nil || message != nil || pullStarted != nil }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ text: String) throws(Unreadable) -> SOAPCheckpoint {
        do {
            return try JSONDecoder().decode(SOAPCheckpoint.self, from: Data(text.utf8))
        } catch {
            throw Unreadable(description: "the feed's checkpoint is not a SOAP checkpoint (\(text.prefix(80))): reset it with oemsync checkpoint reset")
        }
    }
}
