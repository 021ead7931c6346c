import Foundation
import OEMSyncCore

/// Where a REST feed stands, stored as JSON in `oemsync_checkpoints.position` and moved in the
/// same transaction as the page it covers.
///
/// ```json
/// {"hwm":{"id":"SO-00042","t":1764555300000000},"kind":"rest",
///  "pull":{"next":"page:4","pages":3,"repairs":0,"since":1764555000000000}}
/// ```
/// - `hwm`: the latest `(change time, record id)` committed, the incremental cursor. A composite,
///   so records that share a change time are told apart.
/// - `pull`: the pull in progress: its lower bound and the next page to ask for. A run that finds
///   it resumes there; a finished pull leaves none.
/// - `seen`: records of the last pull within the overlap window (id -> change time): the next
///   pull gets them again and drops them as duplicates.
public struct RESTCheckpoint: Codable, Sendable, Hashable {
    public struct Mark: Codable, Sendable, Hashable, Comparable {
        /// Change time, microseconds since 1970.
        public var t: Int64
        public var id: String

        public init(t: Int64, id: String) {
            self.t = t
            self.id = id
        }

        public static func < (a: Mark, b: Mark) -> Bool { (a.t, a.id) < (b.t, b.id) }
    }

    /// The page a pull asks for next.
    public enum Next: Sendable, Hashable, Codable, CustomStringConvertible {
        case first
        case page(Int)
        case offset(Int)
        case cursor(String)
        case url(String)

        public var description: String {
            switch self {
            case .first: return "first page"
            case .page(let n): return "page \(n)"
            case .offset(let n): return "offset \(n)"
            case .cursor(let c): return "cursor \(c.count > 24 ? String(c.prefix(24)) + "…" : c)"
            case .url(let u): return "next link \(u)"
            }
        }

        /// Stored as one string: `first`, `page:4`, `offset:200`, `cursor:abc`, `url:https://...`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .first: try c.encode("first")
            case .page(let n): try c.encode("page:\(n)")
            case .offset(let n): try c.encode("offset:\(n)")
            case .cursor(let s): try c.encode("cursor:" + s)
            case .url(let s): try c.encode("url:" + s)
            }
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            if text == "first" {
                self = .first
                return
            }
            let corrupt = DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "next: \(text)"))
            guard let colon = text.firstIndex(of: ":") else { throw corrupt }
            let kind = text[..<colon]
            let value = String(text[text.index(after: colon)...])
            switch kind {
            case "page":
                guard let n = Int(value) else { throw corrupt }
                self = .page(n)
            case "offset":
                guard let n = Int(value) else { throw corrupt }
                self = .offset(n)
            case "cursor": self = .cursor(value)
            case "url": self = .url(value)
            default: throw corrupt
            }
        }
    }

    public struct Pull: Codable, Sendable, Hashable {
        /// The lower bound of the changes asked for (microseconds); nil for everything.
        public var since: Int64?
        public var next: Next
        /// Pages committed in this pull.
        public var pages: Int
        /// Passes repeated because records moved while paging.
        public var repairs: Int

        public init(since: Int64?, next: Next = .first, pages: Int = 0, repairs: Int = 0) {
            self.since = since
            self.next = next
            self.pages = pages
            self.repairs = repairs
        }
    }

    /// Always `rest`: a checkpoint of another kind of feed (a CSV drop's) is never read as this one.
    public private(set) var kind = "rest"
    public var hwm: Mark?
    public var pull: Pull?
    public var seen: [String: Int64]?
    /// Records moved while paging more often than a run could repair: the next pull starts no
    /// later than this, so what the shifting pages hid is fetched then.
    public var repairSince: Int64?

    public init(hwm: Mark? = nil, pull: Pull? = nil, seen: [String: Int64]? = nil, repairSince: Int64? = nil) {
        self.hwm = hwm
        self.pull = pull
        self.seen = seen
        self.repairSince = repairSince
    }

    /// Stable JSON (sorted keys): the checkpoint's compare-and-set compares this text.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ json: String) throws(Unreadable) -> RESTCheckpoint {
        do {
            let c = try JSONDecoder().decode(RESTCheckpoint.self, from: Data(json.utf8))
            guard c.kind == "rest" else { throw Unreadable(description: "kind") }
            return c
        } catch {
            throw Unreadable(description: "the stored checkpoint is not a REST feed's checkpoint (another kind of feed used this name?)")
        }
    }
}
