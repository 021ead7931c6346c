import OEMSyncCore

/// One record found in a JSON payload.
public struct JSONRecord: Sendable {
    public var value: JSONValue
    /// The records enclosing this one, outermost first (for `^` paths of nested records paths).
    public var parents: [JSONValue]
    /// Where the record's exact text is in the payload, when it was read straight from it.
    public var byteRange: Range<Int>?
}

/// What one pass over a payload found: the records and the values at the capture paths.
public struct JSONPage: Sendable {
    public var records: [JSONRecord] = []
    /// The value at each capture path that exists in the payload.
    public var captures: [JSONPath: JSONValue] = [:]
}

/// A payload that is not valid JSON, or not of the shape the mapping expects.
public struct JSONPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    /// True when the text is valid JSON but the records are not where the mapping says.
    public var isShape: Bool

    init(_ syntax: JSONSyntaxError) {
        description = syntax.description
        isShape = false
    }

    init(shape: String) {
        description = shape
        isShape = true
    }
}

/// Finds the records of a payload in one pass, validating the whole text.
///
/// Only what is needed is built as values: the elements of the records array (one at a time, from
/// the payload bytes, with their exact byte ranges) and the values at the capture paths (an error
/// code, the next cursor, an envelope field). Everything else is checked and skipped.
///
/// The records path's containers must exist: a missing `data` in `$.data.items[*]` means the OEM
/// sent something else (an error page, a changed API) and is an error, never zero records; `null`
/// or `[]` where the array is expected is zero records. A `null` container on the way
/// (`"data": null`) is zero records only when `nullContainers` says so (the payload's error code
/// was checked and says success), an error otherwise.
public struct JSONRecordWalker: Sendable {
    public let records: JSONPath
    public let captures: [JSONPath]
    public let nullContainers: Bool
    private let root: Node

    /// - Parameters:
    ///   - records: where the records are, from the document root; up to the first `[*]` it is
    ///     followed while reading, the rest on each element.
    ///   - captures: root paths whose values are wanted; they must not contain `[*]`.
    public init(records: JSONPath, captures: [JSONPath] = [], nullContainers: Bool = false) {
        self.records = records
        self.captures = captures
        self.nullContainers = nullContainers
        let root = Node()
        var node = root
        let segments = records.segments
        let firstWildcard = segments.firstIndex(of: .wildcard)
        root.onRecordsPath = true
        for segment in segments.prefix(firstWildcard ?? segments.count) {
            node = node.child(segment)
            node.onRecordsPath = true
        }
        if let w = firstWildcard {
            node.recordsRest = Array(segments[(w + 1)...])
        } else {
            node.singleRecord = true
        }
        for (id, path) in captures.enumerated() {
            var n = root
            precondition(!path.hasWildcard, "capture paths are single values")
            for segment in path.segments { n = n.child(segment) }
            n.captureIDs.append(id)
        }
        self.root = root
    }

    final class Node: @unchecked Sendable {
        var keys: [String: Node] = [:]
        var indexes: [Int: Node] = [:]
        var captureIDs: [Int] = []
        /// Set on the node holding the records array: the path applied to each element.
        var recordsRest: [JSONPath.Segment]?
        /// Set when the records path has no `[*]`: the value itself is the one record.
        var singleRecord = false
        var onRecordsPath = false

        func child(_ segment: JSONPath.Segment) -> Node {
            switch segment {
            case .key(let k):
                if let n = keys[k] { return n }
                let n = Node()
                keys[k] = n
                return n
            case .index(let i):
                if let n = indexes[i] { return n }
                let n = Node()
                indexes[i] = n
                return n
            case .wildcard:
                return self
            }
        }

        /// Whether the value here must be built whole (a capture, a negative index, the single record).
        var needsValue: Bool { !captureIDs.isEmpty || singleRecord || indexes.keys.contains { $0 < 0 } }
    }

