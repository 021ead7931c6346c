import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks
import Yams

/// `kind: rest`: an OEM's REST JSON API, pulled page by page (orders, vehicles, stock).
public struct RESTKind: FeedKind {
    public var name: String { "rest" }
    public var summary: String { "an OEM's REST JSON API, pulled page by page, incrementally by change time" }
    public var format: SourceSpec.Format { .json }

    public var schema: SettingsSchema {
        SettingsSchema([
            .required("url", "The endpoint, https:// (plain http only to loopback, or with allow_http); no user or password in it."),
            .required("credentials", "A name under credentials:."),
            .optional("query", "Constant query parameters: name -> value."),
            .optional("headers", "Constant header fields; not Authorization, X-Api-Key or Cookie (use credentials)."),
            .optional("record_id", "The JSON path of the record's own id (required with incremental)."),
            .block("pagination", default: "{style: none}", "How the listing is paged.", ConfigurationLoader.restPaginationSchema),
            .block("incremental", "Pulls from the last change time on.", ConfigurationLoader.restIncrementalSchema),
            .block("errors", "An error code in a 200 body.", ConfigurationLoader.restErrorsSchema),
            .optional("on_failure", default: "stop", "A page failed after its retries: stop, or continue (page and offset only)."),
            .optional("max_pages", default: "10000", "Pages in one run at most; the pull goes on next run."),
            .optional("stable", default: "true for cursor, else false", "Whether pages stay put when records change while paging."),
            .optional("allow_http", default: "false", "Allow plain http:// to a host other than loopback."),
        ] + ConfigurationLoader.httpKeys)
    }

    public init() {}

    public func read(
        _ block: SettingsBlock, feed: String, loader: ConfigurationLoader, reader: inout YAMLReader, resolve: (String) -> String
    ) -> (any FeedSourceSettings)? {
        let allowHTTP = block["allow_http"].flatMap { reader.bool($0.value, what: "allow_http") } ?? false
        guard let urlEntry = block["url"], let url = loader.readURL(urlEntry.value, what: "url", allowHTTP: allowHTTP, reader: &reader),
            let credEntry = block["credentials"], let credentials = reader.nonEmptyString(credEntry.value, what: "credentials")
        else { return nil }

        var source = RESTSourceSettings(url: url)
        if let q = block["query"] { source.query = loader.readPairs(q.value, what: "query", reader: &reader) }
        if let h = block["headers"] {
            source.headers = loader.readPairs(h.value, what: "headers", reader: &reader)
            for (name, _) in source.headers where ["authorization", "x-api-key", "cookie"].contains(name.lowercased()) {
                reader.error(
                    "113", "a '\(name)' header in the config puts a secret in the file", at: h.value,
                    help: "name the credentials under credentials: (auth: api_key with header: \(name), basic, oauth2)")
            }
        }
        if let r = block["record_id"] { source.recordID = loader.readPath(r.value, what: "record_id", reader: &reader) }
        if let p = block["pagination"] { source.pagination = loader.readPagination(p.value, reader: &reader) ?? .none }
        if let i = block["incremental"] {
            source.incremental = loader.readIncremental(i.value, reader: &reader)
            if source.recordID == nil {
                reader.error(
                    "102", "incremental needs record_id: the record's id, which tells apart records with the same change time",
                    at: i.keyNode, help: "add record_id: orderNo (the JSON path of the id in each record)")
            }
        }
        if let e = block["errors"] { source.bodyErrors = loader.readBodyErrors(e.value, reader: &reader) }
        if let m = block["max_pages"], let n = reader.int(m.value, what: "max_pages", range: 1...10_000_000) { source.maxPages = n }

        var settings = RESTFeedSettings(
            source: source, credentials: credentials, retry: RetryPolicy(), transport: TransportSettings(), clientKeyPassword: nil,
            onFailure: .stop)
        if let o = block["on_failure"],
            let c = reader.choice(o.value, what: "on_failure", allowed: RESTFeedSettings.OnFailure.allCases.map(\.rawValue))
        {
            settings.onFailure = RESTFeedSettings.OnFailure(rawValue: c)!
            switch source.pagination {
            case .page, .offset, .none: break
            case .cursor, .nextLink:
                if settings.onFailure == .continue {
                    reader.error(
                        "104", "on_failure: continue needs page or offset pagination: with a cursor or a next link, the next page is in the page that failed",
                        at: o.value)
                }
            }
        }
        // stable: true says the pages are a keyset that records changing while paging do not shift.
        loader.readHTTP(block, retry: &settings.retry, transport: &settings.transport, password: &settings.clientKeyPassword, reader: &reader, resolve: resolve)
        if let s = block["stable"], let stable = reader.bool(s.value, what: "stable") { settings.source.positional = !stable }
        return settings
    }
}

extension RESTFeedSettings: HTTPFeedSettings {
    public var kind: any FeedKind { RESTKind() }
    public var endpointURL: String { source.url }

    public func open(_ run: SourceRun) -> any FeedSource {
        RESTFeedSource(run, settings: self)
    }

    public func checkpointProblem(_ value: String) -> String? {
        do {
            _ = try RESTCheckpoint.parse(value)
            return nil
        } catch {
            return "not a REST checkpoint: \(error.description)"
        }
    }

    /// The newest change time the feed has (its lag) and the pull in progress.
    public func describe(_ status: inout StatusCommand.FeedStatus, now: Timestamp) {
        guard let stored = status.summary.checkpoint?.position, let c = try? RESTCheckpoint.parse(stored) else { return }
        var parts: [String] = []
        if let hwm = c.hwm {
            parts.append("newest change \(Timestamp(microseconds: hwm.t)) (id \(hwm.id))")
            status.behind(since: hwm.t, now: now)
        }
        if let pull = c.pull { parts.append("pull in progress, next \(pull.next), \(Plural.count(pull.pages, "page")) done") }
        status.position = parts.isEmpty ? "no pull finished yet" : parts.joined(separator: "; ")
    }
}
