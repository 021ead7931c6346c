import CLibXML2
import Foundation
import OEMSyncCore

/// Why an XML payload could not be read: with the line where the problem is, when known.
public struct XMLPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A DOCTYPE or entity declaration: refused before parsing it.
        case forbiddenDTD
        /// Not well-formed XML (libxml2's message).
        case malformed
        /// The document ends before its root element closes.
        case truncated
        /// The root element is not the one the records path starts with (another namespace, another document).
        case unexpectedRoot
        case tooLarge
        case unreadable
        /// The caller asked the reader to stop (its record callback answered false).
        case stopped
    }

    public var kind: Kind
    public var message: String
    public var line: Int?

    public init(_ kind: Kind, _ message: String, line: Int?) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Streams an XML payload into raw records: one per element at the records path, with one field
/// per path the mapping reads, relative to the record. Namespace-aware: names are compared by
/// namespace URI and local name, never by prefix.
///
/// - A field path matching nothing gives an empty field (missing); matching several elements (a
///   repeated element), their values joined by the field's separator. An element's value is its
///   text and CDATA, trimmed of surrounding white space; an attribute's, its value.
/// - Captures are absolute paths read once per payload (the BODID, a continuation element).
/// - A SOAP 1.1 or 1.2 Fault in the Body is reported as ``Result/fault``, with its code and reason.
///
/// Parsing goes through libxml2's SAX2 push parser, fed 128 KiB at a time, without `XML_PARSE_NOENT`
/// or `XML_PARSE_DTDLOAD` and with `XML_PARSE_NONET`; before each chunk reaches it, ``PrologGuard``
/// refuses any DTD: no file is read and no URL fetched, whatever the payload says. Names are
/// compared by the pointers libxml2 interns them under, and text is kept as bytes until a field
/// ends, so an element costs no allocation unless a field reads it. Memory holds the record being
/// read and one chunk, whatever the payload's size.
public struct XMLRecordReader: Sendable {
    public struct Field: Sendable, Hashable {
        public var path: XMLPath
        public var join: String

        public init(path: XMLPath, join: String = ",") {
            self.path = path
            self.join = join
        }
    }

    /// A SOAP Fault: the code (`soap:Server`, `env:Receiver`, `STAR:Invalid Structure`) and the reason text.
    public struct Fault: Sendable, Hashable {
        public var code: String
        public var reason: String
        /// SOAP 1.1 `Client` or 1.2 `Sender`: the request is wrong, and sending it again will not help.
        public var isClientFault: Bool

        public init(code: String, reason: String, isClientFault: Bool) {
            self.code = code
            self.reason = reason
            self.isClientFault = isClientFault
        }
    }

    public struct Result: Sendable {
        /// Records delivered to the callback.
        public var records = 0
        /// The text at each capture path (the first occurrence).
        public var captures: [XMLPath: String] = [:]
        public var fault: Fault?
        /// The first element inside a SOAP Body (the business document, a Fault), when the root is an Envelope.
        public var bodyElement: XMLName?
        public var bytes = 0
    }

    public let records: XMLPath
    public let fields: [Field]
    public let captures: [XMLPath]

    public init(records: XMLPath, fields: [Field], captures: [XMLPath] = []) {
        self.records = records
        self.fields = fields
        // One capture per place: two spellings of one path (other prefixes, same namespace) are one.
        var unique: [XMLPath] = []
        for c in captures where !unique.contains(where: { $0.steps == c.steps && $0.attribute == c.attribute }) { unique.append(c) }
        self.captures = unique
    }

    public static let soap11 = "http://schemas.xmlsoap.org/soap/envelope/"
    public static let soap12 = "http://www.w3.org/2003/05/soap-envelope"

    /// Bytes handed to the parser at a time.
    static let chunkSize = 128 << 10

    /// Reads the file at `path`, calling `record` for each record in document order.
    public func read(file path: String, maxBytes: Int = 1 << 40, record: (RawRecord) -> Void) throws(XMLPayloadError) -> Result {
        try readRecords(file: path, maxBytes: maxBytes, while: { r in
            record(r)
            return true
        })
    }

