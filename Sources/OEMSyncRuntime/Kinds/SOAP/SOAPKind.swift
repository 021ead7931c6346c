import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks
import Yams

/// `kind: soap`: an OEM's SOAP service (STAR documents), asked message by message.
public struct SOAPKind: FeedKind {
    public var name: String { "soap" }
    public var summary: String { "an OEM's SOAP service (STAR), answers spooled to disk and read as they stream" }
    public var format: SourceSpec.Format { .xml }

    public var schema: SettingsSchema {
        SettingsSchema([
            .required("url", "The endpoint, as for rest (https://)."),
            .required("credentials", "A name under credentials: (ws_security or basic)."),
            .optional("version", default: "\"1.1\"", "\"1.1\" (text/xml, SOAPAction) or \"1.2\" (application/soap+xml)."),
            .required("action", "The operation's action URI."),
            .required("body", "The Body's content, with {{continuation}}, {{page}}, {{page_size}}, {{since}} filled in."),
            .optional("namespaces", "Prefix -> namespace URI, for the paths below."),
            .block("pagination", default: "{style: none}", "How the answers are paged.", Self.paginationSchema),
            .block("incremental", "{{since}}: the start of the last complete pull minus overlap.", Self.incrementalSchema),
            .optional("message_id", default: "the document's ApplicationArea/BODID", "The path of the message's unique id; none for none."),
            .block("application_error", "An application error inside a well-formed answer (a STAR ConfirmBOD).", Self.applicationErrorSchema),
            .optional("max_pages", default: "10000", "Requests in one run at most; the pull goes on next run."),
            .optional("batch_rows", default: "10000", "Records per batch within one answer."),
            .optional("spool_directory", default: "the system's temporary directory", "Where answers are written while they are read."),
            .optional("allow_http", default: "false", "Allow plain http:// to a host other than loopback."),
        ] + ConfigurationLoader.httpKeys)
    }

    static let paginationSchema = SettingsSchema([
        .required("style", "continuation, page or none (one request)."),
        .optional("path", "continuation (required): the absolute path of the next {{continuation}} in the answer."),
        .optional("first", default: "1", "page: {{page}} counts from first."),
        .optional("size", "{{page_size}}; page (required): an answer with fewer records is the last."),
    ])
    static let incrementalSchema = SettingsSchema(
        [.required("format", "iso8601, epoch_s, epoch_ms, or a pattern with a time: how {{since}} is written.")] + ConfigurationLoader.changeTimeKeys)
    static let applicationErrorSchema = SettingsSchema([
        .required("code", "The absolute path of the error code; present and not in success, the page fails."),
        .optional("success", default: "none", "Codes that mean success."),
        .optional("message", "The path of the message shown with the code."),
        .optional("retryable", default: "none", "Codes worth asking again."),
    ])

    public init() {}

