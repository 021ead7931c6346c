import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import Yams

/// The `soap` source of a feed (codes `C1xx`, as for REST).
extension ConfigurationLoader {
    static let soapKeys = [
        "kind", "url", "credentials", "version", "action", "body", "namespaces", "pagination", "incremental", "message_id",
        "application_error", "retry", "timeout", "connect_timeout", "max_response_bytes", "tls", "max_pages", "batch_rows",
        "spool_directory", "allow_http",
    ]

    func readSOAP(_ keys: [YAMLReader.Entry], node: Node, feed: String, reader: inout YAMLReader, resolve: (String) -> String) -> SOAPFeedSettings? {
        func value(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
        reader.require(["url", "credentials", "action", "body"], in: keys, of: node, what: "the source of feed '\(feed)'")
        let allowHTTP = value("allow_http").flatMap { reader.bool($0.value, what: "allow_http") } ?? false
        let url = value("url").flatMap { readURL($0.value, what: "url", allowHTTP: allowHTTP, reader: &reader) }
        let credentials = value("credentials").flatMap { reader.nonEmptyString($0.value, what: "credentials") }
        let action = value("action").flatMap { reader.nonEmptyString($0.value, what: "action") }
        var version = SOAPRequestBuilder.Version.v11
        if let v = value("version"), let text = reader.choice(v.value, what: "SOAP version", allowed: ["1.1", "1.2"]) {
            version = SOAPRequestBuilder.Version(rawValue: text)!
        }
        var namespaces: [String: String] = [:]
        if let n = value("namespaces") {
            for (prefix, uri) in readPairs(n.value, what: "namespaces", reader: &reader) {
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
        if let p = value("pagination"), let keys = reader.entries(p.value, what: "pagination", allowed: ["style", "first", "size", "path"]) {
            func v(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
            reader.require(["style"], in: keys, of: p.value, what: "pagination")
            let style = v("style").flatMap { reader.choice($0.value, what: "pagination style", allowed: ["none", "page", "continuation"]) }
            let allowed = ["none": ["style"], "page": ["style", "first", "size"], "continuation": ["style", "path", "size"]]
            for e in keys where style != nil && !allowed[style!]!.contains(e.key) {
                reader.error("101", "\(e.key) does not apply to pagination style \(style!)", at: e.keyNode, notes: ["keys: \(allowed[style!]!.joined(separator: ", "))"])
            }
            let size = v("size").flatMap { reader.int($0.value, what: "size", range: 1...1_000_000) }
            switch style {
            case "page":
                reader.require(["size"], in: keys, of: p.value, what: "page pagination (a page with fewer records is the last)")
                let first = v("first").flatMap { reader.int($0.value, what: "first", range: 0...1_000_000) } ?? 1
                if let size { pagination = .page(first: first, size: size) }
                placeholdersUsed = ["page"]
            case "continuation":
                reader.require(["path"], in: keys, of: p.value, what: "continuation pagination")
                if let c = v("path"), let at = path(c.value, what: "the continuation path") { pagination = .continuation(path: at, size: size) }
                placeholdersUsed = ["continuation"]
            default: break
            }
        }
        var incremental: SOAPIncremental?
        if let i = value("incremental"), let keys = reader.entries(i.value, what: "incremental", allowed: ["format", "timezone", "overlap", "start"]) {
            reader.require(["format"], in: keys, of: i.value, what: "incremental")
            if let times = readChangeTimes(keys, reader: &reader) {
                incremental = SOAPIncremental(codec: times.codec, overlap: times.overlap, start: times.start)
            }
            placeholdersUsed.insert("since")
        }
        var body: SOAPTemplate?
        if let b = value("body"), let text = reader.nonEmptyString(b.value, what: "body") {
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
        if let m = value("message_id") {
            if case .scalar(let s) = m.value, ["none", "false"].contains(s.string) {
                defaultMessageID = false
            } else {
                messageID = path(m.value, what: "message_id")
            }
        }
        var applicationError: ApplicationErrorRule?
        if let e = value("application_error"), let keys = reader.entries(e.value, what: "application_error", allowed: Self.errorKeys) {
            func v(_ key: String) -> YAMLReader.Entry? { keys.first { $0.key == key } }
            reader.require(["code"], in: keys, of: e.value, what: "application_error")
            func codes(_ key: String) -> Set<String> {
                guard let entry = v(key), let list = reader.stringList(entry.value, what: key, allowScalar: true) else { return [] }
                return Set(list)
            }
            if let c = v("code"), let code = path(c.value, what: "the application error code path") {
                let message = v("message").flatMap { path($0.value, what: "the application error message path") }
                applicationError = ApplicationErrorRule(code: code, success: codes("success"), message: message, retryable: codes("retryable"))
            }
        }
        guard let url, let credentials, let action, let body else { return nil }
        var source = SOAPSourceSettings(
            url: url, version: version, action: action, body: body, pagination: pagination, messageID: messageID,
            applicationError: applicationError, incremental: incremental)
        if let m = value("max_pages"), let n = reader.int(m.value, what: "max_pages", range: 1...10_000_000) { source.maxPages = n }
        if let b = value("batch_rows"), let n = reader.int(b.value, what: "batch_rows", range: 1...1_000_000) { source.batchRecords = n }
        if let d = value("spool_directory"), let dir = reader.nonEmptyString(d.value, what: "spool_directory") { source.spoolDirectory = resolve(dir) }
        var settings = SOAPFeedSettings(
            source: source, credentials: credentials, retry: RetryPolicy(), transport: TransportSettings(maxResponseBytes: 2 << 30),
            clientKeyPassword: nil, defaultMessageID: defaultMessageID)
        readHTTP(keys, retry: &settings.retry, transport: &settings.transport, password: &settings.clientKeyPassword, reader: &reader, resolve: resolve)
        return settings
    }
}