    /// Reads the file at `path` while `record` answers true; false stops the parse at once with a
    /// ``XMLPayloadError/Kind/stopped`` error.
    public func readRecords(file path: String, maxBytes: Int = 1 << 40, while record: (RawRecord) -> Bool) throws(XMLPayloadError) -> Result {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw XMLPayloadError(.unreadable, "cannot open the XML payload '\(path)'", line: nil)
        }
        defer { try? handle.close() }
        var readError: (any Error)?
        do {
            return try parse(maxBytes: maxBytes, record: record) {
                do {
                    guard let data = try handle.read(upToCount: Self.chunkSize), !data.isEmpty else { return nil }
                    return [UInt8](data)
                } catch {
                    readError = error
                    return nil
                }
            }
        } catch {
            if let readError { throw XMLPayloadError(.unreadable, "cannot read the XML payload '\(path)': \(readError)", line: nil) }
            throw error
        }
    }

    /// Reads a payload held in memory.
    public func read(_ bytes: [UInt8], maxBytes: Int = 1 << 40, record: (RawRecord) -> Void) throws(XMLPayloadError) -> Result {
        var offset = 0
        return try parse(maxBytes: maxBytes, record: { r in
            record(r)
            return true
        }) {
            guard offset < bytes.count else { return nil }
            let end = min(bytes.count, offset + Self.chunkSize)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }

    /// libxml2's global set-up, once, before any thread parses (its documentation asks for it).
    private static let libxml2Ready: Bool = {
        xmlInitParser()
        return true
    }()

    private func parse(maxBytes: Int, record: (RawRecord) -> Bool, next: () -> [UInt8]?) throws(XMLPayloadError) -> Result {
        _ = Self.libxml2Ready
        return try withoutActuallyEscaping(record) { sink throws(XMLPayloadError) in
            let collector = Collector(reader: self, sink: sink)
            var handler = Collector.handler()
            var prolog = PrologGuard()
            var context: xmlParserCtxtPtr?
            defer {
                if let context {
                    // A document libxml2 started for declarations (none should get this far) is not the context's to free.
                    if let doc = context.pointee.myDoc { xmlFreeDoc(doc) }
                    xmlFreeParserCtxt(context)
                }
            }
            var bytes = 0
            func failure(_ context: xmlParserCtxtPtr) -> XMLPayloadError {
                if let problem = collector.problem { return problem }
                let error = xmlCtxtGetLastError(context)
                let message = error?.pointee.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "not well-formed"
                let line = error.map { Int($0.pointee.line) }
                if !collector.stack.isEmpty, error?.pointee.code == Int32(XML_ERR_TAG_NOT_FINISHED.rawValue) || error?.pointee.code == Int32(XML_ERR_DOCUMENT_END.rawValue) {
                    let open = context.pointee.name.map { "<\(String(cString: $0))>" } ?? "an element"
                    return XMLPayloadError(.truncated, "the XML payload ends inside \(open), \(collector.stack.count) elements deep (\(message))", line: line)
                }
                return XMLPayloadError(.malformed, message, line: line)
            }
            while let chunk = next() {
                if bytes + chunk.count > maxBytes {
                    throw XMLPayloadError(.tooLarge, "the XML payload is larger than \(maxBytes) bytes (max_response_bytes)", line: nil)
                }
                if !prolog.done, let refusal = prolog.scan(chunk, at: bytes) { throw refusal }
                bytes += chunk.count
                let rc: Int32 = chunk.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { p in
                        if let context { return xmlParseChunk(context, p, Int32(buffer.count), 0) }
                        // The first bytes tell the encoding; the parser's options come before the rest.
                        let head = min(4, buffer.count)
                        guard let created = xmlCreatePushParserCtxt(&handler, Unmanaged.passUnretained(collector).toOpaque(), p, Int32(head), nil) else {
                            return -1
                        }
                        context = created
                        collector.context = created
                        xmlCtxtUseOptions(created, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_NOBLANKS.rawValue))
                        return buffer.count > head ? xmlParseChunk(created, p + head, Int32(buffer.count - head), 0) : 0
                    }
                }
                guard let context else { throw XMLPayloadError(.unreadable, "libxml2 could not start parsing", line: nil) }
                if rc != 0 || collector.problem != nil { throw failure(context) }
            }
            guard let context else { throw XMLPayloadError(.truncated, "the XML payload is empty: it has no root element", line: nil) }
            if xmlParseChunk(context, nil, 0, 1) != 0 || collector.problem != nil {
                // At the end of the input, an open element or no root at all is a cut, whatever libxml2 calls it.
                if collector.problem == nil, !collector.stack.isEmpty || !collector.sawRoot {
                    let open = context.pointee.name.map { "<\(String(cString: $0))>" } ?? "an element"
                    throw XMLPayloadError(
                        .truncated, collector.sawRoot ? "the XML payload ends inside \(open), \(collector.stack.count) elements deep" : "the XML payload ends before its root element",
                        line: collector.line)
                }
                throw failure(context)
            }
            if !collector.stack.isEmpty {
                throw XMLPayloadError(.truncated, "the XML payload ends inside an element, \(collector.stack.count) deep", line: nil)
            }
            if !collector.sawRoot { throw XMLPayloadError(.truncated, "the XML payload has no root element", line: nil) }
            var result = collector.result
            result.bytes = bytes
            return result
        }
    }
}