    public func read(
        _ block: SettingsBlock, feed: String, loader: ConfigurationLoader, reader: inout YAMLReader, resolve: (String) -> String
    ) -> (any FeedSourceSettings)? {
        let allowHTTP = block["allow_http"].flatMap { reader.bool($0.value, what: "allow_http") } ?? false
        let url = block["url"].flatMap { loader.readURL($0.value, what: "url", allowHTTP: allowHTTP, reader: &reader) }
        let credentials = block["credentials"].flatMap { reader.nonEmptyString($0.value, what: "credentials") }
        let action = block["action"].flatMap { reader.nonEmptyString($0.value, what: "action") }
        var version = SOAPRequestBuilder.Version.v11
        if let v = block["version"], let text = reader.choice(v.value, what: "SOAP version", allowed: ["1.1", "1.2"]) {
            version = SOAPRequestBuilder.Version(rawValue: text)!
        }
        var namespaces: [String: String] = [:]
        if let n = block["namespaces"] {
            for (prefix, uri) in loader.readPairs(n.value, what: "namespaces", reader: &reader) {
                if prefix.isEmpty || !prefix.allSatisfy(XMLPath.isNameCharacter) {
                    reader.error("104", "'\(prefix)' is not a namespace prefix", at: n.value)
                } else if uri.isEmpty {
                    reader.error("104", "the namespace of prefix '\(prefix)' is empty", at: n.value)
                } else {
                    namespaces[prefix] = uri
                }
            }
        }
        func path(_ node: Node, what: String) -> XMLPath? {
            guard let text = reader.nonEmptyString(node, what: what) else { return nil }
            do {
                let p = try XMLPath(text, namespaces: namespaces)
                guard p.absolute else {
                    reader.error("104", "\(what) '\(text)' must be absolute, from the root (/s:Envelope/...)", at: node)
                    return nil
                }
                return p
            } catch {
                reader.error("104", "invalid XML path '\(text)' in \(what): \(error.description)", at: node, help: "bind its prefixes under namespaces:")
                return nil
            }
        }

        var pagination = SOAPPagination.none
        var placeholdersUsed: Set<String> = []
        if let p = block["pagination"], let keys = reader.entries(p.value, what: "pagination", allowed: Self.paginationSchema.names) {
            reader.require(Self.paginationSchema.requiredNames, in: keys, of: p.value, what: "pagination")
            let style = keys["style"].flatMap { reader.choice($0.value, what: "pagination style", allowed: ["none", "page", "continuation"]) }
            let allowed = ["none": ["style"], "page": ["style", "first", "size"], "continuation": ["style", "path", "size"]]
            for e in keys where style != nil && !allowed[style!]!.contains(e.key) {
                reader.error("101", "\(e.key) does not apply to pagination style \(style!)", at: e.keyNode, notes: ["keys: \(allowed[style!]!.joined(separator: ", "))"])
            }
            let size = keys["size"].flatMap { reader.int($0.value, what: "size", range: 1...1_000_000) }
            switch style {
            case "page":
                reader.require(["size"], in: keys, of: p.value, what: "page pagination (a page with fewer records is the last)")
                let first = keys["first"].flatMap { reader.int($0.value, what: "first", range: 0...1_000_000) } ?? 1
                if let size { pagination = .page(first: first, size: size) }
                placeholdersUsed = ["page"]
            case "continuation":
                reader.require(["path"], in: keys, of: p.value, what: "continuation pagination")
                if let c = keys["path"], let at = path(c.value, what: "the continuation path") { pagination = .continuation(path: at, size: size) }
                placeholdersUsed = ["continuation"]
            default: break
            }
        }
        var incremental: SOAPIncremental?
        if let i = block["incremental"], let keys = reader.entries(i.value, what: "incremental", allowed: Self.incrementalSchema.names) {
            reader.require(Self.incrementalSchema.requiredNames, in: keys, of: i.value, what: "incremental")
            if let times = loader.readChangeTimes(keys, reader: &reader) {
                incremental = SOAPIncremental(codec: times.codec, overlap: times.overlap, start: times.start)
            }
            placeholdersUsed.insert("since")
        }
        var body: SOAPTemplate?
        if let b = block["body"], let text = reader.nonEmptyString(b.value, what: "body") {
            do {
                let template = try SOAPTemplate(text, allowed: SOAPSourceSettings.placeholders)
                body = template
                // A paging or change filter the request never sends would ask for the same page forever.
                for needed in placeholdersUsed.sorted() where !template.placeholders.contains(needed) {
                    reader.error(
                        "104", "the body never sends {{\(needed)}}, which the \(needed == "since" ? "incremental pull" : "pagination") needs", at: b.value,
                        help: "put {{\(needed)}} where the operation takes it")
                }
                for used in template.placeholders where !placeholdersUsed.contains(used) && used != "page_size" {
                    reader.error("104", "the body uses {{\(used)}}, but the feed has no \(used == "since" ? "incremental:" : "pagination that sets it")", at: b.value)
                }
            } catch {
                reader.error("104", error.description, at: b.value)
            }
        }
        var messageID: XMLPath?
        var defaultMessageID = true
        if let m = block["message_id"] {
            if case .scalar(let s) = m.value, ["none", "false"].contains(s.string) {
                defaultMessageID = false
            } else {
                messageID = path(m.value, what: "message_id")
            }
        }
        var applicationError: ApplicationErrorRule?
        if let e = block["application_error"], let keys = reader.entries(e.value, what: "application_error", allowed: Self.applicationErrorSchema.names) {
            reader.require(Self.applicationErrorSchema.requiredNames, in: keys, of: e.value, what: "application_error")
            func codes(_ key: String) -> Set<String> {
                guard let entry = keys[key], let list = reader.stringList(entry.value, what: key, allowScalar: true) else { return [] }
                return Set(list)
            }
            if let c = keys["code"], let code = path(c.value, what: "the application error code path") {
                let message = keys["message"].flatMap { path($0.value, what: "the application error message path") }
                applicationError = ApplicationErrorRule(code: code, success: codes("success"), message: message, retryable: codes("retryable"))
            }
        }
        guard let url, let credentials, let action, let body else { return nil }
        var source = SOAPSourceSettings(
            url: url, version: version, action: action, body: body, pagination: pagination, messageID: messageID,
            applicationError: applicationError, incremental: incremental)
        if let m = block["max_pages"], let n = reader.int(m.value, what: "max_pages", range: 1...10_000_000) { source.maxPages = n }
        if let b = block["batch_rows"], let n = reader.int(b.value, what: "batch_rows", range: 1...1_000_000) { source.batchRecords = n }
        if let d = block["spool_directory"], let dir = reader.nonEmptyString(d.value, what: "spool_directory") { source.spoolDirectory = resolve(dir) }
        var settings = SOAPFeedSettings(
            source: source, credentials: credentials, retry: RetryPolicy(), transport: TransportSettings(maxResponseBytes: 2 << 30),
            clientKeyPassword: nil, defaultMessageID: defaultMessageID)
        loader.readHTTP(block, retry: &settings.retry, transport: &settings.transport, password: &settings.clientKeyPassword, reader: &reader, resolve: resolve)
        return settings
    }
}

extension SOAPFeedSettings: HTTPFeedSettings {
    public var kind: any FeedKind { SOAPKind() }
    public var endpointURL: String { source.url }

    public func open(_ run: SourceRun) -> any FeedSource {
        SOAPFeedSource(run, settings: self)
    }

    public func checkpointProblem(_ value: String) -> String? {
        do {
            _ = try SOAPCheckpoint.parse(value)
            return nil
        } catch {
            return "not a SOAP checkpoint: \(error.description)"
        }
    }

    /// When the last complete pull started (its lag) and the pull in progress.
    public func describe(_ status: inout StatusCommand.FeedStatus, now: Timestamp) {
        guard let stored = status.summary.checkpoint?.position, let c = try? SOAPCheckpoint.parse(stored) else { return }
        var parts: [String] = []
        if let last = c.lastPull {
            parts.append("last complete pull started \(Timestamp(microseconds: last))")
            status.behind(since: last, now: now)
        }
        if c.inPull {
            var text = "pull in progress, next \(SOAPSource.position(of: c)), \(Plural.count(c.pages, "page")) done"
            if let m = c.message { text += ", \(m.done) records of message \(m.id ?? "(no id)") in" }
            parts.append(text)
        }
        status.position = parts.isEmpty ? "no pull finished yet" : parts.joined(separator: "; ")
    }
}
