import Foundation
import OEMSyncCore

#if canImport(FoundationXML)
import FoundationXML
#endif

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
/// Parsing goes through libxml2 (FoundationXML's `XMLParser`) with external entities never
/// resolved, fed by ``GuardedXMLStream``, which refuses any DTD before the parser sees it: no file
/// is read and no URL fetched, whatever the payload says. Memory holds the record being read and
/// a fixed buffer, whatever the payload's size.
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
        public var bytes = 0
    }

    public let records: XMLPath
    public let fields: [Field]
    public let captures: [XMLPath]

    public init(records: XMLPath, fields: [Field], captures: [XMLPath] = []) {
        self.records = records
        self.fields = fields
        self.captures = captures
    }

    public static let soap11 = "http://schemas.xmlsoap.org/soap/envelope/"
    public static let soap12 = "http://www.w3.org/2003/05/soap-envelope"

    /// Reads the file at `path`, calling `record` for each record in document order.
    public func read(file path: String, maxBytes: Int = 1 << 40, record: (RawRecord) -> Void) throws(XMLPayloadError) -> Result {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw XMLPayloadError(.unreadable, "cannot open the XML payload '\(path)'", line: nil)
        }
        defer { try? handle.close() }
        return try read(GuardedXMLStream(source: .file(handle), maxBytes: maxBytes), record: record)
    }

    /// Reads a payload held in memory.
    public func read(_ bytes: [UInt8], maxBytes: Int = 1 << 40, record: (RawRecord) -> Void) throws(XMLPayloadError) -> Result {
        try read(GuardedXMLStream(source: .bytes(bytes), maxBytes: maxBytes), record: record)
    }

    private func read(_ stream: GuardedXMLStream, record: (RawRecord) -> Void) throws(XMLPayloadError) -> Result {
        let parser = XMLParser(stream: stream)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.externalEntityResolvingPolicy = .never
        return try withoutActuallyEscaping(record) { sink throws(XMLPayloadError) in
            let collector = Collector(reader: self, parser: parser, sink: sink)
            parser.delegate = collector
            let ok = parser.parse()
            if let refusal = stream.refusal { throw refusal }
            if let problem = collector.problem { throw problem }
            if !ok {
                let message = (parser.parserError as NSError?).map { Collector.describe($0) } ?? "the XML payload is not well-formed"
                throw XMLPayloadError(.malformed, message, line: collector.errorLine ?? parser.lineNumber)
            }
            // libxml2 is fed chunk by chunk and never told the input ended: an unclosed root is found here.
            if let open = collector.stack.last {
                throw XMLPayloadError(
                    .truncated, "the XML payload ends inside <\(open.qualified)> (\(collector.stack.count) element\(collector.stack.count == 1 ? "" : "s") still open)",
                    line: parser.lineNumber)
            }
            if collector.sawRoot == false { throw XMLPayloadError(.truncated, "the XML payload has no root element", line: nil) }
            var result = collector.result
            result.bytes = stream.bytesRead
            return result
        }
    }
}

/// The fields of a record as a tree of element names below the record element: the field paths
/// are walked once per element, by a dictionary lookup, whatever the number of fields.
private final class FieldNode {
    var children: [XMLName: FieldNode] = [:]
    /// Fields whose path ends at this element (its text).
    var fields: [Int] = []
    /// Fields reading an attribute of this element.
    var attributes: [(name: XMLName, field: Int)] = []

    init(_ fields: [XMLRecordReader.Field]) {
        for (i, f) in fields.enumerated() where !f.path.absolute {
            var node = self
            for step in f.path.steps {
                if let next = node.children[step] {
                    node = next
                } else {
                    let next = FieldNode([])
                    node.children[step] = next
                    node = next
                }
            }
            if let attr = f.path.attribute { node.attributes.append((attr, i)) } else { node.fields.append(i) }
        }
    }
}

/// The SAX side: keeps the open elements, and while inside a record, the text of the fields it reads.
private final class Collector: NSObject, XMLParserDelegate {
    struct Open {
        var name: XMLName
        var qualified: String
    }

    let reader: XMLRecordReader
    let parser: XMLParser
    let sink: (RawRecord) -> Void
    let tree: FieldNode
    var stack: [Open] = []
    var result = XMLRecordReader.Result()
    var problem: XMLPayloadError?
    var errorLine: Int?
    var sawRoot = false
    /// How many leading steps of the records path the open elements match.
    var matched = 0

    /// Inside a record: its depth in `stack`, its line, each field's values so far, and per open
    /// element below it, its node in the field tree (nil: no field below).
    var recordDepth: Int?
    var recordLine = 0
    var values: [[String]] = []
    var nodes: [FieldNode?] = []
    /// Text being collected, per field, for open elements that a field reads.
    var collecting: [(depth: Int, field: Int, text: String)] = []
    /// Captures and the fault, collected outside records.
    var captureText: [(depth: Int, path: XMLPath, text: String)] = []
    var faultDepth: Int?
    var faultCode = ""
    var faultReason = ""
    var faultPart: (depth: Int, kind: String, text: String)?

    init(reader: XMLRecordReader, parser: XMLParser, sink: @escaping (RawRecord) -> Void) {
        self.reader = reader
        self.parser = parser
        self.sink = sink
        tree = FieldNode(reader.fields)
    }