/// The element names the paths use, numbered: the parser's names are turned into these numbers
/// once per distinct name, and everything after compares integers.
private struct NameTable {
    private(set) var ids: [XMLName: Int32] = [:]

    mutating func id(_ name: XMLName) -> Int32 {
        if let id = ids[name] { return id }
        let id = Int32(ids.count)
        ids[name] = id
        return id
    }

    /// The number of a document's name, or -1 for a name no path uses.
    func lookup(_ name: XMLName) -> Int32 { ids[name] ?? -1 }
}

/// The fields of a record as a tree of element names below the record element, held in one
/// array (node 0 is the record element): the field paths are walked once per element by a short
/// scan of a node's children, with no reference counting on the way.
private struct FieldTree {
    struct Node {
        /// (name number, node index) of the elements below this one that lead to a field.
        var children: [(name: Int32, node: Int32)] = []
        /// Fields whose path ends at this element (its text).
        var fields: [Int] = []
        /// Fields reading an attribute of this element.
        var attributes: [(name: XMLName, field: Int)] = []
    }

    var nodes = [Node()]

    init(_ fields: [XMLRecordReader.Field], names: inout NameTable) {
        for (i, f) in fields.enumerated() where !f.path.absolute {
            var node: Int32 = 0
            for step in f.path.steps {
                let id = names.id(step)
                if let next = child(of: node, id) {
                    node = next
                } else {
                    nodes.append(Node())
                    let next = Int32(nodes.count - 1)
                    nodes[Int(node)].children.append((id, next))
                    node = next
                }
            }
            if let attr = f.path.attribute { nodes[Int(node)].attributes.append((attr, i)) } else { nodes[Int(node)].fields.append(i) }
        }
    }

    /// The child of `node` for a name number; nil (-1 in a node stack) when no field goes there.
    func child(of node: Int32, _ name: Int32) -> Int32? {
        for c in nodes[Int(node)].children where c.name == name { return c.node }
        return nil
    }
}

/// The SAX side: keeps the open elements (by number), and while inside a record, the text of the
/// fields it reads. The hot properties skip Swift's run-time exclusivity checks: the parser calls
/// back on one thread, one callback at a time.
private final class Collector {
    let reader: XMLRecordReader
    let sink: (RawRecord) -> Bool
    let tree: FieldTree
    let recordSteps: [Int32]
    let captureSteps: [[Int32]]
    var context: xmlParserCtxtPtr?
    var result = XMLRecordReader.Result()
    var problem: XMLPayloadError?
    var sawRoot = false
    private var table = NameTable()

