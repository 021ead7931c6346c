import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import Yams

/// The blocks inside a `rest` source: pagination, incremental pulls, errors in 200 bodies, JSON paths.
extension ConfigurationLoader {
    static let restPaginationSchema = SettingsSchema([
        .required("style", "page, offset, cursor, next_link or none (one request)."),
        .optional("param", default: "page / offset / cursor", "The page number's, offset's or cursor's parameter."),
        .optional("first", default: "1", "page: the first page's number, 0 or 1."),
        .optional("size_param", "page, cursor, next_link: the parameter of the page size asked for (with size)."),
        .optional("size", "The page size asked for; with page, a shorter page is the last."),
        .optional("limit_param", default: "limit", "offset: the page size's parameter."),
        .optional("limit", "offset (required): the page size; a shorter page is the last."),
        .optional("path", "cursor (required), next_link: where the next cursor or link is in the body."),
        .optional("header", default: "true", "next_link: read the Link header when the body has no link."),
    ])
    static let restIncrementalSchema = SettingsSchema([
        .required("param", "The request parameter of the lower bound (updatedSince)."),
        .required("field", "The JSON path of the record's change time."),
        .required("format", "iso8601, epoch_s, epoch_ms, or a pattern with a time."),
    ] + changeTimeKeys)
    /// The change-time keys REST's and SOAP's `incremental:` share.
    static let changeTimeKeys: [SettingKey] = [
        .optional("timezone", default: "UTC", "The zone of times without an offset."),
        .optional("overlap", default: "5m", "How far before the high-water mark a pull starts; at least 1s."),
        .optional("start", default: "everything", "The first pull's lower bound, in format."),
    ]
    static let restErrorsSchema = SettingsSchema([
        .required("code", "The path of an error code in a 200 body."),
        .required("success", "The codes that mean success."),
        .optional("message", "The path of the OEM's message, shown with the code."),
        .optional("retryable", default: "none", "Codes worth retrying."),
    ])
    static let paginationKeys: [String: [String]] = [
        "none": ["style"],
        "page": ["style", "param", "first", "size_param", "size"],
        "offset": ["style", "param", "limit_param", "limit"],
        "cursor": ["style", "param", "path", "size_param", "size"],
        "next_link": ["style", "path", "header", "size_param", "size"],
    ]