    public func walk(_ payload: [UInt8]) throws(JSONPayloadError) -> JSONPage {
        try payload.withUnsafeBufferPointer { (buffer) throws(JSONPayloadError) -> JSONPage in
            var walk = Walk(parser: JSONParser(buffer), captures: captures, nullContainers: nullContainers)
            do {
                try walk.visit(root, path: "$", depth: 0)
                try walk.parser.expectEnd()
            } catch let e as JSONSyntaxError {
                throw JSONPayloadError(e)
            } catch let e as JSONPayloadError {
                throw e
            } catch {
                throw JSONPayloadError(shape: "\(error)")
            }
            return walk.page
        }
    }

    private struct Walk {
        var parser: JSONParser
        let captures: [JSONPath]
        let nullContainers: Bool
        var page = JSONPage()

        init(parser: JSONParser, captures: [JSONPath], nullContainers: Bool) {
            self.parser = parser
            self.captures = captures
            self.nullContainers = nullContainers
        }

        /// `null` where a container of the records path should be.
        func checkNull(_ node: Node, path: String) throws {
            guard node.onRecordsPath, node.recordsRest == nil, !node.singleRecord, !nullContainers else { return }
            throw JSONPayloadError(shape: "the records are not where the mapping says: \(path) is null")
        }

        mutating func visit(_ node: Node, path: String, depth: Int) throws {
            if node.needsValue {
                parser.skipWhitespace()
                let start = parser.i
                let value = try parser.parseValue(depth: depth)
                try evaluate(node, value, path: path, raw: start..<parser.i)
                return
            }
            let b = try parser.peek()
            if b == UInt8(ascii: "{"), !node.keys.isEmpty {
                if node.recordsRest != nil {
                    throw JSONPayloadError(shape: "the records are not where the mapping says: \(path) is an object, expected an array")
                }
                parser.i += 1
                var seen: Set<String> = []
                if try parser.peek() == UInt8(ascii: "}") {
                    parser.i += 1
                } else {
                    while true {
                        guard try parser.peek() == UInt8(ascii: "\"") else {
                            throw parser.error("expected a member name in quotes, found \(parser.describe(parser.bytes[parser.i]))")
                        }
                        let key = try parser.parseString()
                        try parser.expect(UInt8(ascii: ":"), "':' after a member name")
                        if let child = node.keys[key] {
                            seen.insert(key)
                            try visit(child, path: path + Self.member(key), depth: depth + 1)
                        } else {
                            try parser.skipValue(depth: depth + 1)
                        }
                        if try parser.endOfContainer(UInt8(ascii: "}")) { break }
                    }
                }
                for (key, child) in node.keys where child.onRecordsPath && !seen.contains(key) {
                    throw JSONPayloadError(shape: "the records are not where the mapping says: \(path) has no member '\(key)'")
                }
                return
            }
            if b == UInt8(ascii: "["), node.recordsRest != nil || !node.indexes.isEmpty {
                parser.i += 1
                var index = 0
                if try parser.peek() == UInt8(ascii: "]") {
                    parser.i += 1
                    return
                }
                while true {
                    if let rest = node.recordsRest {
                        parser.skipWhitespace()
                        let start = parser.i
                        let element = try parser.parseValue(depth: depth + 1)
                        emit(rest[...], element, latest: element, parents: [], raw: rest.isEmpty ? start..<parser.i : nil)
                        if let child = node.indexes[index] { try evaluate(child, element, path: path + "[\(index)]", raw: nil) }
                    } else if let child = node.indexes[index] {
                        try visit(child, path: path + "[\(index)]", depth: depth + 1)
                    } else {
                        try parser.skipValue(depth: depth + 1)
                    }
                    index += 1
                    if try parser.endOfContainer(UInt8(ascii: "]")) { break }
                }
                return
            }
            if node.onRecordsPath, b != UInt8(ascii: "n") {
                let kind = b == UInt8(ascii: "{") ? "an object" : b == UInt8(ascii: "[") ? "an array" : b == UInt8(ascii: "\"") ? "a string" : "a scalar"
                let expected = node.recordsRest != nil ? "an array" : "an object"
                throw JSONPayloadError(shape: "the records are not where the mapping says: \(path) is \(kind), expected \(expected)")
            }
            // null on the records path: no records (see checkNull). Anything else here is not wanted.
            if b == UInt8(ascii: "n") { try checkNull(node, path: path) }
            try parser.skipValue(depth: depth)
        }