    @exclusivity(unchecked) var stack: [Int32] = []
    /// The open elements' names, kept only outside records (the envelope: captures, a Fault).
    @exclusivity(unchecked) var outer: [XMLName] = []
    /// How many leading steps of the records path the open elements match.
    @exclusivity(unchecked) var matched = 0
    /// Name numbers by the pointers libxml2 interns names under (its dictionary).
    @exclusivity(unchecked) var byPointer: [NamePointers: Int32] = [:]
    /// A direct-mapped cache in front of `byPointer`: libxml2 hands the same few pointers over and over.
    @exclusivity(unchecked) var recent = [(local: UInt, uri: UInt, id: Int32)](repeating: (0, 0, -1), count: 256)

    /// Inside a record: its depth in `stack`, its line, each field's values so far, and per open
    /// element below it, its node in the field tree (nil: no field below).
    @exclusivity(unchecked) var recordDepth: Int?
    @exclusivity(unchecked) var recordLine = 0
    /// Each field's value so far, and whether it has one (a repeated element's values are joined).
    @exclusivity(unchecked) var values: [String] = []
    @exclusivity(unchecked) var filled: [Bool] = []
    /// Per open element below the record, its node in the field tree (-1: no field below).
    @exclusivity(unchecked) var nodes: [Int32] = []
    /// Text being collected (bytes), per field, for open elements that a field reads.
    @exclusivity(unchecked) var collecting: [(depth: Int, field: Int, text: [UInt8])] = []
    /// Captures and the fault, collected outside records.
    @exclusivity(unchecked) var captureText: [(depth: Int, capture: Int, text: [UInt8])] = []
    @exclusivity(unchecked) var faultDepth: Int?
    var faultCode = ""
    var faultReason = ""
    @exclusivity(unchecked) var faultPart: (depth: Int, kind: String, text: [UInt8])?

    struct NamePointers: Hashable {
        var local: UInt
        var uri: UInt
    }

    init(reader: XMLRecordReader, sink: @escaping (RawRecord) -> Bool) {
        self.reader = reader
        self.sink = sink
        var table = NameTable()
        recordSteps = reader.records.steps.map { table.id($0) }
        captureSteps = reader.captures.map { $0.steps.map { table.id($0) } }
        tree = FieldTree(reader.fields, names: &table)
        self.table = table
    }

    static func from(_ ctx: UnsafeMutableRawPointer?) -> Collector { Unmanaged<Collector>.fromOpaque(ctx!).takeUnretainedValue() }

    /// The SAX2 callbacks: elements, text (CDATA merged into it), nothing else. No entity or DTD callback
    /// is set: with the prolog guard there is no declaration to report.
    static func handler() -> xmlSAXHandler {
        var h = xmlSAXHandler()
        h.initialized = XML_SAX2_MAGIC
        h.startElementNs = { ctx, local, _, uri, _, _, count, _, attributes in
            Collector.from(ctx).start(local: local!, uri: uri, attributes: attributes, count: Int(count))
        }
        h.endElementNs = { ctx, _, _, _ in Collector.from(ctx).end() }
        h.characters = { ctx, text, length in Collector.from(ctx).text(text, Int(length)) }
        h.cdataBlock = { ctx, text, length in Collector.from(ctx).text(text, Int(length)) }
        // A second line of defence behind the prolog guard, for encodings it does not read (UTF-16,
        // UCS-4, EBCDIC): libxml2 reports a DOCTYPE here before it reads the declarations in it.
        h.internalSubset = { ctx, _, _, _ in
            Collector.from(ctx).fail(
                XMLPayloadError(.forbiddenDTD, "the XML payload declares a document type; DTDs and entity declarations are refused (XXE, entity expansion)", line: nil))
        }
        // Every error comes here instead of libxml2's stderr; a namespace error (a prefix the
        // document never binds) is not fatal to libxml2, but would make names mean nothing.
        h.serror = { ctx, error in
            guard let ctx, let error else { return }
            let collector = Collector.from(ctx)
            if error.pointee.domain == Int32(XML_FROM_NAMESPACE.rawValue), error.pointee.level != XML_ERR_WARNING {
                let message = error.pointee.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "namespace error"
                collector.fail(XMLPayloadError(.malformed, message, line: Int(error.pointee.line)))
            }
        }
        return h
    }