    func readPath(_ node: Node, what: String, reader: inout YAMLReader) -> JSONPath? {
        guard let text = reader.nonEmptyString(node, what: what) else { return nil }
        do {
            return try JSONPath(parsing: text)
        } catch {
            reader.error("104", "invalid JSON path '\(text)' in \(what): \(error)", at: node, help: MappingCompiler.pathHelp)
            return nil
        }
    }
    /// A path into the whole response body (`$.data.nextCursor`; a leading `$` is optional).
    func readBodyPath(_ node: Node, what: String, reader: inout YAMLReader) -> JSONPath? {
        guard var path = readPath(node, what: what, reader: &reader) else { return nil }
        if case .parent = path.anchor {
            reader.error("104", "\(what) is a path in the response body, from '$'", at: node)
            return nil
        }
        if path.hasWildcard {
            reader.error("104", "\(what) must name one value, without [*]", at: node)
            return nil
        }
        path.anchor = .root
        return path
    }
    func readPagination(_ node: Node, reader: inout YAMLReader) -> Pagination? {
        guard let keys = reader.entries(node, what: "pagination", allowed: Self.restPaginationSchema.names)
        else { return nil }
        reader.require(Self.restPaginationSchema.requiredNames, in: keys, of: node, what: "pagination")
        guard let s = keys["style"], let style = reader.choice(s.value, what: "pagination style", allowed: ["page", "offset", "cursor", "next_link", "none"])
        else { return nil }
        let allowed = Self.paginationKeys[style]!
        for k in keys where !allowed.contains(k.key) {
            reader.error("101", "\(k.key) does not apply to pagination style \(style)", at: k.keyNode, notes: ["keys for \(style): \(allowed.joined(separator: ", "))"])
        }
        func string(_ key: String, _ fallback: String) -> String { keys[key].flatMap { reader.nonEmptyString($0.value, what: key) } ?? fallback }
        let sizeParam = keys["size_param"].flatMap { reader.nonEmptyString($0.value, what: "size_param") }
        let size = keys["size"].flatMap { reader.int($0.value, what: "size", range: 1...100_000) }
        if (sizeParam == nil) != (size == nil), style != "offset", style != "none" {
            reader.error("104", "give size_param and size together (the page size asked for, and its parameter)", at: node)
        }
        switch style {
        case "page":
            let first = keys["first"].flatMap { reader.int($0.value, what: "first", range: 0...1) } ?? 1
            return .page(param: string("param", "page"), first: first, sizeParam: sizeParam, size: size)
        case "offset":
            reader.require(["limit"], in: keys, of: node, what: "offset pagination")
            let limit = keys["limit"].flatMap { reader.int($0.value, what: "limit", range: 1...100_000) } ?? 100
            return .offset(param: string("param", "offset"), limitParam: string("limit_param", "limit"), limit: limit)
        case "cursor":
            reader.require(["path"], in: keys, of: node, what: "cursor pagination")
            guard let p = keys["path"], let path = readBodyPath(p.value, what: "the cursor path", reader: &reader) else { return nil }
            return .cursor(param: string("param", "cursor"), path: path, sizeParam: sizeParam, size: size)
        case "next_link":
            let path = keys["path"].flatMap { readBodyPath($0.value, what: "the next link path", reader: &reader) }
            let header = keys["header"].flatMap { reader.bool($0.value, what: "header") } ?? true
            if path == nil && !header {
                reader.error("104", "next_link needs a path in the body, or header: true (the Link header)", at: node)
            }
            return .nextLink(path: path, header: header, sizeParam: sizeParam, size: size)
        default:
            return Pagination.none
        }
    }
    func readIncremental(_ node: Node, reader: inout YAMLReader) -> Incremental? {
        guard let keys = reader.entries(node, what: "incremental", allowed: Self.restIncrementalSchema.names) else { return nil }
        reader.require(Self.restIncrementalSchema.requiredNames, in: keys, of: node, what: "incremental")
        let times = readChangeTimes(keys, reader: &reader)
        guard let p = keys["param"].flatMap({ reader.nonEmptyString($0.value, what: "param") }),
            let fieldNode = keys["field"], let field = readPath(fieldNode.value, what: "the change-time field", reader: &reader),
            let times
        else { return nil }
        return Incremental(param: p, field: field, codec: times.codec, overlap: times.overlap, start: times.start)
    }
    func readBodyErrors(_ node: Node, reader: inout YAMLReader) -> BodyErrorRule? {
        guard let keys = reader.entries(node, what: "errors", allowed: Self.restErrorsSchema.names) else { return nil }
        reader.require(Self.restErrorsSchema.requiredNames, in: keys, of: node, what: "errors")
        func codes(_ key: String) -> Set<String> {
            guard let e = keys[key], let items = reader.sequence(e.value, what: key, allowScalar: true) else { return [] }
            var out: Set<String> = []
            for item in items {
                if case .scalar(let s) = item { out.insert(s.string) } else { reader.error("103", "\(key) lists codes (numbers or strings)", at: item) }
            }
            return out
        }
        guard let c = keys["code"], let code = readBodyPath(c.value, what: "the error code path", reader: &reader) else { return nil }
        let success = codes("success")
        if success.isEmpty, let e = keys["success"] { reader.error("104", "success needs at least one code", at: e.value) }
        let message = keys["message"].flatMap { readBodyPath($0.value, what: "the error message path", reader: &reader) }
        return BodyErrorRule(code: code, success: success, message: message, retryable: codes("retryable"))
    }
}