        /// The same as `visit`, on a value already built.
        mutating func evaluate(_ node: Node, _ value: JSONValue, path: String, raw: Range<Int>?) throws {
            for id in node.captureIDs { page.captures[captures[id]] = value }
            if case .null = value {
                try checkNull(node, path: path)
                return
            }
            if node.singleRecord {
                page.records.append(JSONRecord(value: value, parents: [], byteRange: raw))
            }
            for (key, child) in node.keys {
                guard let v = value[key: key] else {
                    if child.onRecordsPath {
                        let found = value.kind == "an object" ? "has no member '\(key)'" : "is \(value.kind), expected an object"
                        throw JSONPayloadError(shape: "the records are not where the mapping says: \(path) \(found)")
                    }
                    continue
                }
                try evaluate(child, v, path: path + Self.member(key), raw: nil)
            }
            for (index, child) in node.indexes {
                guard let v = value[index: index] else { continue }
                try evaluate(child, v, path: path + "[\(index)]", raw: nil)
            }
            if let rest = node.recordsRest {
                guard case .array(let items) = value else {
                    throw JSONPayloadError(shape: "the records are not where the mapping says: \(path) is \(value.kind), expected an array")
                }
                for item in items { emit(rest[...], item, latest: item, parents: [], raw: nil) }
            }
        }

        /// Follows the rest of the records path below one element; each further `[*]` makes the
        /// element it is in the parent of the records below it.
        mutating func emit(
            _ rest: ArraySlice<JSONPath.Segment>, _ value: JSONValue, latest: JSONValue, parents: [JSONValue], raw: Range<Int>?
        ) {
            guard let segment = rest.first else {
                page.records.append(JSONRecord(value: value, parents: parents, byteRange: raw))
                return
            }
            switch segment {
            case .key(let k):
                if let v = value[key: k] { emit(rest.dropFirst(), v, latest: latest, parents: parents, raw: nil) }
            case .index(let i):
                if let v = value[index: i] { emit(rest.dropFirst(), v, latest: latest, parents: parents, raw: nil) }
            case .wildcard:
                guard case .array(let items) = value else { return }
                for item in items { emit(rest.dropFirst(), item, latest: item, parents: parents + [latest], raw: nil) }
            }
        }

        static func member(_ key: String) -> String {
            key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? "." + key : "['" + key + "']"
        }
    }
}

extension JSONValue {
    /// The value at a path without `[*]` below this value, nil where it does not exist. No
    /// intermediate arrays: this is the per-field lookup of every record.
    public func value(at segments: [JSONPath.Segment], from start: Int = 0) -> JSONValue? {
        var current = self
        var i = start
        while i < segments.count {
            switch segments[i] {
            case .key(let k):
                guard let next = current[key: k] else { return nil }
                current = next
            case .index(let n):
                guard let next = current[index: n] else { return nil }
                current = next
            case .wildcard:
                return nil
            }
            i += 1
        }
        return current
    }

    /// The values at a path below this value; `[*]` yields every element.
    public func values(at segments: ArraySlice<JSONPath.Segment>) -> [JSONValue] {
        guard let segment = segments.first else { return [self] }
        switch segment {
        case .key(let k): return self[key: k]?.values(at: segments.dropFirst()) ?? []
        case .index(let i): return self[index: i]?.values(at: segments.dropFirst()) ?? []
        case .wildcard:
            guard case .array(let items) = self else { return [] }
            return items.flatMap { $0.values(at: segments.dropFirst()) }
        }
    }
}
