/// An element or attribute name with its namespace: what a namespace-aware path compares, whatever
/// prefix a document happens to use (`soap:Body`, `SOAP-ENV:Body` and `env:Body` are one name).
public struct XMLName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace URI; empty for none.
    public var namespace: String
    public var local: String

    public init(_ namespace: String, _ local: String) {
        self.namespace = namespace
        self.local = local
    }

    public var description: String { namespace.isEmpty ? local : "{\(namespace)}\(local)" }
}

/// A path of elements, optionally ending in an attribute, written with prefixes that the mapping
/// binds to namespace URIs: `soap:Envelope/soap:Body/star:ShowVehicleInventory`, `star:Price/@currencyID`,
/// `@releaseID`. A leading `/` anchors it at the document root (records paths); otherwise it is
/// relative to the record element. An unprefixed element name has no namespace, unless the bindings
/// give a default one under the prefix `""`; an unprefixed attribute never has one (as in XML).
public struct XMLPath: Sendable, Hashable, CustomStringConvertible {
    public var absolute: Bool
    public var steps: [XMLName]
    public var attribute: XMLName?
    public let text: String

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    public var description: String { text }

    public init(_ text: String, namespaces: [String: String]) throws(ParseError) {
        self.text = text
        var rest = Substring(text)
        absolute = rest.hasPrefix("/")
        if absolute { rest = rest.dropFirst() }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, !(parts.count == 1 && parts[0].isEmpty) else { throw ParseError(description: "empty XML path '\(text)'") }
        var steps: [XMLName] = []
        var attribute: XMLName?
        for (i, part) in parts.enumerated() {
            guard !part.isEmpty else { throw ParseError(description: "empty step in XML path '\(text)'") }
            if part.hasPrefix("@") {
                guard i == parts.count - 1 else { throw ParseError(description: "an attribute ends an XML path: '\(text)'") }
                attribute = try Self.name(part.dropFirst(), in: text, namespaces: namespaces, isAttribute: true)
            } else {
                steps.append(try Self.name(part, in: text, namespaces: namespaces, isAttribute: false))
            }
        }
        if absolute && steps.isEmpty { throw ParseError(description: "a records path names elements: '\(text)'") }
        self.steps = steps
        self.attribute = attribute
    }

    /// A path from its names; its text writes them in Clark notation (`/{uri}Envelope/{uri}Body`).
    public init(absolute: Bool, steps: [XMLName], attribute: XMLName? = nil) {
        self.absolute = absolute
        self.steps = steps
        self.attribute = attribute
        text = (absolute ? "/" : "") + (steps.map(\.description) + (attribute.map { ["@" + $0.description] } ?? [])).joined(separator: "/")
    }

    static func name(_ part: Substring, in text: String, namespaces: [String: String], isAttribute: Bool) throws(ParseError) -> XMLName {
        let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count <= 2, pieces.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isNameCharacter) }) else {
            throw ParseError(description: "invalid name '\(part)' in XML path '\(text)'")
        }
        if pieces.count == 1 {
            return XMLName(isAttribute ? "" : namespaces[""] ?? "", String(pieces[0]))
        }
        guard let uri = namespaces[String(pieces[0])] else {
            let known = namespaces.keys.filter { !$0.isEmpty }.sorted()
            throw ParseError(
                description: "unknown namespace prefix '\(pieces[0])' in XML path '\(text)'"
                    + (known.isEmpty ? "; the mapping binds none (source: namespaces:)" : "; bound: \(known.joined(separator: ", "))"))
        }
        return XMLName(uri, String(pieces[1]))
    }

    public static func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." }
}