    func fail(_ error: XMLPayloadError) {
        problem = problem ?? error
        parser.abortParsing()
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?, attributes: [String: String]) {
        let name = XMLName(namespaceURI ?? "", elementName)
        if stack.isEmpty {
            sawRoot = true
            if let first = reader.records.steps.first, first != name {
                fail(XMLPayloadError(
                    .unexpectedRoot, "the XML payload's root element is \(name), but the records path '\(reader.records)' starts at \(first)", line: parser.lineNumber))
                return
            }
        }
        stack.append(Collector.Open(name: name, qualified: qName ?? elementName))
        let depth = stack.count

        if recordDepth != nil {
            // Below the record: follow the field tree.
            let node = nodes.last!.flatMap { $0.children[name] }
            nodes.append(node)
            guard let node else { return }
            for i in node.fields { collecting.append((depth, i, "")) }
            for (attr, i) in node.attributes {
                if let v = Self.attribute(attr, in: attributes) { values[i].append(v) }
            }
            return
        }

        let steps = reader.records.steps
        if matched == depth - 1, matched < steps.count, steps[matched] == name { matched = depth }
        if matched == steps.count, depth == steps.count {
            recordDepth = depth
            recordLine = parser.lineNumber
            values = Array(repeating: [], count: reader.fields.count)
            nodes = [tree]
            for (attr, i) in tree.attributes {
                if let v = Self.attribute(attr, in: attributes) { values[i].append(v) }
            }
            return
        }
        // Outside records (the envelope, the ApplicationArea): captures and a Fault.
        if !reader.captures.isEmpty {
            let path = stack.map(\.name)
            for c in reader.captures where c.steps == path && result.captures[c] == nil {
                if let attr = c.attribute {
                    if let v = Self.attribute(attr, in: attributes) { result.captures[c] = v }
                } else {
                    captureText.append((depth, c, ""))
                }
            }
        }
        if depth == 3, name.local == "Fault", name.namespace == XMLRecordReader.soap11 || name.namespace == XMLRecordReader.soap12,
            stack[1].name == XMLName(name.namespace, "Body")
        {
            faultDepth = depth
        }
        if let f = faultDepth, depth > f {
            let local = name.local
            // 1.1: faultcode, faultstring; 1.2: Code/Value, Reason/Text.
            if (depth == f + 1 && (local == "faultcode" || local == "faultstring")) || (depth == f + 2 && (local == "Value" || local == "Text")) {
                if local == "Value" && stack[f].name.local != "Code" { return }
                faultPart = (depth, local, "")
            }
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text(string) }

    func parser(_ parser: XMLParser, foundCDATA block: Data) { text(String(decoding: block, as: UTF8.self)) }

    func text(_ s: String) {
        for k in collecting.indices { collecting[k].text += s }
        for k in captureText.indices { captureText[k].text += s }
        if faultPart != nil { faultPart!.text += s }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        let depth = stack.count
        while let last = collecting.last, last.depth == depth {
            collecting.removeLast()
            values[last.field].append(Self.trimmed(last.text))
        }
        if let k = captureText.lastIndex(where: { $0.depth == depth }) {
            let c = captureText.remove(at: k)
            result.captures[c.path] = Self.trimmed(c.text)
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
            let local = faultCode.split(separator: ":").last.map(String.init) ?? faultCode
            result.fault = XMLRecordReader.Fault(code: faultCode, reason: faultReason, isClientFault: local == "Client" || local == "Sender")
            faultDepth = nil
        }
        if let start = recordDepth {
            if depth == start {
                let fields = zip(reader.fields, values).map { f, v in v.count == 1 ? v[0] : v.joined(separator: f.join) }
                sink(RawRecord(line: recordLine, fields: fields))
                result.records += 1
                recordDepth = nil
                nodes.removeAll(keepingCapacity: true)
            } else {
                nodes.removeLast()
            }
        }
        if matched == depth { matched = depth - 1 }
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if errorLine == nil { errorLine = parser.lineNumber }
    }

    /// The text without the white space XML puts around values (spaces, tabs, line breaks). Most
    /// values have none: they come back as they are, without a copy.
    static func trimmed(_ s: String) -> String {
        func isSpace(_ u: UInt8) -> Bool { u == 0x20 || u == 0x09 || u == 0x0A || u == 0x0D }
        let utf8 = s.utf8
        guard let first = utf8.first, let last = utf8.last, isSpace(first) || isSpace(last) else { return s }
        guard let start = utf8.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = utf8.lastIndex(where: { !isSpace($0) })!
        return String(s[start...end])
    }

    static func attribute(_ name: XMLName, in attributes: [String: String]) -> String? {
        // Unprefixed attributes carry no namespace; prefixed ones come as `prefix:name` from XMLParser.
        if name.namespace.isEmpty { return attributes[name.local] }
        return attributes.first { $0.key.hasSuffix(":" + name.local) }?.value
    }

    static func describe(_ error: NSError) -> String {
        if let message = error.userInfo[NSLocalizedDescriptionKey] as? String, !message.isEmpty { return message }
        return "the XML payload is not well-formed (libxml2 error \(error.code))"
    }
}
