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

/// The SAX side: keeps the open elements, and while inside a record, the text of the fields it reads.
private final class Collector: NSObject, XMLParserDelegate {
    struct Open {
        var name: XMLName
        var qualified: String
    }

    let reader: XMLRecordReader
    let parser: XMLParser
    let sink: (RawRecord) -> Void
    var stack: [Open] = []
    var result = XMLRecordReader.Result()
    var problem: XMLPayloadError?
    var errorLine: Int?
    var sawRoot = false

    /// Inside a record: its depth in `stack`, its line, each field's values so far.
    var recordDepth: Int?
    var recordLine = 0
    var values: [[String]] = []
    /// Text being collected, per field index, for elements currently open that a field matches.
    var collecting: [(depth: Int, field: Int, text: String)] = []
    /// Captures and the fault, collected outside records.
    var captureText: [(depth: Int, path: XMLPath, text: String)] = []
    var faultDepth: Int?
    var faultCode = ""
    var faultReason = ""
    var faultNamespace = ""
    var faultPart: (depth: Int, kind: String, text: String)?

    init(reader: XMLRecordReader, parser: XMLParser, sink: @escaping (RawRecord) -> Void) {
        self.reader = reader
        self.parser = parser
        self.sink = sink
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

        if let start = recordDepth {
            // A field's element (or one of its ancestors' paths) inside the record.
            let relative = stack[start...].map(\.name)
            for (i, f) in reader.fields.enumerated() where !f.path.absolute {
                guard f.path.steps.count == relative.count, f.path.steps == Array(relative) else { continue }
                if let attr = f.path.attribute {
                    if let v = Self.attribute(attr, in: attributes) { values[i].append(v) }
                } else {
                    collecting.append((depth, i, ""))
                }
            }
            return
        }

        let path = stack.map(\.name)
        if path == reader.records.steps {
            recordDepth = depth
            recordLine = parser.lineNumber
            values = Array(repeating: [], count: reader.fields.count)
            // Attributes of the record element itself (`@id`).
            for (i, f) in reader.fields.enumerated() where !f.path.absolute && f.path.steps.isEmpty {
                if let attr = f.path.attribute, let v = Self.attribute(attr, in: attributes) { values[i].append(v) }
            }
            return
        }
        for c in reader.captures where c.steps == path && result.captures[c] == nil {
            if let attr = c.attribute {
                if let v = Self.attribute(attr, in: attributes) { result.captures[c] = v }
            } else {
                captureText.append((depth, c, ""))
            }
        }
        // A Fault directly in the Body of a SOAP envelope.
        if depth == 3, name.local == "Fault", name.namespace == XMLRecordReader.soap11 || name.namespace == XMLRecordReader.soap12,
            stack[1].name == XMLName(name.namespace, "Body")
        {
            faultDepth = depth
            faultNamespace = name.namespace
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
        let depth = stack.count
        for k in collecting.indices where collecting[k].depth <= depth { collecting[k].text += s }
        for k in captureText.indices { captureText[k].text += s }
        if faultPart != nil { faultPart!.text += s }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        let depth = stack.count
        while let last = collecting.last, last.depth == depth {
            collecting.removeLast()
            values[last.field].append(last.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let k = captureText.lastIndex(where: { $0.depth == depth }) {
            let c = captureText.remove(at: k)
            result.captures[c.path] = c.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let part = faultPart, part.depth == depth {
            let text = part.text.trimmingCharacters(in: .whitespacesAndNewlines)
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
        if recordDepth == depth {
            let fields = zip(reader.fields, values).map { f, v in v.joined(separator: f.join) }
            sink(RawRecord(line: recordLine, fields: fields))
            result.records += 1
            recordDepth = nil
        }
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if errorLine == nil { errorLine = parser.lineNumber }
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
