import OEMSyncCore

/// Turns a JSON payload into raw records: one per match of the mapping's records path, with one
/// field per JSON path the mapping reads (in the order the bound mapping numbered them).
///
/// A path that matches nothing, or `null`, gives an empty field (which the mapping treats as
/// missing); a path with `[*]` gives every match joined by its separator; an object or array gives
/// its compact JSON text.
public struct JSONRecordReader: Sendable {
    /// A field the mapping reads: its path and, for `[*]` paths, the separator of the values.
    public struct Field: Sendable, Hashable {
        public var path: JSONPath
        public var join: String

        public init(path: JSONPath, join: String = ",") {
            self.path = path
            self.join = join
        }
    }

    /// One payload read: the records, and the values at the extra capture paths.
    public struct Page: Sendable {
        public var records: [RawRecord]
        /// Each record's exact JSON text range in the payload (nil for records nested below
        /// another `[*]`, whose text is rebuilt), parallel to `records`.
        public var rawRanges: [Range<Int>?]
        /// The records without a range, kept to rebuild their text (nil where the range is known).
        var nested: [JSONValue?]
        public var captures: [JSONPath: JSONValue]

        /// The JSON text of record `index` (0-based): what a reject stores for replay.
        public func rawText(_ index: Int, in payload: [UInt8]) -> String {
            if let range = rawRanges[index] { return String(decoding: payload[range], as: UTF8.self) }
            return nested[index]?.jsonText ?? "null"
        }
    }

    public let fields: [Field]
    let walker: JSONRecordWalker
    /// Root-anchored field paths: the part before any `[*]` is captured while reading.
    let rootPrefixes: [JSONPath]

    /// - Parameters:
    ///   - records: where the records are (from the document root).
    ///   - fields: the fields every record is read into.
    ///   - captures: further root paths wanted from each payload (a next cursor, an error code).
    /// - Parameter nullContainers: whether a `null` container on the records path (`"data": null`)
    ///   is zero records rather than an error (see ``JSONRecordWalker``).
    public init(records: JSONPath, fields: [Field], captures: [JSONPath] = [], nullContainers: Bool = false) {
        self.fields = fields
        var prefixes: [JSONPath] = []
        for f in fields where f.path.anchor == .root {
            let p = Self.prefix(f.path)
            if !prefixes.contains(p) { prefixes.append(p) }
        }
        rootPrefixes = prefixes
        var all = captures
        for p in prefixes where !all.contains(p) { all.append(p) }
        walker = JSONRecordWalker(records: records, captures: all, nullContainers: nullContainers)
    }

    /// The path up to (not including) its first `[*]`.
    static func prefix(_ path: JSONPath) -> JSONPath {
        guard let w = path.segments.firstIndex(of: .wildcard) else { return path }
        return JSONPath(anchor: .root, segments: Array(path.segments[..<w]), text: path.text)
    }

    /// Reads one payload. Records are numbered from `firstLine` (their `line`).
    public func read(_ payload: [UInt8], firstLine: Int = 1) throws(JSONPayloadError) -> Page {
        let found = try walker.walk(payload)
        var records: [RawRecord] = []
        records.reserveCapacity(found.records.count)
        for (n, record) in found.records.enumerated() {
            var values: [String] = []
            values.reserveCapacity(fields.count)
            for field in fields { values.append(text(of: field, in: record, captures: found.captures)) }
            // JSON may escape a NUL (\u0000); no database text column holds one, so such a record is
            // rejected with its reason rather than failing its whole page in the database.
            let problem = values.contains { $0.utf8.contains(0) }
                ? RecordProblem(code: "json.nul", message: "a field holds a NUL character (\\u0000), which a database text column cannot store")
                : nil
            records.append(RawRecord(line: firstLine + n, fields: values, problem: problem))
        }
        return Page(
            records: records, rawRanges: found.records.map(\.byteRange),
            nested: found.records.map { $0.byteRange == nil ? $0.value : nil }, captures: found.captures)
    }

    func text(of field: Field, in record: JSONRecord, captures: [JSONPath: JSONValue]) -> String {
        let path = field.path
        let base: JSONValue?
        var start = 0
        switch path.anchor {
        case .record: base = record.value
        case .parent(let levels):
            base = levels <= record.parents.count ? record.parents[record.parents.count - levels] : nil
        case .root:
            let p = Self.prefix(path)
            base = captures[p]
            start = p.segments.count
        }
        guard let base else { return "" }
        if !path.hasWildcard { return base.value(at: path.segments, from: start)?.fieldText ?? "" }
        return base.values(at: path.segments[start...]).compactMap(\.fieldText).filter { !$0.isEmpty }.joined(separator: field.join)
    }
}