    var line: Int { context.map { Int(xmlSAX2GetLineNumber(UnsafeMutableRawPointer($0))) } ?? 0 }

    func fail(_ error: XMLPayloadError) {
        problem = problem ?? error
        if let context { xmlStopParser(context) }
    }

    static func name(_ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?) -> XMLName {
        XMLName(uri.map { String(cString: $0) } ?? "", String(cString: local))
    }

    /// The number of a name, looked up by its pointers first.
    func id(_ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?) -> Int32 {
        let l = UInt(bitPattern: local)
        let u = UInt(bitPattern: uri)
        let slot = Int((l >> 3 ^ u >> 5) & 255)
        let hit = recent[slot]
        if hit.local == l, hit.uri == u { return hit.id }
        let key = NamePointers(local: l, uri: u)
        if let known = byPointer[key] {
            recent[slot] = (l, u, known)
            return known
        }
        let id = table.lookup(Self.name(local, uri))
        if byPointer.count > 10_000 { byPointer.removeAll() }  // more distinct names than a document has: keep the cache bounded
        byPointer[key] = id
        recent[slot] = (l, u, id)
        return id
    }

    /// An attribute's value among SAX2's five pointers per attribute (local, prefix, URI, value start, value end).
    func attribute(_ wanted: XMLName, in attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, count: Int) -> String? {
        guard let attributes else { return nil }
        for i in 0..<count {
            let base = i * 5
            guard let local = attributes[base], let start = attributes[base + 3], let end = attributes[base + 4] else { continue }
            let uri = attributes[base + 2].map { String(cString: $0) } ?? ""
            guard uri == wanted.namespace, String(cString: local) == wanted.local else { continue }
            let value = String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
            // Without entity substitution libxml2 hands `&amp;` in an attribute over as `&#38;`, and
            // every literal `&` that way: turning them back gives the value exactly.
            return value.contains("&#38;") ? value.replacingOccurrences(of: "&#38;", with: "&") : value
        }
        return nil
    }

    func start(local: UnsafePointer<xmlChar>, uri: UnsafePointer<xmlChar>?, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, count: Int) {
        let id = self.id(local, uri)
        if stack.isEmpty {
            sawRoot = true
            if let first = recordSteps.first, first != id {
                fail(XMLPayloadError(
                    .unexpectedRoot,
                    "the XML payload's root element is \(Self.name(local, uri)), but the records path '\(reader.records)' starts at \(reader.records.steps[0])",
                    line: line))
                return
            }
        }
        stack.append(id)
        let depth = stack.count

        if recordDepth != nil {
            // Below the record: follow the field tree.
            let parent = nodes[nodes.count - 1]
            let index = id < 0 || parent < 0 ? -1 : tree.child(of: parent, id) ?? -1
            nodes.append(index)
            guard index >= 0 else { return }
            let node = tree.nodes[Int(index)]
            for i in node.fields { collecting.append((depth, i, [])) }
            for (attr, i) in node.attributes {
                if let v = attribute(attr, in: attributes, count: count) { add(v, to: i) }
            }
            return
        }

        if matched == depth - 1, matched < recordSteps.count, recordSteps[matched] == id { matched = depth }
        if matched == recordSteps.count, depth == recordSteps.count {
            recordDepth = depth
            recordLine = line
            values = Array(repeating: "", count: reader.fields.count)
            filled = Array(repeating: false, count: reader.fields.count)
            nodes = [0]
            for (attr, i) in tree.nodes[0].attributes {
                if let v = attribute(attr, in: attributes, count: count) { add(v, to: i) }
            }
            return
        }
        // Outside records (the envelope, the ApplicationArea): captures and a Fault.
        let name = Self.name(local, uri)
        outer.append(name)
        for (k, steps) in captureSteps.enumerated() where steps == stack && result.captures[reader.captures[k]] == nil {
            if let attr = reader.captures[k].attribute {
                if let v = attribute(attr, in: attributes, count: count) { result.captures[reader.captures[k]] = v }
            } else {
                captureText.append((depth, k, []))
            }
        }
        if depth == 3, result.bodyElement == nil, outer[1].local == "Body", outer[0].local == "Envelope",
            outer[0].namespace == XMLRecordReader.soap11 || outer[0].namespace == XMLRecordReader.soap12
        {
            result.bodyElement = name
        }
        if depth == 3, name.local == "Fault", name.namespace == XMLRecordReader.soap11 || name.namespace == XMLRecordReader.soap12,
            outer[1] == XMLName(name.namespace, "Body")
        {
            faultDepth = depth
        }
        if let f = faultDepth, depth > f {
            let local = name.local
            // 1.1: faultcode, faultstring; 1.2: Code/Value, Reason/Text.
            if (depth == f + 1 && (local == "faultcode" || local == "faultstring")) || (depth == f + 2 && (local == "Value" || local == "Text")) {
                if local == "Value" && outer[f].local != "Code" { return }
                faultPart = (depth, local, [])
            }
        }
    }

    /// A field's value; a second one (a repeated element) is joined to the first.
    func add(_ value: String, to field: Int) {
        if filled[field] {
            values[field] += reader.fields[field].join + value
        } else {
            values[field] = value
            filled[field] = true
        }
    }

    func text(_ bytes: UnsafePointer<xmlChar>?, _ length: Int) {
        guard let bytes, length > 0, !collecting.isEmpty || !captureText.isEmpty || faultPart != nil else { return }
        let chunk = UnsafeBufferPointer(start: bytes, count: length)
        for k in collecting.indices { collecting[k].text.append(contentsOf: chunk) }
        for k in captureText.indices { captureText[k].text.append(contentsOf: chunk) }
        if faultPart != nil { faultPart!.text.append(contentsOf: chunk) }
    }

    func end() {
        let depth = stack.count
        while let last = collecting.last, last.depth == depth {
            collecting.removeLast()
            add(Self.trimmed(last.text), to: last.field)
        }
        if recordDepth == nil {
            while let k = captureText.lastIndex(where: { $0.depth == depth }) {
                let c = captureText.remove(at: k)
                result.captures[reader.captures[c.capture]] = Self.trimmed(c.text)
            }
            if let part = faultPart, part.depth == depth {
                let text = Self.trimmed(part.text)
                if part.kind == "faultcode" || part.kind == "Value" {
                    if faultCode.isEmpty { faultCode = text }
                } else if faultReason.isEmpty {
                    faultReason = text
                }
                faultPart = nil
            }
            if faultDepth == depth {
                // `soap:Client.Authentication`: the part before the first dot says whose fault it is.
                let local = (faultCode.split(separator: ":").last.map(String.init) ?? faultCode).split(separator: ".").first.map(String.init) ?? ""
                result.fault = XMLRecordReader.Fault(code: faultCode, reason: faultReason, isClientFault: local == "Client" || local == "Sender")
                faultDepth = nil
            }
            if !outer.isEmpty { outer.removeLast() }
        } else if let start = recordDepth {
            if depth == start {
                result.records += 1
                if !sink(RawRecord(line: recordLine, fields: values)) {
                    fail(XMLPayloadError(.stopped, "stopped by the reader's caller", line: recordLine))
                }
                recordDepth = nil
                nodes.removeAll(keepingCapacity: true)
            } else {
                nodes.removeLast()
            }
        }
        if matched == depth { matched = depth - 1 }
        stack.removeLast()
    }

    /// The text without the white space XML puts around values (spaces, tabs, line breaks).
    static func trimmed(_ bytes: [UInt8]) -> String {
        func isSpace(_ u: UInt8) -> Bool { u == 0x20 || u == 0x09 || u == 0x0A || u == 0x0D }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = bytes.lastIndex(where: { !isSpace($0) })!
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}
